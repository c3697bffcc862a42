package agent

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/plate"
	"github.com/omo-edge/edge-agent/internal/pseudo"
	"github.com/omo-edge/edge-agent/internal/sensor"
)

// nfcState is what the NFC sensors share: the plates' controllers (used by
// their sources and by the cloud's commands) and the pseudonymizer of the
// check-in readers.
type nfcState struct {
	plates map[string]*plate.Controller // by sensor id
	ps     *pseudo.Pseudonymizer        // nil without readers
	log    *slog.Logger
}

// openNFC loads the NFC secrets and opens every plate's controller. Errors
// are the user's to fix (a secret file, the state directory, a plate that
// another process drives).
func openNFC(cfg *config.Config, log *slog.Logger) (*nfcState, error) {
	n := &nfcState{plates: map[string]*plate.Controller{}, log: log.With("part", "nfc")}
	var plateSecret []byte
	for i, sc := range cfg.Sensors {
		switch sensor.Kind(sc.Kind) {
		case sensor.KindNFCPlate:
			if plateSecret == nil {
				var err error
				if plateSecret, err = storeSecret(cfg, cfg.NFC.PlateSecretFile, "plate.secret", log); err != nil {
					n.close()
					return nil, fmt.Errorf("nfc.plate_secret_file: %w", err)
				}
			}
			c, err := openPlateController(cfg, i, plateSecret, log)
			if err != nil {
				n.close()
				return nil, err
			}
			n.plates[sc.ID] = c
		case sensor.KindNFCReader:
			if n.ps != nil {
				continue
			}
			secret, err := storeSecret(cfg, cfg.NFC.PseudonymSecretFile, "pseudonym.secret", log)
			if err != nil {
				n.close()
				return nil, fmt.Errorf("nfc.pseudonym_secret_file: %w", err)
			}
			if n.ps, err = pseudo.New(secret); err != nil {
				n.close()
				return nil, fmt.Errorf("nfc.pseudonym_secret_file: %w", err)
			}
			clear(secret)
		}
	}
	return n, nil
}

// OpenPlate opens the controller of plate id as the daemon does (its state
// in state_dir/plates, the store's plate secret), for the CLI. It fails
// with plate.ErrBusy while the daemon drives the plate.
func OpenPlate(cfg *config.Config, id string, log *slog.Logger) (*plate.Controller, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	i, err := plateIndex(cfg, id)
	if err != nil {
		return nil, err
	}
	secret, err := storeSecret(cfg, cfg.NFC.PlateSecretFile, "plate.secret", log)
	if err != nil {
		return nil, fmt.Errorf("nfc.plate_secret_file: %w", err)
	}
	return openPlateController(cfg, i, secret, log)
}

func plateIndex(cfg *config.Config, id string) (int, error) {
	var plates []string
	for i, sc := range cfg.Sensors {
		if sensor.Kind(sc.Kind) != sensor.KindNFCPlate {
			continue
		}
		if sc.ID == id {
			return i, nil
		}
		plates = append(plates, sc.ID)
	}
	if len(plates) == 0 {
		return -1, fmt.Errorf("no plate %q: %s configures no nfc-plate sensor", id, cfg.File)
	}
	return -1, fmt.Errorf("no plate %q in %s (plates: %v)", id, cfg.File, plates)
}

func openPlateController(cfg *config.Config, i int, secret []byte, log *slog.Logger) (*plate.Controller, error) {
	sc := cfg.Sensors[i]
	def := plate.Content{BaseURL: cfg.PlateBaseURL(i)}
	if sc.NFC != nil && sc.NFC.URI != "" {
		def = plate.Content{URI: sc.NFC.URI}
	}
	quiet := 1500 * time.Millisecond // the tap detector's merge_ms default
	if v, err := strconv.ParseInt(sc.Params["merge_ms"], 10, 64); err == nil && v >= 0 {
		quiet = time.Duration(v) * time.Millisecond
	}
	c, err := plate.Open(plate.Options{Plate: sc.ID, Secret: secret, Dir: filepath.Join(cfg.StateDir, "plates"),
		Default: def, Quiet: max(quiet, time.Millisecond), Log: log.With("part", "plate")})
	if err != nil {
		return nil, fmt.Errorf("sensors[%d] (%s): %w", i, sc.ID, err)
	}
	return c, nil
}

// storeSecret reads a store secret from file; with no file configured
// (only simulated sensors: Validate insists on files for hardware) it uses
// one generated in state_dir at first start.
func storeSecret(cfg *config.Config, file, generated string, log *slog.Logger) ([]byte, error) {
	if file != "" {
		return pseudo.LoadSecret(file)
	}
	path := filepath.Join(cfg.StateDir, generated)
	if b, err := pseudo.LoadSecret(path); err == nil {
		return b, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	s := base64.RawStdEncoding.AppendEncode(nil, raw)
	if err := os.MkdirAll(cfg.StateDir, 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) { // another process made it first
			return pseudo.LoadSecret(path)
		}
		return nil, err
	}
	_, werr := f.Write(append(s, '\n'))
	if err := f.Sync(); werr == nil {
		werr = err
	}
	if err := f.Close(); werr == nil {
		werr = err
	}
	if werr != nil {
		return nil, werr
	}
	log.Warn("no NFC secret file configured: generated one for the simulated sensors", "file", path)
	return s, nil
}

func (n *nfcState) close() {
	if n == nil {
		return
	}
	for _, c := range n.plates {
		c.Close()
	}
}
