package plate

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/omo-edge/edge-agent/drivers/nfc/ndef"
	"github.com/omo-edge/edge-agent/drivers/nfc/ntag"
	"github.com/omo-edge/edge-agent/drivers/nfc/plateurl"
)

// Tag is what the controller needs of a plate's tag; *ntag.Dev has it.
type Tag interface {
	ReadNDEF() ([]byte, error)
	WriteNDEF(msg []byte) error
	FieldPresent() (bool, error)
	// Capacity is the largest NDEF TLV the tag holds.
	Capacity() int
}

// Content is what a plate's tag shows: one-time URLs on BaseURL, or the
// static URI. Exactly one is set (both empty: nothing configured yet).
type Content struct {
	BaseURL string `json:"base_url,omitempty"`
	URI     string `json:"uri,omitempty"`
}

func (c Content) empty() bool { return c.BaseURL == "" && c.URI == "" }

// Who set a plate's content.
const (
	FromConfig = "config"
	FromCloud  = "cloud"
	FromCLI    = "cli"
)

// Options configure a Controller.
type Options struct {
	// Plate is the plate's id (its sensor id): signed into its URLs.
	Plate string
	// Secret is the store's plate secret (plateurl); required for one-time
	// URLs. It is copied and never logged.
	Secret []byte
	// Dir holds the state and lock files (state_dir/plates).
	Dir string
	// Default is the content from the config, used until the cloud or the
	// CLI sets another.
	Default Content
	// Reserve is how many counters one durable write reserves (default 64).
	Reserve uint64
	// Quiet is how long the field must stay off after a tap before the
	// next URL is written (default 1500ms, the tap detector's merge_ms).
	Quiet time.Duration
	// Now is the wall clock, used once: the first counter of a fresh state
	// (default time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// Errors of the controller.
var (
	// ErrBusy means another process drives the plate (its lock is held).
	ErrBusy = errors.New("plate: another edge-agent process is driving this plate (is the daemon running?)")
	// ErrInvalid wraps content that cannot be put on a plate.
	ErrInvalid = errors.New("plate: invalid content")
	// ErrNoContent means the plate has no base URL or URI yet.
	ErrNoContent = errors.New("plate: no content configured (no base_url or uri)")
)

// Controller keeps one plate's tag up to date. Its methods are safe for
// concurrent use: the plate's source calls Service, the command handler
// SetContent.
type Controller struct {
	o    Options
	log  *slog.Logger
	path string
	lock *os.File

	mu       sync.Mutex
	st       state
	next     uint64 // next counter to issue
	tag      Tag
	fieldOn  bool
	offSince time.Time
	dirty    bool   // the tag must be (re)written
	afterTap bool   // ... once the field has been quiet for Quiet
	pending  string // URL chosen for the next write, kept over retries
	current  string // URL on the tag, as far as this controller knows
	writes   uint64
	lastErr  string
}

// Open loads (or creates) the plate's state, takes its lock and reserves
// nothing yet. Close releases the lock.
func Open(o Options) (*Controller, error) {
	if err := plateurl.ValidPlateID(o.Plate); err != nil {
		return nil, err
	}
	if o.Reserve == 0 {
		o.Reserve = 64
	}
	if o.Quiet == 0 {
		o.Quiet = 1500 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	o.Secret = bytes.Clone(o.Secret)
	if o.Default.BaseURL != "" && len(o.Secret) < plateurl.MinSecretLen {
		return nil, fmt.Errorf("plate %s: one-time URLs need the store's plate secret (%w)", o.Plate, plateurl.ErrShortSecret)
	}
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("plate %s: state directory: %w", o.Plate, err)
	}
	c := &Controller{o: o, log: o.Log.With("plate", o.Plate), path: filepath.Join(o.Dir, o.Plate+".json")}
	lock, err := lockFile(filepath.Join(o.Dir, o.Plate+".lock"))
	if err != nil {
		if errors.Is(err, ErrBusy) {
			return nil, fmt.Errorf("plate %s: %w", o.Plate, err)
		}
		return nil, fmt.Errorf("plate %s: lock: %w", o.Plate, err)
	}
	c.lock = lock
	st, err := loadState(c.path)
	switch {
	case err == nil && st.Plate == o.Plate:
	case errors.Is(err, errNoState):
		st = c.fresh()
	default:
		if err == nil {
			err = fmt.Errorf("it belongs to plate %q", st.Plate)
		}
		aside := c.path + ".corrupt-" + o.Now().UTC().Format("20060102T150405")
		_ = os.Rename(c.path, aside)
		c.log.Error("plate state unreadable; moved aside, counters restart from the clock", "file", aside, "err", err)
		st = c.fresh()
	}
	// Config content follows the config; content the cloud or a technician
	// set stays until they change it.
	if st.From == "" || st.From == FromConfig || st.Content.empty() {
		if st.Content != o.Default {
			st.Content, st.From, st.RequestID = o.Default, FromConfig, ""
		}
	}
	if st.Content.BaseURL != "" && len(o.Secret) < plateurl.MinSecretLen {
		c.lock.Close()
		return nil, fmt.Errorf("plate %s: one-time URLs need the store's plate secret (%w)", o.Plate, plateurl.ErrShortSecret)
	}
	c.st = st
	c.next = st.Reserved
	if err := saveState(c.path, c.st); err != nil {
		c.lock.Close()
		return nil, fmt.Errorf("plate %s: save state: %w", o.Plate, err)
	}
	c.dirty = true // check the tag once attached
	return c, nil
}

// fresh is the state of a plate never seen: counters start at the clock.
func (c *Controller) fresh() state {
	ms := c.o.Now().UnixMilli()
	return state{V: stateVersion, Plate: c.o.Plate, Reserved: uint64(max(ms, 0))}
}

// Close releases the plate's lock.
func (c *Controller) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tag = nil
	if c.lock == nil {
		return nil
	}
	err := c.lock.Close()
	c.lock = nil
	return err
}

