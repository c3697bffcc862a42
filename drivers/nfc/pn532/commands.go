package pn532

import (
	"context"
	"errors"
	"fmt"
)

// FirmwareVersion is the answer to GetFirmwareVersion (§7.2.2).
type FirmwareVersion struct {
	IC      byte // 0x32 for a PN532
	Ver     byte // firmware version
	Rev     byte // firmware revision
	Support byte // bit 0 ISO/IEC 14443 type A, bit 1 type B, bit 2 ISO 18092
}

func (f FirmwareVersion) String() string {
	return fmt.Sprintf("PN5%02x firmware %d.%d support %#02x", f.IC, f.Ver, f.Rev, f.Support)
}

// FirmwareVersion asks the chip for its version (GetFirmwareVersion, 0x02).
func (d *Dev) FirmwareVersion() (FirmwareVersion, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.firmwareVersionLocked()
}

func (d *Dev) firmwareVersionLocked() (FirmwareVersion, error) {
	r, err := d.exchangeLocked(CmdGetFirmwareVersion, nil, 4)
	if err != nil {
		return FirmwareVersion{}, err
	}
	if len(r) != 4 {
		return FirmwareVersion{}, fmt.Errorf("%w: GetFirmwareVersion answered %d bytes, want 4", ErrBadAnswer, len(r))
	}
	return FirmwareVersion{IC: r[0], Ver: r[1], Rev: r[2], Support: r[3]}, nil
}

// SAMConfiguration sets the SAM mode (SAMNormal for a plain reader), the
// virtual card timeout in 50 ms units and whether P70_IRQ is driven
// (SAMConfiguration, 0x14, §7.2.10). The first one leaves LowVBat mode.
func (d *Dev) SAMConfiguration(mode, timeout byte, useIRQ bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.samConfigurationLocked(mode, timeout, useIRQ)
}

func (d *Dev) samConfigurationLocked(mode, timeout byte, useIRQ bool) error {
	irq := byte(0)
	if useIRQ {
		irq = 1
	}
	r, err := d.exchangeLocked(CmdSAMConfiguration, []byte{mode, timeout, irq}, 0)
	if err != nil {
		return err
	}
	if len(r) != 0 {
		return fmt.Errorf("%w: SAMConfiguration answered %d extra bytes", ErrBadAnswer, len(r))
	}
	return nil
}

// RFConfiguration sets one configuration item (RFConfiguration, 0x32, §7.3.1).
func (d *Dev) RFConfiguration(item byte, data ...byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rfConfigurationLocked(item, data)
}

func (d *Dev) rfConfigurationLocked(item byte, data []byte) error {
	r, err := d.exchangeLocked(CmdRFConfiguration, append([]byte{item}, data...), 0)
	if err != nil {
		return err
	}
	if len(r) != 0 {
		return fmt.Errorf("%w: RFConfiguration answered %d extra bytes", ErrBadAnswer, len(r))
	}
	return nil
}

// SetMaxRetries sets RFConfiguration item 5: retries of ATR_REQ, PSL_REQ
// and passive activation (0xFF = forever, 0x00 = one try). A finite
// passive value keeps InListPassiveTarget from blocking when no card comes.
func (d *Dev) SetMaxRetries(atr, psl, passive byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.setMaxRetriesLocked(atr, psl, passive)
}

func (d *Dev) setMaxRetriesLocked(atr, psl, passive byte) error {
	return d.rfConfigurationLocked(RFItemMaxRetries, []byte{atr, psl, passive})
}

// Modulation is the BrTy of InListPassiveTarget.
type Modulation byte

// Baud rates and modulations (§7.3.5).
const (
	TypeA106  Modulation = 0x00 // ISO/IEC 14443 type A, 106 kbps
	FeliCa212 Modulation = 0x01 // FeliCa, 212 kbps
	FeliCa424 Modulation = 0x02 // FeliCa, 424 kbps
)

func (m Modulation) String() string {
	switch m {
	case TypeA106:
		return "type A 106 kbps"
	case FeliCa212:
		return "FeliCa 212 kbps"
	case FeliCa424:
		return "FeliCa 424 kbps"
	}
	return fmt.Sprintf("BrTy(%#02x)", byte(m))
}

// FeliCaPolling is the default InitiatorData for FeliCa: POLLING command
// (0x00), system code FFFF (any), request code 01 (system code), time slot 0.
var FeliCaPolling = []byte{0x00, 0xFF, 0xFF, 0x01, 0x00}

