// Package ntag drives the NXP NTAG I2C plus (NT3H2111 1k, NT3H2211 2k), an
// NFC Forum Type 2 Tag with an I²C interface: a host writes an NDEF message
// over I²C and a phone tapping the tag reads it over NFC. On a smart plate
// the tag's field-detect (FD) pin tells the host that a phone is present.
//
// Datasheet: NXP NT3H2111_2211 product data sheet, "NTAG I2C plus: NFC Forum
// T2T with I2C interface, password protection and energy harvesting".
//
// # I²C memory map (datasheet: "I2C memory map")
//
// Memory is addressed in 16-byte blocks. A read is the 1-byte block address
// (MEMA) then, after a STOP, a 16-byte read; a write is MEMA followed by the
// 16 bytes. Each EEPROM block write takes about 4 ms, signalled by
// NS_REG.EEPROM_WR_BUSY; memory accesses during it are not acknowledged.
//
//	block 0x00       byte 0: I²C address (reads 04h, the NXP manufacturer ID;
//	                 WRITING IT CHANGES THE I²C ADDRESS to byte>>1), bytes 1..9
//	                 serial number, 10..11 static lock bytes, 12..15 the
//	                 capability container (E1 10 6D 00 for 1k, E1 10 EA 00 for 2k)
//	0x01..0x37/0x77  user memory (1k: 888 bytes up to half of 0x38; 2k: 1912
//	                 bytes up to half of 0x78); the NDEF TLV starts at block 1
//	0x38/0x78        rest: dynamic lock bytes, AUTH0; 0x39/0x79: ACCESS, PWD,
//	                 PACK, PT_I2C
//	0x3A/0x7A        configuration registers (loaded into the session
//	                 registers at power-on)
//	0xF8..0xFB       SRAM (64 bytes, pass-through / mirror)
//	0xFE             session registers, reached only with the register READ
//	                 (MEMA, REGA → 1 byte) and masked register WRITE (MEMA,
//	                 REGA, MASK, REGDAT) operations
//
// # The address trap
//
// Byte 0 of block 0 reads 04h but a write stores it as the new I²C address
// (8-bit form, 0xAA for 0x55). This package never writes block 0 except in
// WriteCapabilityContainer, which always writes Opts.Addr<<1 there.
//
// # Arbitration
//
// The tag's memory is held by one interface at a time (NS_REG RF_LOCKED /
// I2C_LOCKED). Every operation here first checks that the RF side does not
// hold the memory (waiting up to Opts.LockTimeout), and afterwards clears
// I2C_LOCKED so that a phone can read the tag at once instead of after the
// watchdog timer (WDT_LS/WDT_MS, ~20 ms by default).
package ntag
