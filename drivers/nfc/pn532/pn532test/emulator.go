// Package pn532test emulates an NXP PN532 NFC controller behind a fake I²C
// bus or SPI port, with a virtual RF field where cards and phones are
// placed. Tests use it to check the pn532 driver byte for byte; the demo and
// the simulated store use it at runtime, so it is safe for concurrent use
// and reads time from an injected clock.
//
// What it models (PN532 User Manual UM0701-02):
//
//   - Frames: normal and extended information frames, ACK, NACK and error
//     frames, checked as the chip checks them: a host frame with a bad LCS,
//     DCS, postamble or TFI is ignored (no ACK), a NACK makes the chip send
//     its last response again, an ACK aborts the running command. A command
//     the chip does not know, or with bad parameters, is acknowledged and
//     answered with the error frame 00 00 FF 01 FF 7F 81 00.
//   - Host interfaces: on I²C (address 0x24) every read starts with the
//     status byte (0x01 ready); on SPI (mode 0) the prefixes DW 0x01, SR 0x02
//     and DR 0x03, with bytes LSB first on the wire (so an MSB-first host
//     sees every byte bit-reversed). A read of more than the status byte
//     takes the frame: the ACK first, then the response once processed.
//   - Time: the ACK and the response become ready after AckDelay and
//     ResponseDelay; InListPassiveTarget takes ActivationTime per passive
//     activation attempt (RFConfiguration item 5) when the field is empty.
//   - Power: the chip starts in LowVBat mode, asleep until a host transaction
//     wakes it (it then needs WakeTime before it takes a frame) and refusing
//     RF commands until the first SAMConfiguration; PowerDown sends it back
//     to sleep, to be woken by the interfaces its WakeUpEnable names.
//
// Commands: GetFirmwareVersion, SAMConfiguration, RFConfiguration,
// InListPassiveTarget (type A 106 kbps, FeliCa 212/424 kbps),
// InDataExchange (ISO-DEP SELECT by AID against an HCE phone), InRelease,
// PowerDown.
package pn532test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Command codes and frame bytes, from UM0701-02 (kept independent of the
// driver so that a shared mistake cannot hide).
const (
	cmdGetFirmwareVersion  = 0x02
	cmdSAMConfiguration    = 0x14
	cmdPowerDown           = 0x16
	cmdRFConfiguration     = 0x32
	cmdInDataExchange      = 0x40
	cmdInListPassiveTarget = 0x4A
	cmdInRelease           = 0x52

	tfiHost = 0xD4
	tfiChip = 0xD5

	wakeI2C = 0x80
	wakeSPI = 0x20

	// Status byte codes of InDataExchange (§7.1).
	statusTimeout   = 0x01
	statusBadCtx    = 0x27
	statusReleased  = 0x29
	maxChipDataResp = 262
)

var (
	ackBytes   = []byte{0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}
	errorFrame = []byte{0x00, 0x00, 0xFF, 0x01, 0xFF, 0x7F, 0x81, 0x00}
)

// Options tune the emulator. Zero fields take their defaults.
type Options struct {
	// Now is the clock (default time.Now). Sleep is only used by the IRQ
	// pin's WaitForEdge (default time.Sleep). A Clock provides both.
	Now   func() time.Time
	Sleep func(time.Duration)
	// Addr is the I²C address (default 0x24).
	Addr uint16
	// AckDelay is the time from a command frame to its ACK (default 200 µs).
	AckDelay time.Duration
	// ResponseDelay is the processing time of a command (default 1 ms).
	ResponseDelay time.Duration
	// ActivationTime is one passive activation attempt of
	// InListPassiveTarget in an empty field (default 5 ms).
	ActivationTime time.Duration
	// WakeTime is how long the chip takes to wake up (default 1 ms).
	WakeTime time.Duration
	// Firmware is the GetFirmwareVersion answer (default 32 01 06 07:
	// PN532, firmware 1.6, type A + type B + ISO 18092).
	Firmware [4]byte
}

// Stats counts what the host did on the bus.
type Stats struct {
	Transactions int // I²C transactions or SPI transfers
	StatusPolls  int // 1-byte I²C reads or SPI status reads
	Commands     int // command frames accepted (ACKed)
	Ignored      int // host frames ignored: bad checksum, bad TFI, garbage, asleep
	Nacks        int // NACK frames received
	Aborts       int // ACK frames received (abort)
	// LongReadsNotReady counts I²C reads longer than the status byte issued
	// while the chip was not ready: the Raspberry Pi's clock stretching bug
	// makes those dangerous, so a good driver keeps this at 0.
	LongReadsNotReady int
	// ByCommand counts accepted commands by command code.
	ByCommand map[byte]int
}

// card is what sits in the virtual field.
type card struct {
	modulation byte // 0 type A, 1 FeliCa
	uid        []byte
	sensRes    [2]byte
	selRes     byte
	ats        []byte
	aid, token []byte // HCE phone
	idm, pmm   []byte
	systemCode [2]byte
	gen        int // bumps at each presentation, to spot a swapped card
}

// pending is the response the chip prepares after the ACK.
type pending struct {
	frame []byte
	at    time.Time
	// gen, when set, builds the response lazily (InListPassiveTarget waits
	// for a card); it returns ok=false while the answer is not there yet.
	gen func(now time.Time) (frame []byte, ok bool)
}

// Emulator is one emulated PN532. Use I2C or SPI to reach it.
type Emulator struct {
	mu sync.Mutex
	o  Options

	asleep     bool
	wakeMask   byte // interfaces that wake the chip
	wakeAt     time.Time
	sleepAfter bool // PowerDown answered: sleep once the answer is read
	samDone    bool
	irqEnabled bool

	out     []byte // frame readable by the host
	outAt   time.Time
	outResp bool // out is a response (kept for NACK), not an ACK
	next    *pending
	last    []byte

	card       *card
	gen        int
	target     int // generation of the listed card, 0 = none
	maxPassive byte
	hceSeq     uint32

	dropFrames    int
	corruptFrames int

	stats Stats
}

// New returns an emulator with a clear field, asleep in LowVBat mode like a
// freshly powered PN532.
func New(opts *Options) *Emulator {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = time.Sleep
	}
	if o.Addr == 0 {
		o.Addr = 0x24
	}
	if o.AckDelay == 0 {
		o.AckDelay = 200 * time.Microsecond
	}
	if o.ResponseDelay == 0 {
		o.ResponseDelay = time.Millisecond
	}
	if o.ActivationTime == 0 {
		o.ActivationTime = 5 * time.Millisecond
	}
	if o.WakeTime == 0 {
		o.WakeTime = time.Millisecond
	}
	if o.Firmware == [4]byte{} {
		o.Firmware = [4]byte{0x32, 0x01, 0x06, 0x07}
	}
	return &Emulator{o: o, asleep: true, wakeMask: 0xFF, maxPassive: 0xFF, irqEnabled: true, stats: Stats{ByCommand: map[byte]int{}}}
}

