package config

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/omo-edge/edge-agent/drivers/nfc/plateurl"
	"github.com/omo-edge/edge-agent/internal/pseudo"
	"github.com/omo-edge/edge-agent/internal/sensor"
)

// NFCStoreConfig holds the store-wide NFC settings (secrets for one-time
// plate URLs and for pseudonymizing check-in tokens). The secrets live in
// files (mode 0600, owned by the agent's user) so that they never appear in
// the config, a log or a support bundle.
type NFCStoreConfig struct {
	// PlateSecretFile holds the per-store secret that signs the plates'
	// one-time URLs (drivers/nfc/plateurl); the cloud verifies with the same
	// secret. Required with plates on real hardware; simulated plates get a
	// secret generated in state_dir when it is empty.
	PlateSecretFile string `yaml:"plate_secret_file"`
	// PseudonymSecretFile holds the per-store secret of the keyed hash that
	// replaces card UIDs and app tokens on the device (internal/pseudo).
	// Required with readers on real hardware; simulated readers get a
	// secret generated in state_dir when it is empty.
	PseudonymSecretFile string `yaml:"pseudonym_secret_file"`
	// BaseURL is the default base of the plates' one-time URLs, for plates
	// that give none themselves; the cloud may set another per plate.
	BaseURL string `yaml:"base_url"`
}

// NFCSensorConfig holds a plate's or a reader's own keys. All hardware keys
// of NFC sensors live here, under the sensor's nfc: key.
type NFCSensorConfig struct {
	// Bus is the I²C bus ("1" or "/dev/i2c-1") of an NTAG I2C plus plate or
	// of a PN532 reader on I²C.
	Bus string `yaml:"bus"`
	// Address is the 7-bit I²C address (default 0x55 for an NTAG, 0x24 for
	// a PN532).
	Address uint16 `yaml:"address"`
	// SPI is the PN532's SPI port (/dev/spidev0.0, SPI0.0) instead of Bus.
	SPI string `yaml:"spi"`
	// FDPin is the GPIO wired to a plate's field-detect pin; without it the
	// agent polls NS_REG RF_FIELD_PRESENT every PollInterval.
	FDPin string `yaml:"fd_pin"`
	// IRQPin is the GPIO wired to the PN532's P70_IRQ, optional.
	IRQPin string `yaml:"irq_pin"`
	// PollInterval is, for a plate without FD pin, how often NS_REG is read
	// (default 20ms); for a reader, the pause between two polls (default
	// 100ms).
	PollInterval time.Duration `yaml:"poll_interval"`
	// BaseURL is a plate's base for one-time URLs (default nfc.base_url).
	BaseURL string `yaml:"base_url"`
	// URI is a plate's static content instead of one-time URLs.
	URI string `yaml:"uri"`
	// AID is the application id (hex, 5..16 bytes) of the store app's HCE
	// service that a reader SELECTs on a phone to read the member token
	// (default DefaultAID).
	AID string `yaml:"aid"`
	// FeliCa makes a reader also poll FeliCa cards (212 kbps).
	FeliCa bool `yaml:"felica"`
}

// DefaultAID is the store app's HCE application id when the config gives
// none: a proprietary AID (first nibble F, ISO/IEC 7816-5).
const DefaultAID = "F0454447454E4643"

// Defaults of the NFC sensor keys.
const (
	DefaultPlatePoll  = 20 * time.Millisecond
	DefaultReaderPoll = 100 * time.Millisecond
)

// AIDBytes returns the reader's AID, DefaultAID when none is set (after
// Validate).
func (n *NFCSensorConfig) AIDBytes() []byte {
	s := DefaultAID
	if n != nil && n.AID != "" {
		s = n.AID
	}
	b, _ := hex.DecodeString(strings.ReplaceAll(s, ":", ""))
	return b
}

// PlateBaseURL is the base URL a plate starts with: its own, else the
// store's (may be empty: the cloud then sets it).
func (c *Config) PlateBaseURL(i int) string {
	if n := c.Sensors[i].NFC; n != nil && n.BaseURL != "" {
		return n.BaseURL
	}
	return c.NFC.BaseURL
}

// validateNFC checks the store-wide NFC section.
func (c *Config) validateNFC() error {
	n := &c.NFC
	realPlates, realReaders := 0, 0
	for _, s := range c.Sensors {
		if s.Simulate != nil {
			continue
		}
		switch sensor.Kind(s.Kind) {
		case sensor.KindNFCPlate:
			realPlates++
		case sensor.KindNFCReader:
			realReaders++
		}
	}
	for _, f := range []struct {
		key, path string
		need      int
		what      string
	}{
		{"nfc.plate_secret_file", n.PlateSecretFile, realPlates, "signs the plates' one-time URLs"},
		{"nfc.pseudonym_secret_file", n.PseudonymSecretFile, realReaders, "pseudonymizes check-in tokens"},
	} {
		if f.path == "" {
			if f.need > 0 {
				return c.errf(f.key, "required with NFC hardware: a file holding the store's secret (at least %d bytes) that %s, e.g. /etc/edge-agent/%s", pseudo.MinSecretLen, f.what, strings.TrimSuffix(strings.TrimPrefix(f.key, "nfc."), "_file"))
			}
			continue
		}
		if _, err := pseudo.LoadSecret(f.path); err != nil {
			return c.errf(f.key, "%v (create one with: head -c 32 /dev/urandom | base64 > FILE; chmod 600 FILE)", err)
		}
	}
	if n.BaseURL != "" {
		if err := plateurl.CheckBase(n.BaseURL, "p"); err != nil {
			return c.errf("nfc.base_url", "%v", err)
		}
	}
	return nil
}

