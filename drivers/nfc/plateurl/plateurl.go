package plateurl

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/omo-edge/edge-agent/drivers/nfc/ndef"
)

// Parameters of version 1 of the algorithm (see the package documentation).
const (
	Label         = "edge-agent/plate-url/v1"
	MACLen        = 16 // bytes of HMAC-SHA256 kept
	MACChars      = 22 // MACLen in unpadded base64url
	MinSecretLen  = 16
	MaxPlateIDLen = 64
	// TagBudget is the NDEF TLV an NTAG I2C plus 1k (NT3H2111) holds: its
	// capability container announces 0x6D * 8 = 872 bytes of data area.
	TagBudget = 872

	ParamPlate   = "p"
	ParamCounter = "c"
	ParamMAC     = "m"
)

// Errors, to be told apart with errors.Is; the messages add what was wrong.
var (
	ErrMalformed   = errors.New("plateurl: malformed coupon URL")
	ErrBadMAC      = errors.New("plateurl: MAC does not match (forged, altered or signed with another secret)")
	ErrReplayed    = errors.New("plateurl: coupon already redeemed")
	ErrShortSecret = fmt.Errorf("plateurl: secret shorter than %d bytes", MinSecretLen)
	ErrBadBase     = errors.New("plateurl: unusable base URL")
	ErrBadPlateID  = errors.New("plateurl: invalid plate id")
	ErrTooLong     = errors.New("plateurl: URL does not fit the tag")
)

// Claims is what a valid coupon URL says.
type Claims struct {
	PlateID string
	Counter uint64
}

func (c Claims) String() string { return c.PlateID + "#" + strconv.FormatUint(c.Counter, 10) }

// ValidPlateID checks a plate id: 1 to MaxPlateIDLen characters from
// A-Z a-z 0-9 '-' '_' '.'.
func ValidPlateID(id string) error {
	if id == "" || len(id) > MaxPlateIDLen {
		return fmt.Errorf("%w: want 1 to %d characters, got %d", ErrBadPlateID, MaxPlateIDLen, len(id))
	}
	for i := 0; i < len(id); i++ {
		if !plateChar(id[i]) {
			return fmt.Errorf("%w: character %q at %d (want A-Z a-z 0-9 - _ .)", ErrBadPlateID, id[i], i)
		}
	}
	return nil
}

func plateChar(c byte) bool {
	return c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// mac computes the truncated MAC of (plateID, counter) into out.
func mac(secret []byte, plateID string, counter uint64, out *[MACLen]byte) {
	var in [len(Label) + 2 + MaxPlateIDLen + 8]byte
	b := append(in[:0], Label...)
	b = append(b, 0, byte(len(plateID)))
	b = append(b, plateID...)
	b = binary.BigEndian.AppendUint64(b, counter)
	h := hmac.New(sha256.New, secret)
	h.Write(b)
	var sum [sha256.Size]byte
	copy(out[:], h.Sum(sum[:0]))
}

// MAC returns the MAC of (plateID, counter) as it appears in a URL.
func MAC(plateID string, counter uint64, secret []byte) (string, error) {
	if len(secret) < MinSecretLen {
		return "", ErrShortSecret
	}
	if err := ValidPlateID(plateID); err != nil {
		return "", err
	}
	var m [MACLen]byte
	mac(secret, plateID, counter, &m)
	return base64.RawURLEncoding.EncodeToString(m[:]), nil
}

// Sign returns the coupon URL for (plateID, counter): base with p, c and m
// appended to its query. It fails on a base that is not an absolute http(s)
// URL, already has a p, c or m parameter, or with the signature no longer
// fits an NTAG I2C plus 1k.
func Sign(base, plateID string, counter uint64, secret []byte) (string, error) {
	if err := checkBase(base); err != nil {
		return "", err
	}
	m, err := MAC(plateID, counter, secret)
	if err != nil {
		return "", err
	}
	u := appendParams(base, plateID, strconv.FormatUint(counter, 10), m)
	if err := Fits(u); err != nil {
		return "", err
	}
	return u, nil
}

// appendParams inserts the three parameters at the end of base's query,
// before its fragment, leaving the rest of base byte for byte as it was.
func appendParams(base, plateID, counter, m string) string {
	frag := ""
	if i := strings.IndexByte(base, '#'); i >= 0 {
		base, frag = base[:i], base[i:]
	}
	var b strings.Builder
	b.Grow(len(base) + len(frag) + len(plateID) + len(counter) + len(m) + 10)
	b.WriteString(base)
	switch q := strings.IndexByte(base, '?'); {
	case q < 0:
		b.WriteByte('?')
	case q == len(base)-1 || base[len(base)-1] == '&':
	default:
		b.WriteByte('&')
	}
	b.WriteString(ParamPlate + "=" + plateID + "&" + ParamCounter + "=" + counter + "&" + ParamMAC + "=" + m)
	b.WriteString(frag)
	return b.String()
}

// checkBase refuses base URLs a coupon cannot be built on.
func checkBase(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadBase, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("%w: scheme %q, want https or http", ErrBadBase, u.Scheme)
	}
	if u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%w: no host", ErrBadBase)
	}
	if u.User != nil {
		return fmt.Errorf("%w: carries user information", ErrBadBase)
	}
	q, _, _ := strings.Cut(u.RawQuery, "#")
	for _, kv := range strings.Split(q, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if k == ParamPlate || k == ParamCounter || k == ParamMAC {
			return fmt.Errorf("%w: already has a %q parameter, which the coupon uses", ErrBadBase, k)
		}
	}
	return nil
}