// PresentCard places an ISO/IEC 14443 type A card with this UID (4, 7 or
// 10 bytes) in the field, replacing what was there. A 4-byte UID answers
// like a MIFARE Classic 1K (SENS_RES 00 04, SEL_RES 08), a longer one like
// a MIFARE Ultralight / NTAG (00 44, 00).
func (e *Emulator) PresentCard(uid []byte) error {
	c := &card{uid: append([]byte(nil), uid...)}
	switch len(uid) {
	case 4:
		c.sensRes, c.selRes = [2]byte{0x00, 0x04}, 0x08
	case 7:
		c.sensRes, c.selRes = [2]byte{0x00, 0x44}, 0x00
	case 10:
		c.sensRes, c.selRes = [2]byte{0x00, 0x84}, 0x00
	default:
		return fmt.Errorf("pn532test: UID of %d bytes, want 4, 7 or 10", len(uid))
	}
	e.present(c)
	return nil
}

// PresentPhoneHCE places a phone doing host card emulation in the field:
// an ISO-DEP type A target with a random 4-byte UID (first byte 0x08) that
// answers SELECT by name of aid with token followed by 90 00, and any other
// AID with 6A 82.
func (e *Emulator) PresentPhoneHCE(aid, token []byte) error {
	if len(aid) < 1 || len(aid) > 16 {
		return fmt.Errorf("pn532test: AID of %d bytes, want 1..16", len(aid))
	}
	if len(token)+2 > maxChipDataResp-1 {
		return fmt.Errorf("pn532test: token of %d bytes does not fit the PN532 buffer", len(token))
	}
	e.mu.Lock()
	e.hceSeq++
	s := e.hceSeq * 2654435761 // spread the sequence over the UID bytes
	e.mu.Unlock()
	c := &card{
		uid:     []byte{0x08, byte(s >> 24), byte(s >> 16), byte(s >> 8)},
		sensRes: [2]byte{0x00, 0x04},
		selRes:  0x20,
		// TL 05, T0 78 (FSCI 8, TA TB TC present), TA 80, TB 70, TC 02.
		ats:   []byte{0x05, 0x78, 0x80, 0x70, 0x02},
		aid:   append([]byte(nil), aid...),
		token: append([]byte(nil), token...),
	}
	e.present(c)
	return nil
}

