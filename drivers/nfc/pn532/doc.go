// Package pn532 drives the NXP PN532 NFC controller as a reader (initiator)
// over I²C or SPI.
//
// References:
//
//   - PN532 User Manual UM0701-02 (firmware V1.6): frame formats (§6.2.1),
//     I²C and SPI host interfaces (§6.2.4, §6.2.5), commands (§7).
//   - PN532/C1 product datasheet (PN532_C1 "Near Field Communication (NFC)
//     controller"), host interface timing and power modes.
//   - AN10609 "PN532 C106 application note": the chip starts in LowVBat mode
//     and leaves it on the first SAMConfiguration command.
//
// # Framing
//
// Every exchange is: the host writes an information frame (TFI 0xD4), the
// PN532 answers with an ACK frame (00 00 FF 00 FF 00) once it has accepted
// it, then with a response information frame (TFI 0xD5, command code + 1).
// A frame with a wrong checksum is not acknowledged, so the driver resends
// the command when no ACK comes; a corrupt response is asked again with a
// NACK frame (00 00 FF FF 00 00); the host aborts a running command with an
// ACK frame.
//
// # Transports
//
// I²C (address 0x24): every read starts with a status byte, bit 0 = ready.
// The driver polls it with 1-byte reads and reads a frame only once the
// status says ready: the Raspberry Pi's I²C controller mishandles clock
// stretching, which the PN532 uses while it is busy, so a long read must
// never be issued to a busy chip. An optional IRQ pin (P70_IRQ, active low)
// replaces polling.
//
// SPI (mode 0): the PN532 shifts bits LSB first, which the Raspberry Pi's
// spidev cannot do, so the driver reverses the bits of every byte itself.
// Each transfer starts with a prefix byte: DW 0x01 data write, SR 0x02
// status read (bit 0 = ready), DR 0x03 data read.
//
// # Privacy
//
// Target.String and the errors of this package never contain UIDs, IDm or
// APDU payloads: they identify people.
//
// Package pn532test holds an emulator of the chip, usable in tests and at
// runtime (the demo and the simulated store).
package pn532
