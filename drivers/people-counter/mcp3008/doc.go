// Package mcp3008 drives the Microchip MCP3008, an 8-channel 10-bit
// successive-approximation ADC on SPI (datasheet DS21295).
//
// Each conversion is one 3-byte full-duplex transfer with CS low (section
// 6.1, Figure 6-1): the host sends 0x01 (seven leading zeros, then the start
// bit), then SGL/DIFF, D2, D1, D0 in the high nibble of the second byte,
// then a don't-care byte. The chip samples during the clocks after D0,
// drives a low null bit in bit 2 of the second reply byte, then B9..B8 in
// bits 1..0 and B7..B0 in the third byte. The driver checks the null bit:
// a MISO line with no chip behind it and a pull-up reads all ones, which a
// naive driver would take for full scale.
//
// The result is code = 1024 * VIN / VREF, clipped to 0..1023 (equation 4-2).
// Channels pair up for pseudo-differential readings as in Table 5-2.
//
// The chip supports SPI modes 0 and 3 and clocks up to 3.6 MHz at 5 V,
// 1.35 MHz at 2.7 V; the default 1 MHz is safe at any supply. Too slow a
// clock lets the sample capacitor bleed: the datasheet wants the 10 data
// bits out within 1.2 ms of the end of the sample, about 10 kHz or more.
// Package mcp3008test emulates the chip.
package mcp3008