// validateNFCSensor checks sensor i's nfc section.
func (c *Config) validateNFCSensor(i int) error {
	s := &c.Sensors[i]
	key := func(k string) string { return fmt.Sprintf("sensors[%d].%s", i, k) }
	k := sensor.Kind(s.Kind)
	isNFC := k == sensor.KindNFCPlate || k == sensor.KindNFCReader
	if !isNFC {
		if s.NFC != nil {
			return c.errf(key("nfc"), "only nfc-plate and nfc-reader sensors have an nfc section (this one is %s)", k)
		}
		return nil
	}
	// The NFC sensors' hardware keys live under nfc:, not beside the kind.
	for _, f := range []struct {
		name string
		set  bool
		to   string
	}{{"bus", s.Bus != "", "nfc.bus"}, {"address", s.Address != 0, "nfc.address"}, {"interrupt", s.Interrupt != "", "nfc.irq_pin"},
		{"pins", len(s.Pins) > 0, "nfc.fd_pin"}, {"spi", s.SPI != "", "nfc.spi"}, {"xshut", s.XShut != "", ""}} {
		if !f.set {
			continue
		}
		if f.to == "" {
			return c.errf(key(f.name), "a %s sensor has no %s", k, f.name)
		}
		return c.errf(key(f.name), "an %s sensor's hardware is set under nfc: write %s instead", k, f.to)
	}
	n := s.NFC
	if n == nil {
		if s.Simulate != nil {
			return nil
		}
		return c.errf(key("nfc"), "required for %s sensors on hardware: at least nfc.bus (the I²C bus, e.g. 1)%s", k,
			map[bool]string{true: " or nfc.spi", false: ""}[k == sensor.KindNFCReader])
	}
	nk := func(f string) string { return key("nfc." + f) }
	if n.Address >= 0x80 {
		return c.errf(nk("address"), "%#x is not a 7-bit I²C address", n.Address)
	}
	if n.PollInterval != 0 && (n.PollInterval < time.Millisecond || n.PollInterval > 10*time.Second) {
		return c.errf(nk("poll_interval"), "%v: want 1ms to 10s", n.PollInterval)
	}
	if k == sensor.KindNFCPlate {
		for _, f := range []struct {
			name string
			set  bool
		}{{"spi", n.SPI != ""}, {"irq_pin", n.IRQPin != ""}, {"aid", n.AID != ""}, {"felica", n.FeliCa}} {
			if f.set {
				return c.errf(nk(f.name), "%s belongs to a PN532 reader (nfc-reader), not a plate", f.name)
			}
		}
		if n.Bus == "" && s.Simulate == nil {
			return c.errf(nk("bus"), "required: the I²C bus the plate's NTAG I2C plus is on, e.g. 1 for /dev/i2c-1")
		}
		if n.BaseURL != "" && n.URI != "" {
			return c.errf(nk("uri"), "give either base_url (one-time URLs) or uri (static content), not both")
		}
		if n.BaseURL != "" {
			if err := plateurl.CheckBase(n.BaseURL, s.ID); err != nil {
				return c.errf(nk("base_url"), "%v", err)
			}
		}
		if n.URI != "" {
			if err := checkStaticURI(n.URI); err != nil {
				return c.errf(nk("uri"), "%v", err)
			}
		}
		return nil
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"fd_pin", n.FDPin != ""}, {"base_url", n.BaseURL != ""}, {"uri", n.URI != ""}} {
		if f.set {
			return c.errf(nk(f.name), "%s belongs to a smart plate (nfc-plate), not a reader", f.name)
		}
	}
	if n.Bus != "" && n.SPI != "" {
		return c.errf(nk("spi"), "give either bus (I²C) or spi, not both")
	}
	if n.SPI != "" && n.Address != 0 {
		return c.errf(nk("address"), "an I²C address has no meaning on SPI")
	}
	if n.Bus == "" && n.SPI == "" && s.Simulate == nil {
		return c.errf(nk("bus"), "required: the PN532's I²C bus (e.g. 1) or, instead, nfc.spi (e.g. /dev/spidev0.0)")
	}
	if n.AID != "" {
		b, err := hex.DecodeString(strings.ReplaceAll(n.AID, ":", ""))
		if err != nil || len(b) < 5 || len(b) > 16 {
			return c.errf(nk("aid"), "%q: want the app's AID as 5 to 16 bytes of hex, e.g. %s", n.AID, DefaultAID)
		}
	}
	return nil
}

// checkStaticURI checks a plate's static content URI: http(s) and short
// enough for the smallest tag.
func checkStaticURI(u string) error {
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return fmt.Errorf("%q: want an https:// (or http://) URL", u)
	}
	return plateurl.Fits(u)
}
