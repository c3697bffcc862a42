// Package probe checks that each configured sensor is wired right before a
// technician leaves the store: its bus answers, the chip there is the one
// configured, and its lines sit where they should at rest.
//
// Per kind:
//
//   - tof-2zone, tof-presence (VL53L1X): an I²C address scan of the bus,
//     then IDENTIFICATION__MODEL_ID (0x010F), which reads 0xEACC.
//   - tof-presence with adc: mcp3008: all eight inputs converted; all 0 or
//     all 1023 is a floating or stuck MISO or no power, and the configured
//     input must carry the Sharp sensor's output.
//   - nfc-plate (NTAG I2C plus): block 0 byte 0 is 04h (NXP), the
//     capability container is NDEF-formatted, the driver identifies the
//     variant (1k, 2k).
//   - nfc-reader (PN532 on I²C or SPI): GetFirmwareVersion answers IC 0x32.
//   - beam-pair, pulse, pir: each line's level, sampled a few times at
//     rest: a beam blocked, a counter's output held active or a PIR seeing
//     motion with nobody there is a wiring, alignment or active_low fault.
//
// The checks reach the hardware through Hardware, so the same code probes
// the machine's buses (Host), the emulated chips a simulated sensor runs on
// (Emulate) and, in tests, periph's fakes. Recorder keeps the bus traffic
// as text for support.
package probe