// Target is a card or phone found by InListPassiveTarget.
type Target struct {
	Tg         byte // logical number given by the PN532 (1 or 2)
	Modulation Modulation

	// Type A (§7.3.5 TargetData for BrTy 0x00).
	SensRes uint16 // SENS_RES (ATQA)
	SelRes  byte   // SEL_RES (SAK)
	UID     []byte // NFCID1: 4, 7 or 10 bytes
	ATS     []byte // answer to select, starting with TL, when SelRes says ISO/IEC 14443-4

	// FeliCa (BrTy 0x01/0x02).
	IDm        []byte // NFCID2, 8 bytes
	PMm        []byte // 8 bytes
	SystemCode uint16 // when the polling asked for it (request code 01)
}

// ID returns the identifier a reader reports: the UID for type A, the IDm
// for FeliCa.
func (t Target) ID() []byte {
	if t.Modulation == TypeA106 {
		return t.UID
	}
	return t.IDm
}

// ISODEP reports whether the target speaks ISO/IEC 14443-4 (SEL_RES bit 6),
// which APDUs such as SELECT AID need.
func (t Target) ISODEP() bool { return t.Modulation == TypeA106 && t.SelRes&0x20 != 0 }

// String describes the target without its identifier (a UID identifies a
// person).
func (t Target) String() string {
	if t.Modulation == TypeA106 {
		s := fmt.Sprintf("target %d: %s, SENS_RES %04x SEL_RES %02x, %d-byte UID", t.Tg, t.Modulation, t.SensRes, t.SelRes, len(t.UID))
		if t.ISODEP() {
			s += ", ISO-DEP"
		}
		return s
	}
	return fmt.Sprintf("target %d: %s, system code %04x", t.Tg, t.Modulation, t.SystemCode)
}

// InListPassiveTarget looks for one target (MaxTg 1) with modulation m
// (InListPassiveTarget, 0x4A, §7.3.5). initiatorData is the FeliCa polling
// payload (nil = FeliCaPolling), unused for type A. It returns ErrNoTarget
// when the chip found none within its MaxRetries.
func (d *Dev) InListPassiveTarget(m Modulation, initiatorData []byte) (Target, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inListLocked(m, initiatorData)
}

func (d *Dev) inListLocked(m Modulation, initiatorData []byte) (Target, error) {
	p := []byte{0x01, byte(m)}
	maxResp := 1 + 1 + 2 + 1 + 1 + 10 + 64 // NbTg Tg SENS_RES SEL_RES len UID ATS
	switch m {
	case TypeA106:
	case FeliCa212, FeliCa424:
		if initiatorData == nil {
			initiatorData = FeliCaPolling
		}
		if len(initiatorData) != 5 {
			return Target{}, fmt.Errorf("pn532: FeliCa polling payload is %d bytes, want 5", len(initiatorData))
		}
		p = append(p, initiatorData...)
		maxResp = 1 + 1 + 1 + 1 + 16 + 2
	default:
		return Target{}, fmt.Errorf("pn532: modulation %s not supported", m)
	}
	d.tg = 0
	r, err := d.exchangeLocked(CmdInListPassiveTarget, p, maxResp)
	if err != nil {
		return Target{}, err
	}
	t, err := parseTarget(m, r)
	if err != nil {
		return Target{}, err
	}
	d.tg = t.Tg
	return t, nil
}

