package config

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// FuzzParse: any bytes give a config or an *Error naming the file, never a
// panic; a parsed config validates or fails with an *Error too.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"../../configs/store.example.yaml", "../../configs/demo.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("store_id: s\nsensors: [{id: d, kind: beam-pair, role: entrance, pins: {a: A, b: B}}]\n"))
	f.Add([]byte("mqtt: {broker: [1, 2]}\nwindow: -1s\n"))
	f.Add([]byte("sensors:\n  - &a {id: x}\n  - *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		var ce *Error
		if err != nil {
			if !errors.As(err, &ce) || ce.File != "fuzz.yaml" {
				t.Fatalf("parse error %T %v does not name the file", err, err)
			}
			return
		}
		c.MQTT.Broker = "tcp://127.0.0.1:1883"
		if err := c.Validate(); err != nil && !errors.As(err, &ce) {
			t.Fatalf("validate error %T %v is not a *config.Error", err, err)
		}
	})
}

// A file the config names that is a FIFO or a directory is refused at
// once: opening a FIFO would block validation (and the daemon's start).
func TestNamedFileMustBeRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := dir + "/pw"
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no mkfifo here:", err)
	}
	for _, path := range []string{fifo, dir} {
		c, err := Parse("t.yaml", []byte("store_id: s\nagent_id: a\nmqtt: {broker: \"tcp://127.0.0.1:1883\", username: u, password_file: \""+path+"\"}\nsensors: [{id: d, kind: beam-pair, role: entrance, pins: {a: A, b: B}}]\n"))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- c.Validate() }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") || !strings.Contains(err.Error(), "mqtt.password_file") {
				t.Fatalf("%s: %v", path, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("validation blocked on %s", path)
		}
	}
}