// PresentFeliCa places a FeliCa card (IDm and PMm of 8 bytes) in the field.
func (e *Emulator) PresentFeliCa(idm, pmm []byte, systemCode uint16) error {
	if len(idm) != 8 || len(pmm) != 8 {
		return fmt.Errorf("pn532test: IDm/PMm of %d/%d bytes, want 8/8", len(idm), len(pmm))
	}
	e.present(&card{modulation: 1, idm: append([]byte(nil), idm...), pmm: append([]byte(nil), pmm...),
		systemCode: [2]byte{byte(systemCode >> 8), byte(systemCode)}})
	return nil
}

// RemoveCard empties the field; a target the host had listed is gone.
func (e *Emulator) RemoveCard() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.card = nil
}

func (e *Emulator) present(c *card) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.gen++
	c.gen = e.gen
	e.card = c
}

// DropFrames makes the chip miss the next n host frames (no ACK), as after
// noise on the bus.
func (e *Emulator) DropFrames(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dropFrames = n
}

// CorruptResponses damages the data checksum of the next n responses as
// the host reads them (the chip's copy stays good, so a NACK recovers).
func (e *Emulator) CorruptResponses(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.corruptFrames = n
}

// Stats returns a copy of the bus counters.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.ByCommand = make(map[byte]int, len(e.stats.ByCommand))
	for k, v := range e.stats.ByCommand {
		s.ByCommand[k] = v
	}
	return s
}

// ResetStats zeroes the counters.
func (e *Emulator) ResetStats() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stats = Stats{ByCommand: map[byte]int{}}
}

// Asleep reports whether the chip is powered down (or still in LowVBat).
func (e *Emulator) Asleep() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.asleep
}

// touch handles the wake-up side of a host transaction on interface bit
// iface. It reports whether the chip can take part in it.
func (e *Emulator) touch(iface byte, now time.Time) bool {
	if e.asleep {
		if e.wakeMask&iface == 0 {
			return false
		}
		e.asleep = false
		e.wakeAt = now.Add(e.o.WakeTime)
		return false
	}
	return !now.Before(e.wakeAt)
}

// advance moves the prepared response to the output once it is ready.
func (e *Emulator) advance(now time.Time) {
	if e.out != nil || e.next == nil {
		return
	}
	if e.next.gen != nil {
		if f, ok := e.next.gen(now); ok {
			e.out, e.outAt, e.outResp, e.next = f, now, true, nil
		}
		return
	}
	if !now.Before(e.next.at) {
		e.out, e.outAt, e.outResp, e.next = e.next.frame, e.next.at, true, nil
	}
}

func (e *Emulator) ready(now time.Time) bool {
	e.advance(now)
	return e.out != nil && !now.Before(e.outAt)
}

// take copies the output frame into p (zero padded) and consumes it.
func (e *Emulator) take(p []byte) {
	clear(p)
	f := e.out
	if e.outResp {
		e.last = f
		if e.corruptFrames > 0 {
			e.corruptFrames--
			f = append([]byte(nil), f...)
			f[len(f)-2] ^= 0x5A
		}
	}
	copy(p, f)
	e.out = nil
	if e.outResp && e.sleepAfter {
		e.sleepAfter = false
		e.asleep = true
	}
}