// parseTarget decodes the InListPassiveTarget response NbTg [TargetData1].
func parseTarget(m Modulation, r []byte) (Target, error) {
	bad := func(format string, a ...any) (Target, error) {
		return Target{}, fmt.Errorf("%w: InListPassiveTarget %s: %s", ErrBadAnswer, m, fmt.Sprintf(format, a...))
	}
	if len(r) < 1 {
		return bad("empty response")
	}
	if r[0] == 0 {
		return Target{}, ErrNoTarget
	}
	if r[0] > 2 {
		return bad("NbTg %d", r[0])
	}
	r = r[1:]
	t := Target{Modulation: m}
	if m == TypeA106 {
		// Tg SENS_RES(2) SEL_RES NFCIDLength NFCID1 [ATS]
		if len(r) < 5 {
			return bad("target data %d bytes, want at least 5", len(r))
		}
		t.Tg = r[0]
		t.SensRes = uint16(r[1])<<8 | uint16(r[2])
		t.SelRes = r[3]
		n := int(r[4])
		if n != 4 && n != 7 && n != 10 {
			return bad("NFCID1 length %d (want 4, 7 or 10)", n)
		}
		if len(r) < 5+n {
			return bad("NFCID1 of %d bytes cut after %d", n, len(r)-5)
		}
		t.UID = append([]byte(nil), r[5:5+n]...)
		rest := r[5+n:]
		if t.SelRes&0x20 != 0 && len(rest) > 0 {
			tl := int(rest[0])
			if tl < 1 || tl > len(rest) {
				return bad("ATS length %d with %d bytes left", tl, len(rest))
			}
			t.ATS = append([]byte(nil), rest[:tl]...)
		}
		return t, nil
	}
	// Tg POL_RES length, 0x01, NFCID2t(8), Pad(8) [SYST_CODE(2)]
	if len(r) < 2 {
		return bad("target data %d bytes", len(r))
	}
	t.Tg = r[0]
	n := int(r[1])
	if n != 18 && n != 20 {
		return bad("POL_RES length %d (want 18 or 20)", n)
	}
	if len(r) < 1+n {
		return bad("POL_RES of %d bytes cut after %d", n, len(r)-1)
	}
	pol := r[2 : 1+n]
	if pol[0] != 0x01 {
		return bad("POL_RES response code %#02x (want 0x01)", pol[0])
	}
	t.IDm = append([]byte(nil), pol[1:9]...)
	t.PMm = append([]byte(nil), pol[9:17]...)
	if n == 20 {
		t.SystemCode = uint16(pol[17])<<8 | uint16(pol[18])
	}
	return t, nil
}

// InDataExchange sends data to target tg and returns its answer
// (InDataExchange, 0x40, §7.3.8). The chip handles ISO-DEP framing and
// chaining. A status byte other than 0 is returned as a *StatusError;
// maxResp bounds the expected answer (a longer one is read again in full).
func (d *Dev) InDataExchange(tg byte, data []byte, maxResp int) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r, err := d.inDataExchangeLocked(tg, data, maxResp)
	return append([]byte(nil), r...), err
}

func (d *Dev) inDataExchangeLocked(tg byte, data []byte, maxResp int) ([]byte, error) {
	if len(data) > 262 {
		return nil, fmt.Errorf("pn532: InDataExchange of %d bytes, at most 262", len(data))
	}
	r, err := d.exchangeLocked(CmdInDataExchange, append([]byte{tg}, data...), 1+maxResp)
	if err != nil {
		return nil, err
	}
	if len(r) < 1 {
		return nil, fmt.Errorf("%w: InDataExchange without status byte", ErrBadAnswer)
	}
	if err := statusErr(CmdInDataExchange, r[0]); err != nil {
		return nil, err
	}
	return r[1:], nil
}

// InRelease releases target tg (0 = all) (InRelease, 0x52, §7.3.11).
func (d *Dev) InRelease(tg byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	r, err := d.exchangeLocked(CmdInRelease, []byte{tg}, 1)
	if err != nil {
		return err
	}
	if tg == 0 || tg == d.tg {
		d.tg = 0
	}
	if len(r) != 1 {
		return fmt.Errorf("%w: InRelease answered %d bytes, want 1", ErrBadAnswer, len(r))
	}
	return statusErr(CmdInRelease, r[0])
}

// APDUError is a SELECT answered with a status word other than 90 00.
type APDUError struct{ SW uint16 }

func (e *APDUError) Error() string {
	switch e.SW {
	case 0x6A82:
		return "pn532: SELECT AID: application not found (SW 6A82)"
	}
	return fmt.Sprintf("pn532: SELECT AID: status word %04X", e.SW)
}

// MaxAPDUResponse bounds the SELECT AID answer SelectAID expects.
const MaxAPDUResponse = 256

