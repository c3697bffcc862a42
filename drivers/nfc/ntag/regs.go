package ntag

import (
	"fmt"
	"strings"
)

// Block addresses of the I²C memory map (datasheet: "I2C memory map").
const (
	blockSize = 16 // bytes per I²C block

	blockHeader  = 0x00 // I²C address byte, serial number, static lock, CC
	blockUser    = 0x01 // first block of user memory, where the NDEF TLV starts
	blockSession = 0xFE // session registers (register READ/WRITE only)

	blockConfig1k = 0x3A // configuration registers, NT3H2111
	blockConfig2k = 0x7A // configuration registers, NT3H2211

	// Full user blocks: the block after them holds the last 8 user bytes
	// followed by the dynamic lock bytes, which bulk writes must not touch.
	userFullBlocks1k = 0x37
	userFullBlocks2k = 0x77

	manufacturerNXP = 0x04 // what block 0 byte 0 reads as
)

// Register is a session register address (REGA) within block 0xFE
// (datasheet: "Session registers").
type Register byte

// Session registers, in datasheet order.
const (
	NC_REG            Register = 0x00 // NFC configuration
	LAST_NDEF_BLOCK   Register = 0x01 // block of the last NDEF byte, for NDEF_DATA_READ / FD
	SRAM_MIRROR_BLOCK Register = 0x02 // user block where SRAM is mirrored
	WDT_LS            Register = 0x03 // watchdog timer, low byte (×9.43 µs)
	WDT_MS            Register = 0x04 // watchdog timer, high byte
	I2C_CLOCK_STR     Register = 0x05 // I²C clock stretching on/off
	NS_REG            Register = 0x06 // NFC and I²C status
)

var registerNames = [...]string{"NC_REG", "LAST_NDEF_BLOCK", "SRAM_MIRROR_BLOCK", "WDT_LS", "WDT_MS", "I2C_CLOCK_STR", "NS_REG"}

func (r Register) String() string {
	if int(r) < len(registerNames) {
		return registerNames[r]
	}
	return fmt.Sprintf("REG(%#02x)", byte(r))
}

// NC_REG bits (datasheet table "NC_REG").
const (
	NFCS_I2C_RST_ON_OFF = 1 << 7 // NFC silence / I²C soft reset
	PTHRU_ON_OFF        = 1 << 6 // pass-through mode through SRAM
	FD_OFF_MASK         = 3 << 4 // FD_OFF: what releases the FD pin
	FD_ON_MASK          = 3 << 2 // FD_ON: what pulls the FD pin low
	SRAM_MIRROR_ON_OFF  = 1 << 1 // SRAM mirrored into user memory
	TRANSFER_DIR        = 1 << 0 // pass-through direction, 1 = RF to I²C

	// FD_OFF 00b: FD released when the field switches off.
	// FD_ON  00b: FD pulled low when the field switches on.
	// Together they make FD a plain "phone present" signal.
	fdFieldPresence = 0x00
)

// NS is the NS_REG status byte (datasheet table "NS_REG").
type NS byte

// NS_REG bits.
const (
	RF_FIELD_PRESENT NS = 1 << 0 // an NFC field is present
	EEPROM_WR_BUSY   NS = 1 << 1 // EEPROM write cycle in progress
	EEPROM_WR_ERR    NS = 1 << 2 // the last EEPROM write failed (HV error); write 0 to clear
	SRAM_RF_READY    NS = 1 << 3 // pass-through: data ready in SRAM for RF
	SRAM_I2C_READY   NS = 1 << 4 // pass-through: data ready in SRAM for I²C
	RF_LOCKED        NS = 1 << 5 // memory access is held by the RF interface
	I2C_LOCKED       NS = 1 << 6 // memory access is held by I²C; write 0 to release
	NDEF_DATA_READ   NS = 1 << 7 // RF read the block LAST_NDEF_BLOCK
)

var nsNames = [8]string{"RF_FIELD_PRESENT", "EEPROM_WR_BUSY", "EEPROM_WR_ERR", "SRAM_RF_READY", "SRAM_I2C_READY", "RF_LOCKED", "I2C_LOCKED", "NDEF_DATA_READ"}

func (n NS) String() string {
	if n == 0 {
		return "0"
	}
	var parts []string
	for i := range 8 {
		if n&(1<<i) != 0 {
			parts = append(parts, nsNames[i])
		}
	}
	return strings.Join(parts, "|")
}

// Variant is the chip of the NTAG I2C plus family.
type Variant int

// Variants. The zero value means "detect from the capability container".
const (
	Detect   Variant = iota
	NT3H2111         // 1k: 888 bytes of user memory
	NT3H2211         // 2k: 1912 bytes of user memory
)

func (v Variant) String() string {
	switch v {
	case NT3H2111:
		return "NT3H2111 (NTAG I2C plus 1k)"
	case NT3H2211:
		return "NT3H2211 (NTAG I2C plus 2k)"
	case Detect:
		return "detect"
	}
	return fmt.Sprintf("Variant(%d)", int(v))
}

// UserMemory is the size of the variant's user memory in bytes.
func (v Variant) UserMemory() int {
	switch v {
	case NT3H2111:
		return 888
	case NT3H2211:
		return 1912
	}
	return 0
}

// fullBlocks is how many whole 16-byte user blocks follow block 0.
func (v Variant) fullBlocks() int {
	if v == NT3H2211 {
		return userFullBlocks2k
	}
	return userFullBlocks1k
}

// ConfigBlock is the I²C block of the configuration registers.
func (v Variant) ConfigBlock() byte {
	if v == NT3H2211 {
		return blockConfig2k
	}
	return blockConfig1k
}

// CC is the NFC Forum Type 2 Tag capability container, block 0 bytes 12..15.
type CC [4]byte

// Factory capability containers (datasheet: "Capability Container").
var (
	CC1k = CC{0xE1, 0x10, 0x6D, 0x00}
	CC2k = CC{0xE1, 0x10, 0xEA, 0x00}
)

// Valid reports whether the CC carries the NDEF magic number E1h and a
// version 1.x mapping, as a phone requires before it reads an NDEF message.
func (c CC) Valid() bool { return c[0] == 0xE1 && c[1]>>4 == 1 }

// DataArea is the size of the NDEF data area it announces, in bytes.
func (c CC) DataArea() int { return int(c[2]) * 8 }

func (c CC) String() string {
	return fmt.Sprintf("%02X %02X %02X %02X", c[0], c[1], c[2], c[3])
}
