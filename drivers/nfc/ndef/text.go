package ndef

import (
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// Text is the content of a Text record (Text RTD).
type Text struct {
	Lang  string // IANA language code, e.g. "en", "de-CH"; 1..63 ASCII bytes
	Text  string
	UTF16 bool // stored as UTF-16 rather than UTF-8
}

const (
	textUTF16   = 0x80 // status byte: text is UTF-16
	textLangLen = 0x3F // status byte: language code length
)

// NewTextRecord returns a well-known Text record holding t.
func NewTextRecord(t Text) (Record, error) {
	if len(t.Lang) == 0 || len(t.Lang) > textLangLen {
		return Record{}, fmt.Errorf("ndef: language code of %d bytes, want 1 to 63", len(t.Lang))
	}
	for i := 0; i < len(t.Lang); i++ {
		c := t.Lang[i]
		if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return Record{}, fmt.Errorf("ndef: language code %q: want letters, digits and '-'", t.Lang)
		}
	}
	if !utf8.ValidString(t.Text) {
		return Record{}, errors.New("ndef: text is not valid UTF-8")
	}
	status := byte(len(t.Lang))
	p := []byte{status}
	p = append(p, t.Lang...)
	if t.UTF16 {
		p[0] |= textUTF16
		p = append(p, 0xFE, 0xFF) // big-endian byte-order mark
		for _, u := range utf16.Encode([]rune(t.Text)) {
			p = append(p, byte(u>>8), byte(u))
		}
	} else {
		p = append(p, t.Text...)
	}
	return Record{TNF: TNFWellKnown, Type: []byte(typeText), Payload: p}, nil
}

// Text returns the content of a well-known Text record.
func (r Record) Text() (Text, error) {
	if r.TNF != TNFWellKnown || string(r.Type) != typeText {
		return Text{}, fmt.Errorf("ndef: not a Text record (TNF %d, type %q)", r.TNF, r.Type)
	}
	p := r.Payload
	if len(p) == 0 {
		return Text{}, errors.New("ndef: Text record without payload")
	}
	n := int(p[0] & textLangLen)
	if n == 0 {
		return Text{}, errors.New("ndef: Text record with an empty language code")
	}
	if 1+n > len(p) {
		return Text{}, fmt.Errorf("ndef: Text record language code of %d bytes, %d left", n, len(p)-1)
	}
	t := Text{Lang: string(p[1 : 1+n]), UTF16: p[0]&textUTF16 != 0}
	body := p[1+n:]
	if !t.UTF16 {
		if !utf8.Valid(body) {
			return Text{}, errors.New("ndef: Text record text is not valid UTF-8")
		}
		t.Text = string(body)
		return t, nil
	}
	if len(body)%2 != 0 {
		return Text{}, fmt.Errorf("ndef: Text record UTF-16 text of odd length %d", len(body))
	}
	bigEndian := true
	if len(body) >= 2 {
		switch {
		case body[0] == 0xFE && body[1] == 0xFF:
			body = body[2:]
		case body[0] == 0xFF && body[1] == 0xFE:
			bigEndian, body = false, body[2:]
		}
	}
	u := make([]uint16, len(body)/2)
	for i := range u {
		if bigEndian {
			u[i] = uint16(body[2*i])<<8 | uint16(body[2*i+1])
		} else {
			u[i] = uint16(body[2*i+1])<<8 | uint16(body[2*i])
		}
	}
	for i := 0; i < len(u); i++ {
		switch {
		case utf16.IsSurrogate(rune(u[i])) && u[i] < 0xDC00 && i+1 < len(u) && u[i+1] >= 0xDC00 && u[i+1] <= 0xDFFF:
			i++ // a high surrogate followed by a low one
		case utf16.IsSurrogate(rune(u[i])):
			return Text{}, fmt.Errorf("ndef: Text record UTF-16 text has an unpaired surrogate at unit %d", i)
		}
	}
	t.Text = string(utf16.Decode(u))
	return t, nil
}