// hostWrite handles a frame written by the host.
func (e *Emulator) hostWrite(b []byte, now time.Time) {
	kind, tfi, data := parseHost(b)
	switch {
	case kind == kAck:
		e.stats.Aborts++
		e.out, e.next = nil, nil
		return
	case kind == kNack:
		e.stats.Nacks++
		if e.last != nil {
			e.out, e.outAt, e.outResp = e.last, now, true
		}
		return
	case kind != kInfo || tfi != tfiHost || len(data) == 0:
		e.stats.Ignored++
		return
	}
	if e.dropFrames > 0 {
		e.dropFrames--
		e.stats.Ignored++
		return
	}
	e.stats.Commands++
	e.stats.ByCommand[data[0]]++
	// A new command aborts the previous one; the chip acknowledges it.
	e.out, e.outAt, e.outResp = ackBytes, now.Add(e.o.AckDelay), false
	e.last = nil
	e.next = e.execute(data[0], data[1:], now)
}

// execute runs a command and returns the response to prepare.
func (e *Emulator) execute(cmd byte, p []byte, now time.Time) *pending {
	at := now.Add(e.o.AckDelay + e.o.ResponseDelay)
	reply := func(d ...byte) *pending {
		return &pending{frame: encode(append([]byte{tfiChip, cmd + 1}, d...)), at: at}
	}
	syntax := &pending{frame: errorFrame, at: at}
	rf := cmd == cmdInListPassiveTarget || cmd == cmdInDataExchange || cmd == cmdInRelease
	if rf && !e.samDone {
		return syntax // still in LowVBat: SAMConfiguration first
	}
	switch cmd {
	case cmdGetFirmwareVersion:
		if len(p) != 0 {
			return syntax
		}
		return reply(e.o.Firmware[:]...)
	case cmdSAMConfiguration:
		if len(p) < 1 || len(p) > 3 || p[0] < 1 || p[0] > 4 || (p[0] == 2 && len(p) < 2) {
			return syntax
		}
		e.samDone = true
		e.irqEnabled = len(p) < 3 || p[2] != 0
		return reply()
	case cmdRFConfiguration:
		want := map[byte]int{0x01: 1, 0x02: 3, 0x04: 1, 0x05: 3, 0x0A: 11, 0x0B: 12, 0x0C: 3, 0x0D: 9}
		if len(p) < 1 || want[p[0]] == 0 || len(p)-1 != want[p[0]] {
			return syntax
		}
		if p[0] == 0x05 {
			e.maxPassive = p[3]
		}
		return reply()
	case cmdPowerDown:
		if len(p) < 1 || len(p) > 2 {
			return syntax
		}
		e.wakeMask = p[0]
		e.sleepAfter = true
		e.target = 0
		return reply(0x00)
	case cmdInRelease:
		if len(p) != 1 {
			return syntax
		}
		if p[0] == 0 || p[0] == 1 {
			e.target = 0
		}
		return reply(0x00)
	case cmdInListPassiveTarget:
		return e.inList(p, now, at, syntax)
	case cmdInDataExchange:
		if len(p) < 1 {
			return syntax
		}
		return reply(e.dataExchange(p[0], p[1:])...)
	}
	return syntax
}

func (e *Emulator) inList(p []byte, now, at time.Time, syntax *pending) *pending {
	if len(p) < 2 || p[0] < 1 || p[0] > 2 {
		return syntax
	}
	brty := p[1]
	switch brty {
	case 0x00:
		if len(p) != 2 && len(p) != 6 && len(p) != 9 && len(p) != 12 {
			return syntax
		}
	case 0x01, 0x02:
		if len(p) != 7 {
			return syntax
		}
	default:
		return syntax
	}
	e.target = 0
	var polling []byte
	if brty != 0 {
		polling = append([]byte(nil), p[2:]...)
	}
	attempts := int(e.maxPassive) + 1
	infinite := e.maxPassive == 0xFF
	giveUp := now.Add(time.Duration(attempts) * e.o.ActivationTime)
	gen := func(t time.Time) ([]byte, bool) {
		if t.Before(at) {
			return nil, false
		}
		if c := e.card; c != nil && (c.modulation == 0) == (brty == 0) {
			e.target = c.gen
			return encode(append([]byte{tfiChip, cmdInListPassiveTarget + 1, 0x01}, targetData(c, polling)...)), true
		}
		if infinite || t.Before(giveUp) {
			return nil, false
		}
		return encode([]byte{tfiChip, cmdInListPassiveTarget + 1, 0x00}), true
	}
	return &pending{gen: gen}
}

