package plate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/omo-edge/edge-agent/drivers/nfc/plateurl"
)

// CommandName is the MQTT command (cmd/<name>, reply/<name>) that sets a
// plate's content.
const CommandName = "plate-content"

// MaxCommandSize bounds a command payload.
const MaxCommandSize = 4096

// maxRequestID bounds the request id echoed in the reply.
const maxRequestID = 128

// Command is a parsed cmd/plate-content payload:
//
//	{"v":1,"request_id":"r-17","plate":"plate-1","base_url":"https://c.example.com/t"}
//	{"v":1,"request_id":"r-18","store":"shibuya-01","plate":"plate-2","uri":"https://example.com/survey"}
type Command struct {
	V         int    `json:"v"`
	RequestID string `json:"request_id,omitempty"`
	// Store, when given, must be the agent's store: a command meant for
	// another store is refused, not applied to a plate of the same name.
	Store   string  `json:"store,omitempty"`
	Plate   string  `json:"plate"`
	Content Content `json:"-"`
}

// ErrCommand wraps every reason a command payload is refused.
var ErrCommand = errors.New("malformed command")

func badCmd(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrCommand, fmt.Sprintf(format, a...))
}

// ParseCommand parses and checks a cmd/plate-content payload: one JSON
// object, no unknown or repeated keys, v 1, a valid plate id, exactly one
// of base_url and uri, and content that fits a tag (CheckContent). It
// never panics. On error, the returned Command holds the request id when
// it could be read, for the reply.
func ParseCommand(payload []byte) (Command, error) {
	var c Command
	if len(payload) > MaxCommandSize {
		return c, badCmd("payload of %d bytes, at most %d", len(payload), MaxCommandSize)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return c, badCmd("want a JSON object")
	}
	seen := map[string]bool{}
	var haveV bool
	var firstErr error
	fail := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return c, badCmd("not valid JSON")
		}
		key, _ := kt.(string)
		if seen[key] {
			return c, badCmd("key %q given twice", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return c, badCmd("not valid JSON")
		}
		str := func(dst *string) {
			if err := json.Unmarshal(raw, dst); err != nil {
				fail(badCmd("%s: want a string", key))
			}
		}
		switch key {
		case "v":
			var n json.Number
			if err := json.Unmarshal(raw, &n); err != nil || n.String() != "1" {
				fail(badCmd("v: want 1 (this agent speaks version 1 of the command)"))
			}
			haveV = true
		case "request_id":
			str(&c.RequestID)
		case "store":
			str(&c.Store)
		case "plate":
			str(&c.Plate)
		case "base_url":
			str(&c.Content.BaseURL)
		case "uri":
			str(&c.Content.URI)
		default:
			fail(badCmd("unknown key %q (known: v, request_id, store, plate, base_url, uri)", trunc(key, 40)))
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return c, badCmd("not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return c, badCmd("trailing data after the JSON object")
	}
	if !validRequestID(c.RequestID) {
		c.RequestID = ""
		fail(badCmd("request_id: want at most %d printable ASCII characters", maxRequestID))
	}
	if firstErr != nil {
		return c, firstErr
	}
	if !haveV {
		return c, badCmd("v: required (1)")
	}
	c.V = 1
	if c.Plate == "" {
		return c, badCmd("plate: required (the plate's sensor id)")
	}
	if err := plateurl.ValidPlateID(c.Plate); err != nil {
		return c, badCmd("plate: %v", err)
	}
	if err := CheckContent(c.Content, c.Plate); err != nil {
		return c, fmt.Errorf("%w: %v", ErrCommand, strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "))
	}
	return c, nil
}

func validRequestID(s string) bool {
	if len(s) > maxRequestID {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Reply is the answer on reply/plate-content.
type Reply struct {
	V         int    `json:"v"`
	RequestID string `json:"request_id,omitempty"`
	OK        bool   `json:"ok"`
	Plate     string `json:"plate,omitempty"`
	// Applied says whether the tag holds the new content already; when
	// false (a phone is on the plate, or its source is restarting) it is
	// written as soon as it can be: the content is saved.
	Applied *bool  `json:"applied,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Encode renders the reply as JSON.
func (r Reply) Encode() []byte {
	r.V = 1
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return []byte(`{"v":1,"ok":false,"error":"reply encoding failed"}`)
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}