// ID is the plate's id.
func (c *Controller) ID() string { return c.o.Plate }

// Attach gives the controller the plate's tag, opened by its source. The
// tag is checked (and written if it does not hold the plate's content) at
// the next Service.
func (c *Controller) Attach(t Tag) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tag, c.dirty, c.afterTap = t, true, false
	c.current = ""
}

// Detach forgets the tag (its source closed it).
func (c *Controller) Detach() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tag = nil
}

// Service tells the controller what the field is at now and lets it write
// the tag when it should. It returns an error only when the tag failed
// (the bus, the chip); a phone holding the memory is retried later.
func (c *Controller) Service(now time.Time, fieldOn bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case fieldOn && !c.fieldOn:
		if c.st.Content.BaseURL != "" {
			c.dirty, c.afterTap = true, true // a phone may have read this URL
		}
	case !fieldOn && c.fieldOn:
		c.offSince = now
	}
	c.fieldOn = fieldOn
	if !c.dirty || c.tag == nil || fieldOn {
		return nil
	}
	if c.afterTap && now.Sub(c.offSince) < c.o.Quiet {
		return nil
	}
	return c.syncLocked()
}

// syncLocked brings the tag to the plate's content; c.mu is held and the
// field is off.
func (c *Controller) syncLocked() error {
	ct := c.st.Content
	if ct.empty() {
		c.dirty = false
		return nil
	}
	if c.current == "" && !c.afterTap {
		// First look after attaching: keep a tag that already holds this
		// plate's content (its URL has not been read since it was written,
		// as far as anyone can tell; a restart must not burn counters).
		if u, err := c.readURILocked(); err == nil && c.matchesLocked(u) {
			c.current, c.dirty = u, false
			return nil
		} else if errors.Is(err, ntag.ErrRFLocked) {
			c.lastErr = err.Error()
			return nil // a phone holds the memory: next time
		} else if err != nil && !errors.Is(err, ntag.ErrNoNDEF) && !errors.Is(err, errNotURI) {
			return c.fail(err)
		}
	}
	u := c.pending
	if u == "" {
		var err error
		if u, err = c.urlLocked(); err != nil {
			c.lastErr = err.Error()
			c.dirty = false // nothing to retry until the content changes
			c.log.Error("cannot build the plate's URL", "err", err)
			return nil
		}
		c.pending = u
	}
	msg, err := ndef.EncodeURI(u)
	if err != nil {
		c.pending, c.dirty = "", false
		c.lastErr = err.Error()
		c.log.Error("cannot encode the plate's URL", "err", err)
		return nil
	}
	if err := c.tag.WriteNDEF(msg); err != nil {
		if errors.Is(err, ntag.ErrRFLocked) {
			c.lastErr = err.Error()
			return nil // a phone holds the memory: next time
		}
		return c.fail(err)
	}
	c.current, c.pending, c.dirty, c.afterTap, c.lastErr = u, "", false, false, ""
	c.writes++
	return nil
}