// CheckBase reports whether coupons for plateID on base can be signed for
// every counter: base is usable and the longest such URL fits the tag.
// Cloud commands that set a plate's base URL check it with this.
func CheckBase(base, plateID string) error {
	if err := checkBase(base); err != nil {
		return err
	}
	if err := ValidPlateID(plateID); err != nil {
		return err
	}
	longest := appendParams(base, plateID, strconv.FormatUint(math.MaxUint64, 10), strings.Repeat("A", MACChars))
	return Fits(longest)
}

// Fits reports whether u, as one NDEF URI record, fits an NTAG I2C plus 1k.
func Fits(u string) error {
	msg, err := ndef.EncodeURI(u)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadBase, err)
	}
	tlv := len(msg) + 3 // 0x03, 1-byte length, terminator 0xFE
	if len(msg) >= 0xFF {
		tlv += 2 // 3-byte length form
	}
	if tlv > TagBudget {
		return fmt.Errorf("%w: %d bytes as an NDEF TLV, an NTAG I2C plus 1k holds %d", ErrTooLong, tlv, TagBudget)
	}
	return nil
}

// parsed is a coupon URL taken apart, MAC not yet checked.
type parsed struct {
	claims Claims
	mac    [MACLen]byte
}

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, a...)...)
}

func parse(u string) (parsed, error) {
	var p parsed
	if _, err := url.Parse(u); err != nil {
		return p, malformed("%v", err)
	}
	q := u
	if i := strings.IndexByte(q, '#'); i >= 0 {
		q = q[:i]
	}
	i := strings.IndexByte(q, '?')
	if i < 0 {
		return p, malformed("no query")
	}
	q = q[i+1:]
	var vals [3]string
	var seen [3]bool
	for len(q) > 0 {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(kv, "=")
		j := -1
		switch k {
		case ParamPlate:
			j = 0
		case ParamCounter:
			j = 1
		case ParamMAC:
			j = 2
		}
		if j < 0 {
			continue
		}
		if seen[j] {
			return p, malformed("parameter %q given twice", k)
		}
		seen[j], vals[j] = true, v
	}
	for j, name := range [3]string{ParamPlate, ParamCounter, ParamMAC} {
		if !seen[j] {
			return p, malformed("no %q parameter", name)
		}
	}
	if err := ValidPlateID(vals[0]); err != nil {
		return p, malformed("parameter p: %v", err)
	}
	c := vals[1]
	n, err := strconv.ParseUint(c, 10, 64)
	if err != nil || c[0] == '+' || (len(c) > 1 && c[0] == '0') {
		return p, malformed("parameter c: want a decimal counter without sign or leading zeros")
	}
	if len(vals[2]) != MACChars {
		return p, malformed("parameter m: want %d base64url characters, got %d", MACChars, len(vals[2]))
	}
	if _, err := base64.RawURLEncoding.Strict().Decode(p.mac[:], []byte(vals[2])); err != nil {
		return p, malformed("parameter m: not unpadded base64url")
	}
	p.claims = Claims{PlateID: vals[0], Counter: n}
	return p, nil
}

// Inspect returns what u claims without checking its MAC, e.g. to choose
// the secret to verify it with. Never act on unverified claims.
func Inspect(u string) (Claims, error) {
	p, err := parse(u)
	return p.claims, err
}

// Verify checks that u is a coupon URL signed with secret and returns its
// claims. It does not know whether the coupon was redeemed before: use a
// Verifier for that. Errors wrap ErrMalformed, ErrBadMAC or ErrShortSecret.
func Verify(u string, secret []byte) (Claims, error) {
	if len(secret) < MinSecretLen {
		return Claims{}, ErrShortSecret
	}
	p, err := parse(u)
	if err != nil {
		return Claims{}, err
	}
	var want [MACLen]byte
	mac(secret, p.claims.PlateID, p.claims.Counter, &want)
	if !hmac.Equal(want[:], p.mac[:]) {
		return Claims{}, ErrBadMAC
	}
	return p.claims, nil
}
