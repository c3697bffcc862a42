package plate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// stateVersion is the version of the state file's format.
const stateVersion = 1

// state is what a plate keeps across restarts.
type state struct {
	V     int    `json:"v"`
	Plate string `json:"plate"`
	// Reserved bounds the counters issued so far: every counter below it
	// may have been used, none at or above it has.
	Reserved uint64 `json:"reserved"`
	// Content is what the tag should hold; From says who set it: "config"
	// (replaced when the config changes), "cloud" or "cli" (kept).
	Content   Content `json:"content"`
	From      string  `json:"from,omitempty"`
	RequestID string  `json:"request_id,omitempty"`
}

// errNoState means no state file exists yet.
var errNoState = errors.New("no state file")

func loadState(path string) (state, error) {
	var st state
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, errNoState
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("not a plate state file: %v", err)
	}
	if st.V != stateVersion {
		return st, fmt.Errorf("state version %d, this agent knows %d", st.V, stateVersion)
	}
	return st, nil
}

// saveState replaces the file at path with st durably: a temporary file
// written and fsynced, renamed over path, then the directory fsynced so
// the rename itself survives a power cut.
func saveState(path string, st state) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// lockFile takes an exclusive, non-blocking flock on path.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrBusy
		}
		return nil, err
	}
	return f, nil
}
