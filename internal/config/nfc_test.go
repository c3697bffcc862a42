package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func nfcYAML(secretDir, nfc, sensors string) string {
	return `store_id: s1
agent_id: a1
state_dir: /tmp/x
mqtt: {broker: "tcp://127.0.0.1:1883"}
` + strings.ReplaceAll(nfc, "DIR", secretDir) + `
sensors:
` + sensors
}

func TestNFCConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "good"), []byte("0123456789abcdef0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "short"), []byte("0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const secrets = "nfc: {plate_secret_file: DIR/good, pseudonym_secret_file: DIR/good}"
	plate := func(nfc string) string {
		return "  - {id: plate-1, kind: nfc-plate, role: plate" + nfc + "}\n"
	}
	reader := func(nfc string) string {
		return "  - {id: reader, kind: nfc-reader, role: checkin" + nfc + "}\n"
	}
	ok := []struct{ nfc, sensors string }{
		{secrets, plate(", nfc: {bus: '1', fd_pin: GPIO17, base_url: 'https://c.example.com/t'}") + reader(", nfc: {bus: '1', address: 0x24, irq_pin: GPIO25}")},
		{secrets, plate(", nfc: {bus: '1', uri: 'https://example.com/survey'}") + reader(", nfc: {spi: /dev/spidev0.0, aid: F0010203040506, felica: true}")},
		{"", plate(", simulate: {seed: 1, per_minute: 2}") + reader(", simulate: {seed: 1, per_minute: 2}")},
		{"nfc: {base_url: 'https://c.example.com/t'}", plate(", nfc: {spi: x}")[:0] + plate(", simulate: {seed: 1, per_minute: 2}")},
	}
	for _, c := range ok {
		cfg, err := Parse("t.yaml", []byte(nfcYAML(dir, c.nfc, c.sensors)))
		if err == nil {
			err = cfg.Validate()
		}
		if err != nil {
			t.Errorf("%s\n%s: %v", c.nfc, c.sensors, err)
		}
	}
	bad := []struct{ nfc, sensors, want string }{
		{"", plate(", nfc: {bus: '1'}"), "nfc.plate_secret_file: required"},
		{"", reader(", nfc: {bus: '1'}"), "nfc.pseudonym_secret_file: required"},
		{"nfc: {plate_secret_file: DIR/short}", plate(", nfc: {bus: '1'}"), "want at least 16"},
		{"nfc: {plate_secret_file: DIR/missing}", plate(", nfc: {bus: '1'}"), "no such file"},
		{"nfc: {base_url: 'ftp://x'}", plate(", simulate: {seed: 1, per_minute: 2}"), "nfc.base_url"},
		{secrets, plate(""), "sensors[0].nfc: required"},
		{secrets, plate(", nfc: {fd_pin: GPIO17}"), "sensors[0].nfc.bus: required"},
		{secrets, plate(", bus: '1', nfc: {bus: '1'}"), "write nfc.bus instead"},
		{secrets, plate(", pins: {field: GPIO17}, nfc: {bus: '1'}"), "write nfc.fd_pin instead"},
		{secrets, plate(", nfc: {bus: '1', aid: F001020304}"), "belongs to a PN532 reader"},
		{secrets, plate(", nfc: {bus: '1', base_url: 'https://a.example/t', uri: 'https://a.example/u'}"), "not both"},
		{secrets, plate(", nfc: {bus: '1', base_url: 'https://a.example/t?c=1'}"), "nfc.base_url"},
		{secrets, plate(", nfc: {bus: '1', uri: 'javascript:alert(1)'}"), "want an https://"},
		{secrets, plate(", nfc: {bus: '1', address: 0x80}"), "not a 7-bit"},
		{secrets, plate(", nfc: {bus: '1', poll_interval: 1h}"), "want 1ms to 10s"},
		{secrets, reader(", nfc: {bus: '1', spi: /dev/spidev0.0}"), "not both"},
		{secrets, reader(", nfc: {}"), "sensors[0].nfc.bus: required"},
		{secrets, reader(", nfc: {bus: '1', aid: F0}"), "5 to 16 bytes"},
		{secrets, reader(", nfc: {bus: '1', aid: zz0102030405}"), "5 to 16 bytes"},
		{secrets, reader(", nfc: {bus: '1', fd_pin: GPIO4}"), "belongs to a smart plate"},
		{secrets, reader(", nfc: {spi: /dev/spidev0.0, address: 0x24}"), "no meaning on SPI"},
		{secrets, "  - {id: door, kind: pir, role: shelf, pins: {motion: GPIO4}, nfc: {bus: '1'}}\n", "only nfc-plate and nfc-reader"},
		{secrets, plate(", nfc: {bus: '1', colour: red}"), "unknown key"},
	}
	for _, c := range bad {
		cfg, err := Parse("t.yaml", []byte(nfcYAML(dir, c.nfc, c.sensors)))
		if err == nil {
			err = cfg.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n%s: %v, want %q", c.nfc, c.sensors, err, c.want)
		}
	}
}

func TestNFCSensorDefaults(t *testing.T) {
	var n *NFCSensorConfig
	if got := n.AIDBytes(); len(got) != 8 || got[0] != 0xF0 {
		t.Fatalf("default AID % x", got)
	}
	if got := (&NFCSensorConfig{AID: "A0:00:00:00:01"}).AIDBytes(); len(got) != 5 || got[0] != 0xA0 {
		t.Fatalf("AID % x", got)
	}
}
