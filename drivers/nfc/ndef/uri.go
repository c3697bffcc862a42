package ndef

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// uriPrefixes is the URI identifier code table of the URI RTD (3.2.2),
// indexed by code; codes 0x24..0xFF are reserved.
var uriPrefixes = [...]string{
	0x00: "",
	0x01: "http://www.",
	0x02: "https://www.",
	0x03: "http://",
	0x04: "https://",
	0x05: "tel:",
	0x06: "mailto:",
	0x07: "ftp://anonymous:anonymous@",
	0x08: "ftp://ftp.",
	0x09: "ftps://",
	0x0A: "sftp://",
	0x0B: "smb://",
	0x0C: "nfs://",
	0x0D: "ftp://",
	0x0E: "dav://",
	0x0F: "news:",
	0x10: "telnet://",
	0x11: "imap:",
	0x12: "rtsp://",
	0x13: "urn:",
	0x14: "pop:",
	0x15: "sip:",
	0x16: "sips:",
	0x17: "tftp:",
	0x18: "btspp://",
	0x19: "btl2cap://",
	0x1A: "btgoep://",
	0x1B: "tcpobex://",
	0x1C: "irdaobex://",
	0x1D: "file://",
	0x1E: "urn:epc:id:",
	0x1F: "urn:epc:tag:",
	0x20: "urn:epc:pat:",
	0x21: "urn:epc:raw:",
	0x22: "urn:epc:",
	0x23: "urn:nfc:",
}

// typeURI and typeText are the well-known types of the URI and Text RTDs.
const (
	typeURI  = "U"
	typeText = "T"
)

// checkURI refuses what is no IRI: invalid UTF-8 and control characters.
func checkURI(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("URI is not valid UTF-8")
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0) {
			return fmt.Errorf("URI contains control character %U", c)
		}
	}
	return nil
}

// NewURIRecord returns a well-known URI record for uri, abbreviated with
// the longest matching identifier code.
func NewURIRecord(uri string) (Record, error) {
	if uri == "" {
		return Record{}, errors.New("ndef: empty URI")
	}
	if err := checkURI(uri); err != nil {
		return Record{}, fmt.Errorf("ndef: %w", err)
	}
	code := 0
	for c, p := range uriPrefixes {
		if len(p) > len(uriPrefixes[code]) && len(uri) >= len(p) && uri[:len(p)] == p {
			code = c
		}
	}
	payload := make([]byte, 0, 1+len(uri)-len(uriPrefixes[code]))
	payload = append(payload, byte(code))
	payload = append(payload, uri[len(uriPrefixes[code]):]...)
	return Record{TNF: TNFWellKnown, Type: []byte(typeURI), Payload: payload}, nil
}

// EncodeURI returns an NDEF message of one URI record for uri: a short
// record when the payload fits in 255 bytes, the longest matching prefix
// code.
func EncodeURI(uri string) ([]byte, error) {
	r, err := NewURIRecord(uri)
	if err != nil {
		return nil, err
	}
	return Encode([]Record{r})
}

// URI returns the URI of a well-known URI record, its prefix expanded.
func (r Record) URI() (string, error) {
	if r.TNF != TNFWellKnown || string(r.Type) != typeURI {
		return "", fmt.Errorf("ndef: not a URI record (TNF %d, type %q)", r.TNF, r.Type)
	}
	if len(r.Payload) == 0 {
		return "", errors.New("ndef: URI record without payload")
	}
	code := r.Payload[0]
	if int(code) >= len(uriPrefixes) {
		return "", fmt.Errorf("ndef: URI identifier code 0x%02X is reserved", code)
	}
	uri := uriPrefixes[code] + string(r.Payload[1:])
	if uri == "" {
		return "", errors.New("ndef: empty URI")
	}
	if err := checkURI(uri); err != nil {
		return "", fmt.Errorf("ndef: %w", err)
	}
	return uri, nil
}