// SelectAID sends the ISO/IEC 7816-4 SELECT by name APDU
// (00 A4 04 00 Lc AID 00) to the current target through InDataExchange and
// returns the answer without its status word, which must be 90 00. This is
// how a store app's HCE service hands over its member token.
func (d *Dev) SelectAID(aid []byte) ([]byte, error) {
	if len(aid) < 1 || len(aid) > 16 {
		return nil, fmt.Errorf("pn532: AID of %d bytes (want 1..16)", len(aid))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tg == 0 {
		return nil, fmt.Errorf("pn532: SELECT AID: %w (list a target first)", ErrNoTarget)
	}
	apdu := make([]byte, 0, 6+len(aid))
	apdu = append(apdu, 0x00, 0xA4, 0x04, 0x00, byte(len(aid)))
	apdu = append(apdu, aid...)
	apdu = append(apdu, 0x00)
	r, err := d.inDataExchangeLocked(d.tg, apdu, MaxAPDUResponse+2)
	if err != nil {
		return nil, err
	}
	if len(r) < 2 {
		return nil, fmt.Errorf("%w: SELECT AID answer of %d bytes has no status word", ErrBadAnswer, len(r))
	}
	n := len(r) - 2
	if sw := uint16(r[n])<<8 | uint16(r[n+1]); sw != 0x9000 {
		return nil, &APDUError{SW: sw}
	}
	return append([]byte(nil), r[:n]...), nil
}

// Poll looks for a target until one is found or ctx is done: each cycle
// lists a type A target, then (Opts.PollFeliCa) a FeliCa one at 212 kbps.
// The chip's own MaxRetries bound each attempt.
func (d *Dev) Poll(ctx context.Context) (Target, error) {
	mods := []Modulation{TypeA106}
	if d.o.PollFeliCa {
		mods = append(mods, FeliCa212)
	}
	for {
		for _, m := range mods {
			if err := ctx.Err(); err != nil {
				return Target{}, err
			}
			t, err := d.InListPassiveTarget(m, nil)
			if err == nil {
				return t, nil
			}
			if !errors.Is(err, ErrNoTarget) {
				return Target{}, err
			}
		}
	}
}

// StatusError is an error status byte of InDataExchange, InRelease or
// PowerDown (§7.1 "Error handling"): the low 6 bits are the error code.
type StatusError struct {
	Cmd    byte
	Status byte
}

// Well-known status errors, for errors.Is (they match on the code only).
var (
	ErrRFTimeout     = &StatusError{Status: 0x01} // the target did not answer
	ErrCRC           = &StatusError{Status: 0x02}
	ErrTargetGone    = &StatusError{Status: 0x29} // released by the initiator / target gone
	ErrCardGone      = &StatusError{Status: 0x2B} // deselected card disappeared
	ErrInvalidParam  = &StatusError{Status: 0x10}
	ErrWrongContext  = &StatusError{Status: 0x27}
	ErrMoreToReceive = &StatusError{Status: 0x40} // MI bit: chained answer too long for the chip
)

var statusText = map[byte]string{
	0x01: "target timeout (no answer)",
	0x02: "CRC error",
	0x03: "parity error",
	0x04: "erroneous bit count during anticollision/select",
	0x05: "framing error during MIFARE operation",
	0x06: "abnormal bit collision during anticollision",
	0x07: "communication buffer too small",
	0x09: "RF buffer overflow",
	0x0A: "RF field not switched on in time",
	0x0B: "RF protocol error",
	0x0D: "temperature error (antenna overheating)",
	0x0E: "internal buffer overflow",
	0x10: "invalid parameter",
	0x12: "DEP: command not supported by the target",
	0x13: "DEP: data format does not match the specification",
	0x14: "MIFARE authentication error",
	0x23: "ISO/IEC 14443-3 UID check byte wrong",
	0x25: "DEP: invalid device state",
	0x26: "operation not allowed in this configuration",
	0x27: "command not acceptable in this context",
	0x29: "target released by the initiator",
	0x2A: "card ID does not match (card swapped)",
	0x2B: "card disappeared",
	0x2C: "NFCID3 mismatch",
	0x2D: "over-current",
	0x2E: "NAD missing in DEP frame",
}

func (e *StatusError) Error() string {
	code := e.Status & 0x3F
	if code == 0 && e.Status&0x40 != 0 {
		return fmt.Sprintf("pn532: command %#02x: more information (MI) pending: answer longer than the chip buffer", e.Cmd)
	}
	txt, ok := statusText[code]
	if !ok {
		txt = "unknown error"
	}
	return fmt.Sprintf("pn532: command %#02x: %s (status %#02x)", e.Cmd, txt, e.Status)
}

// Is matches another *StatusError with the same code (ignoring Cmd).
func (e *StatusError) Is(target error) bool {
	t, ok := target.(*StatusError)
	if !ok {
		return false
	}
	if t.Status&0x3F == 0 {
		return t.Status&0x40 != 0 && e.Status&0x3F == 0 && e.Status&0x40 != 0
	}
	return e.Status&0x3F == t.Status&0x3F
}

// statusErr turns a status byte into nil or a *StatusError. Bit 7 (NAD
// present) carries no error.
func statusErr(cmd, status byte) error {
	if status&0x7F == 0 {
		return nil
	}
	return &StatusError{Cmd: cmd, Status: status}
}
