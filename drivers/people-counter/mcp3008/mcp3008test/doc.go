// Package mcp3008test emulates a Microchip MCP3008 ADC (DS21295) behind an
// SPI port, for tests and for the simulated store.
//
// The emulator works bit by bit, as the chip does: with CS low (one Tx, or
// TxPackets joined by KeepCS) it ignores MOSI until the first high bit, the
// start bit; takes SGL/DIFF and D2..D0 from the next four; samples the input
// then; lets one more clock pass; drives the null bit low; shifts out B9..B0,
// then B1..B9 again LSB first, then zeros, until CS rises. While DOUT is
// high-impedance (before the null bit, or all the way when no start bit
// came) MISO reads as FloatHigh says. A garbled command therefore yields
// what the chip would give, never a panic.
//
// The voltage on each input comes from a function the caller provides; it
// is called once per conversion, at the sample, so a simulator can make it
// depend on its own clock. Chip is safe for concurrent use.
package mcp3008test
