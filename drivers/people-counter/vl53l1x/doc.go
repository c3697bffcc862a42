// Package vl53l1x drives ST's VL53L1X time-of-flight ranging sensor over I²C.
//
// It follows the register sequences of ST's VL53L1X Ultra Lite Driver
// (STSW-IMG009): the default configuration block VL51L1X_DEFAULT_CONFIGURATION
// for registers 0x2D..0x87, the init measurement, the distance mode and
// timing budget tables and the range status table. Registers are named as in
// ST's register map.
//
// The sensor can range on a programmable region of interest (ROI) of its
// 16×16 SPAD array. People counting above a doorway alternates two ROI zones
// (e.g. 8×16 at SPAD 167 and 231); SetROI guarantees that the next Read is a
// measurement made with the ROI just set (see SetROI for how).
//
// Documents:
//   - ST VL53L1X datasheet, DS12385
//   - UM2510, "A guide to using the VL53L1X ultra lite driver"
//   - UM2555, "Using the programmable region of interest (ROI) with the VL53L1X"
//   - UM2600, "Counting people with the VL53L1X long-distance ranging sensor"
//
// Package vl53l1xtest emulates the chip for tests and simulations.
package vl53l1x