func (c *Controller) fail(err error) error {
	c.lastErr = err.Error()
	return fmt.Errorf("plate %s: %w", c.o.Plate, err)
}

var errNotURI = errors.New("plate: the tag holds no URI record")

func (c *Controller) readURILocked() (string, error) {
	msg, err := c.tag.ReadNDEF()
	if err != nil {
		return "", err
	}
	return DecodeURI(msg)
}

// DecodeURI returns the URI of an NDEF message whose first record is a URI
// record.
func DecodeURI(msg []byte) (string, error) {
	recs, err := ndef.Decode(msg)
	if err != nil || len(recs) == 0 {
		return "", errNotURI
	}
	u, err := recs[0].URI()
	if err != nil {
		return "", errNotURI
	}
	return u, nil
}

// matchesLocked reports whether u is the plate's static URI, or a URL this
// plate issued on its base URL.
func (c *Controller) matchesLocked(u string) bool {
	ct := c.st.Content
	if ct.URI != "" {
		return u == ct.URI
	}
	cl, err := plateurl.Verify(u, c.o.Secret)
	if err != nil || cl.PlateID != c.o.Plate || cl.Counter >= c.next {
		return false
	}
	want, err := plateurl.Sign(ct.BaseURL, c.o.Plate, cl.Counter, c.o.Secret)
	return err == nil && want == u
}

// urlLocked is the next URL for the tag: the static URI, or a one-time URL
// with a counter made durable first.
func (c *Controller) urlLocked() (string, error) {
	ct := c.st.Content
	if ct.URI != "" {
		return ct.URI, nil
	}
	n, err := c.counterLocked()
	if err != nil {
		return "", err
	}
	return plateurl.Sign(ct.BaseURL, c.o.Plate, n, c.o.Secret)
}

// counterLocked issues the next counter, raising the durable bound first
// when it is reached.
func (c *Controller) counterLocked() (uint64, error) {
	if c.next >= c.st.Reserved {
		st := c.st
		st.Reserved = c.next + c.o.Reserve
		if err := saveState(c.path, st); err != nil {
			return 0, fmt.Errorf("reserving counters: %w", err)
		}
		c.st = st
	}
	n := c.next
	c.next++
	return n, nil
}

// Check validates content for this plate: an http(s) URL, ASCII without
// spaces, that fits the tag (the attached tag's capacity, else an NTAG I2C
// plus 1k) with the one-time query on the longest counter.
func (c *Controller) Check(ct Content) error {
	if err := CheckContent(ct, c.o.Plate); err != nil {
		return err
	}
	if ct.BaseURL != "" && len(c.o.Secret) < plateurl.MinSecretLen {
		return fmt.Errorf("%w: one-time URLs need nfc.plate_secret_file in the agent's config", ErrInvalid)
	}
	c.mu.Lock()
	t := c.tag
	c.mu.Unlock()
	if t == nil {
		return nil
	}
	u := ct.URI
	if ct.BaseURL != "" {
		u = longestURL(ct.BaseURL, c.o.Plate)
	}
	msg, err := ndef.EncodeURI(u)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if need := tlvSize(len(msg)); need > t.Capacity() {
		return fmt.Errorf("%w: %d bytes on the tag, it holds %d", ErrInvalid, need, t.Capacity())
	}
	return nil
}

