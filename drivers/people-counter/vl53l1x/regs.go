package vl53l1x

// Register indexes (16-bit, big-endian multi-byte values), named as in ST's
// VL53L1X register map used by the Ultra Lite Driver (STSW-IMG009, UM2510).
const (
	SOFT_RESET                                                  uint16 = 0x0000
	I2C_SLAVE__DEVICE_ADDRESS                                   uint16 = 0x0001
	VHV_CONFIG__TIMEOUT_MACROP_LOOP_BOUND                       uint16 = 0x0008
	VHV_CONFIG__INIT                                            uint16 = 0x000B
	ALGO__PART_TO_PART_RANGE_OFFSET_MM                          uint16 = 0x001E
	GPIO_HV_MUX__CTRL                                           uint16 = 0x0030
	GPIO__TIO_HV_STATUS                                         uint16 = 0x0031
	SYSTEM__INTERRUPT_CONFIG_GPIO                               uint16 = 0x0046
	PHASECAL_CONFIG__TIMEOUT_MACROP                             uint16 = 0x004B
	RANGE_CONFIG__TIMEOUT_MACROP_A_HI                           uint16 = 0x005E
	RANGE_CONFIG__VCSEL_PERIOD_A                                uint16 = 0x0060
	RANGE_CONFIG__TIMEOUT_MACROP_B_HI                           uint16 = 0x0061
	RANGE_CONFIG__VCSEL_PERIOD_B                                uint16 = 0x0063
	RANGE_CONFIG__SIGMA_THRESH                                  uint16 = 0x0064
	RANGE_CONFIG__MIN_COUNT_RATE_RTN_LIMIT_MCPS                 uint16 = 0x0066
	RANGE_CONFIG__VALID_PHASE_HIGH                              uint16 = 0x0069
	SYSTEM__INTERMEASUREMENT_PERIOD                             uint16 = 0x006C
	SYSTEM__THRESH_HIGH                                         uint16 = 0x0072
	SYSTEM__THRESH_LOW                                          uint16 = 0x0074
	SD_CONFIG__WOI_SD0                                          uint16 = 0x0078
	SD_CONFIG__INITIAL_PHASE_SD0                                uint16 = 0x007A
	ROI_CONFIG__USER_ROI_CENTRE_SPAD                            uint16 = 0x007F
	ROI_CONFIG__USER_ROI_REQUESTED_GLOBAL_XY_SIZE               uint16 = 0x0080
	SYSTEM__SEQUENCE_CONFIG                                     uint16 = 0x0081
	SYSTEM__GROUPED_PARAMETER_HOLD                              uint16 = 0x0082
	SYSTEM__INTERRUPT_CLEAR                                     uint16 = 0x0086
	SYSTEM__MODE_START                                          uint16 = 0x0087
	RESULT__RANGE_STATUS                                        uint16 = 0x0089
	RESULT__STREAM_COUNT                                        uint16 = 0x008B
	RESULT__DSS_ACTUAL_EFFECTIVE_SPADS_SD0                      uint16 = 0x008C
	RESULT__AMBIENT_COUNT_RATE_MCPS_SD0                         uint16 = 0x0090
	RESULT__FINAL_CROSSTALK_CORRECTED_RANGE_MM_SD0              uint16 = 0x0096
	RESULT__PEAK_SIGNAL_COUNT_RATE_CROSSTALK_CORRECTED_MCPS_SD0 uint16 = 0x0098
	RESULT__OSC_CALIBRATE_VAL                                   uint16 = 0x00DE
	FIRMWARE__SYSTEM_STATUS                                     uint16 = 0x00E5
	IDENTIFICATION__MODEL_ID                                    uint16 = 0x010F
	ROI_CONFIG__MODE_ROI_CENTRE_SPAD                            uint16 = 0x013E
)

// ModelID is what IDENTIFICATION__MODEL_ID (with MODULE_TYPE) reads on a
// VL53L1X.
const ModelID uint16 = 0xEACC

// DefaultAddr is the 7-bit I²C address of a VL53L1X after power-up.
const DefaultAddr uint16 = 0x29

// SYSTEM__MODE_START values used by the ULD.
const (
	modeStop  byte = 0x00
	modeTimed byte = 0x40 // autonomous ranging, one range per inter-measurement period
)