// targetData is TargetData1 of InListPassiveTarget (§7.3.5).
func targetData(c *card, polling []byte) []byte {
	if c.modulation == 0 {
		d := []byte{0x01, c.sensRes[0], c.sensRes[1], c.selRes, byte(len(c.uid))}
		d = append(d, c.uid...)
		return append(d, c.ats...)
	}
	pol := []byte{0x01}
	pol = append(pol, c.idm...)
	pol = append(pol, c.pmm...)
	if polling[3] == 0x01 { // request code: system code
		pol = append(pol, c.systemCode[:]...)
	}
	return append([]byte{0x01, byte(len(pol) + 1)}, pol...)
}

// dataExchange answers InDataExchange: status byte then data.
func (e *Emulator) dataExchange(tg byte, apdu []byte) []byte {
	c := e.card
	if tg != 1 || e.target == 0 {
		return []byte{statusBadCtx}
	}
	if c == nil {
		return []byte{statusTimeout}
	}
	if c.gen != e.target {
		return []byte{statusReleased}
	}
	if c.selRes&0x20 == 0 {
		return []byte{statusTimeout} // not ISO-DEP: no answer to an APDU
	}
	// SELECT by name: CLA 00 INS A4 P1 04 P2 00 Lc AID [Le].
	if len(apdu) >= 5 && apdu[0] == 0x00 && apdu[1] == 0xA4 && apdu[2] == 0x04 {
		lc := int(apdu[4])
		if len(apdu) != 5+lc && len(apdu) != 6+lc {
			return []byte{0x00, 0x67, 0x00} // wrong length
		}
		if bytes.Equal(apdu[5:5+lc], c.aid) {
			r := append([]byte{0x00}, c.token...)
			return append(r, 0x90, 0x00)
		}
		return []byte{0x00, 0x6A, 0x82}
	}
	return []byte{0x00, 0x6D, 0x00} // INS not supported
}

// encode builds an information frame around tfi+data (normal or extended).
func encode(body []byte) []byte {
	n := len(body)
	f := []byte{0x00, 0x00, 0xFF}
	if n < 256 {
		f = append(f, byte(n), byte(256-n))
	} else {
		hi, lo := byte(n>>8), byte(n)
		f = append(f, 0xFF, 0xFF, hi, lo, byte(0x100-(int(hi)+int(lo))&0xFF))
	}
	sum := 0
	for _, b := range body {
		sum += int(b)
	}
	f = append(f, body...)
	return append(f, byte(0x100-sum&0xFF), 0x00)
}

type hostKind int

const (
	kBad hostKind = iota
	kAck
	kNack
	kInfo
)

// parseHost checks a host frame like the chip does. Anything malformed is
// kBad: the chip ignores it and sends no ACK.
func parseHost(b []byte) (hostKind, byte, []byte) {
	i := 0
	for i < len(b) && b[i] == 0x00 {
		i++
	}
	if i == 0 || i+4 > len(b) || b[i] != 0xFF { // FF LEN LCS and one more byte
		return kBad, 0, nil
	}
	i++
	l, lcs := b[i], b[i+1]
	if l == 0x00 && lcs == 0xFF && b[i+2] == 0x00 {
		return kAck, 0, nil
	}
	if l == 0xFF && lcs == 0x00 && b[i+2] == 0x00 {
		return kNack, 0, nil
	}
	var n int
	if l == 0xFF && lcs == 0xFF {
		if i+5 > len(b) || (int(b[i+2])+int(b[i+3])+int(b[i+4]))&0xFF != 0 {
			return kBad, 0, nil
		}
		n = int(b[i+2])<<8 | int(b[i+3])
		i += 5
	} else {
		if (int(l)+int(lcs))&0xFF != 0 {
			return kBad, 0, nil
		}
		n = int(l)
		i += 2
	}
	if n < 1 || i+n+2 > len(b) {
		return kBad, 0, nil
	}
	sum := 0
	for _, x := range b[i : i+n+1] { // data and DCS
		sum += int(x)
	}
	if sum&0xFF != 0 || b[i+n+1] != 0x00 {
		return kBad, 0, nil
	}
	return kInfo, b[i], b[i+1 : i+n]
}

// Clock is a fake clock for tests and simulations: Sleep advances it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock set at 2026-01-01T00:00:00Z.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Sleep advances the clock by d without waiting.
func (c *Clock) Sleep(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.t = c.t.Add(d)
	}
}

// errNoDevice is what a bus returns for a transaction nobody acknowledges.
var errNoDevice = errors.New("pn532test: no device acknowledged the address")