// SetContent validates ct, persists it and writes the tag at once when it
// is attached and no phone is on it. applied reports whether the tag holds
// the new content now; otherwise it is written as soon as the field is off.
func (c *Controller) SetContent(ct Content, from, requestID string) (applied bool, err error) {
	if err := c.Check(ct); err != nil {
		return false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st
	st.Content, st.From, st.RequestID = ct, from, requestID
	if err := saveState(c.path, st); err != nil {
		return false, fmt.Errorf("plate %s: save state: %w", c.o.Plate, err)
	}
	c.st = st
	c.pending, c.current, c.dirty, c.afterTap = "", "", true, false
	if c.tag == nil {
		return false, nil
	}
	on, err := c.tag.FieldPresent()
	if err != nil {
		return false, c.fail(err)
	}
	if on {
		return false, nil // written once the phone is gone
	}
	// current is empty and afterTap false: syncLocked would first look at
	// the tag; new content never matches old, but skip the read anyway.
	c.current = "-"
	if err := c.syncLocked(); err != nil {
		return false, err
	}
	return !c.dirty, nil
}

// Status is a plate's state for status displays.
type Status struct {
	Plate   string  `json:"plate"`
	Content Content `json:"content"`
	From    string  `json:"from,omitempty"`
	// NextCounter is the counter the next one-time URL gets.
	NextCounter uint64 `json:"next_counter"`
	Reserved    uint64 `json:"reserved"`
	Current     string `json:"current,omitempty"`
	Pending     bool   `json:"pending"`
	Writes      uint64 `json:"writes"`
	LastError   string `json:"last_error,omitempty"`
}

// Status returns the plate's state.
func (c *Controller) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.current
	if cur == "-" {
		cur = ""
	}
	return Status{Plate: c.o.Plate, Content: c.st.Content, From: c.st.From, NextCounter: c.next, Reserved: c.st.Reserved,
		Current: cur, Pending: c.dirty, Writes: c.writes, LastError: c.lastErr}
}

// CheckContent validates content for plate id without a tag: exactly one
// of base URL and URI, an absolute http(s) URL in ASCII with no spaces,
// that fits an NTAG I2C plus 1k (with the one-time query on the longest
// counter for a base URL).
func CheckContent(ct Content, plateID string) error {
	switch {
	case ct.BaseURL != "" && ct.URI != "":
		return fmt.Errorf("%w: give base_url (one-time URLs) or uri (static content), not both", ErrInvalid)
	case ct.empty():
		return fmt.Errorf("%w: give base_url (one-time URLs) or uri (static content)", ErrInvalid)
	}
	u := ct.BaseURL + ct.URI
	for i := 0; i < len(u); i++ {
		if u[i] <= ' ' || u[i] >= 0x7F {
			return fmt.Errorf("%w: the URL must be ASCII without spaces or control characters (percent-encode them); byte %d is %q", ErrInvalid, i, u[i])
		}
	}
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return fmt.Errorf("%w: want an https:// (or http://) URL", ErrInvalid)
	}
	if ct.BaseURL != "" {
		if err := plateurl.CheckBase(ct.BaseURL, plateID); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		return nil
	}
	if err := plateurl.Fits(ct.URI); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

// longestURL is base's one-time URL with the longest counter and MAC.
func longestURL(base, plateID string) string {
	u, err := plateurl.Sign(base, plateID, ^uint64(0), bytes.Repeat([]byte{1}, plateurl.MinSecretLen))
	if err != nil {
		return base
	}
	return u
}

// tlvSize is the bytes an NDEF message of n bytes takes as a TLV with its
// terminator.
func tlvSize(n int) int {
	if n < 0xFF {
		return n + 3
	}
	return n + 5
}