// defaultConfig is ST's VL51L1X_DEFAULT_CONFIGURATION: the values of registers
// 0x2D..0x87 loaded by VL53L1X_SensorInit (ULD). Comments name what the ULD
// says about the user-relevant bytes; the others are "not user-modifiable".
var defaultConfig = [0x87 - 0x2D + 1]byte{
	0x00,                                           // 0x2D: I2C fast mode plus off
	0x00,                                           // 0x2E: I2C pull-up at 1.8 V
	0x00,                                           // 0x2F: GPIO pull-up at 1.8 V
	0x01,                                           // 0x30 GPIO_HV_MUX__CTRL: bit 4 = 0, interrupt active high
	0x02,                                           // 0x31 GPIO__TIO_HV_STATUS
	0x00, 0x02, 0x08, 0x00, 0x08, 0x10, 0x01, 0x01, // 0x32..0x39
	0x00, 0x00, 0x00, 0x00, 0xFF, 0x00, 0x0F, 0x00, // 0x3A..0x41
	0x00, 0x00, 0x00, 0x00, // 0x42..0x45
	0x20,                               // 0x46 SYSTEM__INTERRUPT_CONFIG_GPIO: new sample ready
	0x0B, 0x00, 0x00, 0x02, 0x0A, 0x21, // 0x47..0x4C (0x4B phasecal: long mode)
	0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0xC8, // 0x4D..0x54
	0x00, 0x00, 0x38, 0xFF, 0x01, 0x00, 0x08, 0x00, // 0x55..0x5C
	0x00, 0x01, 0xCC, 0x0F, 0x01, 0xF1, 0x0D, // 0x5D..0x63 (timeouts A/B, VCSEL periods)
	0x01, 0x68, // 0x64 RANGE_CONFIG__SIGMA_THRESH (90 mm, 14.2)
	0x00, 0x80, // 0x66 RANGE_CONFIG__MIN_COUNT_RATE_RTN_LIMIT_MCPS (9.7)
	0x08, 0xB8, 0x00, 0x00, // 0x68..0x6B
	0x00, 0x00, 0x0F, 0x89, // 0x6C SYSTEM__INTERMEASUREMENT_PERIOD
	0x00, 0x00, // 0x70..0x71
	0x00, 0x00, // 0x72 SYSTEM__THRESH_HIGH
	0x00, 0x00, // 0x74 SYSTEM__THRESH_LOW
	0x00, 0x01, 0x0F, 0x0D, 0x0E, 0x0E, 0x00, 0x00, 0x02, // 0x76..0x7E
	0xC7,                         // 0x7F ROI_CONFIG__USER_ROI_CENTRE_SPAD: 199
	0xFF,                         // 0x80 ROI_CONFIG__USER_ROI_REQUESTED_GLOBAL_XY_SIZE: 16x16
	0x9B, 0x00, 0x00, 0x00, 0x01, // 0x81..0x85
	0x00, // 0x86 SYSTEM__INTERRUPT_CLEAR
	0x00, // 0x87 SYSTEM__MODE_START: stopped
}

// modeRegs are the distance-mode dependent registers of VL53L1X_SetDistanceMode.
type modeRegs struct {
	phasecal, vcselA, vcselB, validPhaseHigh byte
	woiSD0, initialPhaseSD0                  uint16
}

var modeTable = map[DistanceMode]modeRegs{
	Short: {phasecal: 0x14, vcselA: 0x07, vcselB: 0x05, validPhaseHigh: 0x38, woiSD0: 0x0705, initialPhaseSD0: 0x0606},
	Long:  {phasecal: 0x0A, vcselA: 0x0F, vcselB: 0x0D, validPhaseHigh: 0xB8, woiSD0: 0x0F0D, initialPhaseSD0: 0x0E0E},
}

// timeouts are RANGE_CONFIG__TIMEOUT_MACROP_A/B per timing budget in ms, per
// distance mode (VL53L1X_SetTimingBudgetInMs). 15 ms exists in short mode only.
type timeouts struct{ a, b uint16 }

var budgetTable = map[DistanceMode]map[int]timeouts{
	Short: {
		15: {0x001D, 0x0027}, 20: {0x0051, 0x006E}, 33: {0x00D6, 0x006E}, 50: {0x01AE, 0x01E8},
		100: {0x02E1, 0x0388}, 200: {0x03E1, 0x0496}, 500: {0x0591, 0x05C1},
	},
	Long: {
		20: {0x001E, 0x0022}, 33: {0x0060, 0x006E}, 50: {0x00AD, 0x00C6},
		100: {0x01CC, 0x01EA}, 200: {0x02D9, 0x02F8}, 500: {0x048F, 0x04A4},
	},
}

// statusMap maps the device's RESULT__RANGE_STATUS (bits 4:0) to the range
// status the ULD reports (VL53L1X_GetRangeStatus); 255 = not a range status.
var statusMap = [24]uint8{255, 255, 255, 5, 2, 4, 1, 7, 3, 0, 255, 255, 9, 13, 255, 255, 255, 255, 10, 6, 255, 255, 11, 12}

// Range statuses as reported in Reading.Status (ULD codes).
const (
	StatusValid        = 0  // range valid
	StatusSigmaFail    = 1  // sigma estimator above threshold
	StatusSignalFail   = 2  // return signal below threshold
	StatusOutOfBounds  = 4  // phase out of valid limits (typically no target in range)
	StatusHardwareFail = 5  // VCSEL or hardware failure
	StatusWrapAround   = 7  // wrapped target, phases do not match
	StatusMinRangeFail = 3  // target below minimum detection
	StatusROIClipped   = 13 // ROI centre and size fall outside the SPAD array
	StatusUnknown      = 255
)
