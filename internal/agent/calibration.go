package agent

// Calibration: `edge-agent calibrate` measures a sensor (a distance
// sensor's idle floor, a beam's or a PIR's or a plate's timings) and sends
// the keys it proposes ({"cmd":"calibrate"} on the status
// socket). The daemon validates them by building the detector, saves them
// in state_dir/calibration.json and hands them to the pipeline goroutine,
// which swaps the sensor's detector: counting changes without a restart,
// and the next start merges the file over the config's params.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/omo-edge/edge-agent/internal/detect"
	"github.com/omo-edge/edge-agent/internal/sensor"
)

// calibrationFile is the calibrations' file in the state directory.
const calibrationFile = "calibration.json"

// Calibration is one sensor's calibrated keys and when they were set.
type Calibration struct {
	Params map[string]string `json:"params"`
	At     time.Time         `json:"at"`
}

// CalibrationResult is the daemon's answer to a calibrate command.
type CalibrationResult struct {
	Sensor string `json:"sensor"`
	Calibration
	// Effective is the sensor's keys now in use: config params with the
	// calibration over them.
	Effective map[string]string `json:"effective"`
}

// calibratableKeys lists, per kind, the keys a calibration may set. A
// distance sensor may set any of its kind's keys (the idle floor decides
// baselines and threshold); the level sensors only the timing keys their
// tests measure: a technician's test never decides a beam's
// max_presence_ms or a PIR's merge_gap_ms, which are store policy.
var calibratableKeys = map[sensor.Kind][]string{
	sensor.KindToF2Zone:    nil, // every tof-2zone key
	sensor.KindToFPresence: nil, // every tof-presence key
	sensor.KindBeamPair:    {"debounce_ms", "max_gap_ms", "bridge_ms"},
	sensor.KindPulse:       {"debounce_ms", "min_pulse_ms"},
	sensor.KindPIR:         {"hold_ms"},
	sensor.KindNFCPlate:    {"merge_ms", "min_tap_ms"},
}

// Calibratable reports whether sensors of kind k can be calibrated.
func Calibratable(k sensor.Kind) bool {
	_, ok := calibratableKeys[k]
	return ok
}

// CalibrationKeys returns the keys a calibration of kind k may set; nil
// with Calibratable(k) means all of the kind's keys.
func CalibrationKeys(k sensor.Kind) []string {
	return append([]string(nil), calibratableKeys[k]...)
}

// checkCalibrationKeys refuses keys a calibration of spec's kind may not set.
func checkCalibrationKeys(spec sensor.Spec, cal map[string]string) error {
	allowed, ok := calibratableKeys[spec.Kind]
	if !ok {
		return fmt.Errorf("sensor %q: a %s sensor cannot be calibrated", spec.ID, spec.Kind)
	}
	if allowed == nil {
		return nil
	}
	keys := make([]string, 0, len(cal))
	for k := range cal {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		found := false
		for _, a := range allowed {
			found = found || a == k
		}
		if !found {
			return fmt.Errorf("sensor %q: key %s cannot be calibrated on a %s sensor (calibratable: %s)", spec.ID, k, spec.Kind, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// loadCalibrations reads dir's calibration file; a missing file is none.
func loadCalibrations(dir string) (map[string]Calibration, error) {
	path := filepath.Join(dir, calibrationFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]Calibration{}, nil
	}
	if err != nil {
		return nil, err
	}
	m := map[string]Calibration{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// saveCalibrations writes m to dir's calibration file atomically: a temp
// file, fsynced, renamed over the old one, and the directory fsynced, so a
// power cut leaves the old file or the new one, never half of one.
func saveCalibrations(dir string, m map[string]Calibration) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, calibrationFile+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename: nothing there
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, calibrationFile)); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// calibrated returns spec with cal's keys set over its own.
func calibrated(spec sensor.Spec, cal map[string]string) (sensor.Spec, error) {
	if err := checkCalibrationKeys(spec, cal); err != nil {
		return spec, err
	}
	out := spec
	out.Params = make(map[string]string, len(spec.Params)+len(cal))
	for k, v := range spec.Params {
		out.Params[k] = v
	}
	keys := make([]string, 0, len(cal))
	for k := range cal {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := out.Set(k, cal[k]); err != nil {
			return spec, err
		}
	}
	if _, err := detect.New(out, 0); err != nil {
		return spec, err
	}
	return out, nil
}

// applyCalibrations merges the saved calibrations over the config's specs
// at start. One that no longer fits (a sensor removed, keys the config now
// contradicts) is logged and left out: the daemon runs on the config.
func (a *Agent) applyCalibrations(specs []sensor.Spec) []sensor.Spec {
	cals, err := loadCalibrations(a.cfg.StateDir)
	if err != nil {
		a.log.Warn("calibration file unreadable; running on the config's params", "err", err)
		cals = map[string]Calibration{}
	}
	a.cals = cals
	out := append([]sensor.Spec(nil), specs...)
	for id, c := range cals {
		i := indexOf(specs, id)
		if i < 0 {
			a.log.Warn("calibration of a sensor no longer configured is ignored", "sensor", id)
			continue
		}
		s, err := calibrated(specs[i], c.Params)
		if err != nil {
			// Not shown as in use; the file keeps it until the next calibration.
			delete(cals, id)
			a.log.Warn("calibration does not fit the config; running on the config's params", "sensor", id, "err", err)
			continue
		}
		out[i] = s
		a.log.Info("calibration applied", "sensor", id, "at", c.At.Format(time.RFC3339))
	}
	return out
}

func indexOf(specs []sensor.Spec, id string) int {
	for i, s := range specs {
		if s.ID == id {
			return i
		}
	}
	return -1
}

// calibrateReq asks the pipeline goroutine to swap sensor i's detector.
type calibrateReq struct {
	i     int
	spec  sensor.Spec
	reply chan error
}

// calibrate validates, saves and applies one sensor's calibration. It runs
// on a socket connection's goroutine; the swap itself on the pipeline's.
func (a *Agent) calibrate(ctx context.Context, id string, params map[string]string) (CalibrationResult, error) {
	i := a.sensorIndex(id)
	if i < 0 {
		return CalibrationResult{}, fmt.Errorf("unknown sensor %q (known: %s)", id, strings.Join(a.sensorIDs(), ", "))
	}
	base := a.baseSpecs[i]
	if !Calibratable(base.Kind) {
		return CalibrationResult{}, fmt.Errorf("sensor %q: a %s sensor cannot be calibrated (calibrate works on tof-2zone, tof-presence, beam-pair, pulse, pir and nfc-plate)", id, base.Kind)
	}
	if len(params) == 0 {
		return CalibrationResult{}, fmt.Errorf("sensor %q: no params to calibrate", id)
	}
	spec, err := calibrated(base, params)
	if err != nil {
		return CalibrationResult{}, err
	}
	// One calibration at a time: the file and the swap stay in step.
	a.calMu.Lock()
	defer a.calMu.Unlock()
	cal := Calibration{Params: params, At: a.clock.Wall().UTC().Truncate(time.Second)}
	next := make(map[string]Calibration, len(a.cals)+1)
	for k, v := range a.cals {
		next[k] = v
	}
	next[id] = cal
	if err := saveCalibrations(a.cfg.StateDir, next); err != nil {
		return CalibrationResult{}, fmt.Errorf("saving the calibration: %w", err)
	}
	req := calibrateReq{i: i, spec: spec, reply: make(chan error, 1)}
	select {
	case a.calibs <- req:
	case <-ctx.Done():
		return CalibrationResult{}, errors.New("the daemon is stopping; the calibration is saved and applies at the next start")
	}
	if err := <-req.reply; err != nil {
		return CalibrationResult{}, err
	}
	a.cals = next
	a.params[i] = spec.Params
	return CalibrationResult{Sensor: id, Calibration: cal, Effective: spec.Params}, nil
}

// sensorParams returns sensor i's keys in use (maps are replaced, never
// written, so the caller may read it after the lock is released).
func (a *Agent) sensorParams(i int) map[string]string {
	a.calMu.Lock()
	defer a.calMu.Unlock()
	return a.params[i]
}

// sensorCalibration returns sensor i's calibration, if it has one in use.
func (a *Agent) sensorCalibration(id string) *Calibration {
	a.calMu.Lock()
	defer a.calMu.Unlock()
	c, ok := a.cals[id]
	if !ok {
		return nil
	}
	return &c
}

type calibrateReply struct {
	Error       string             `json:"error,omitempty"`
	Calibration *CalibrationResult `json:"calibration,omitempty"`
}

// Calibrate asks the daemon listening on path to calibrate sensor with
// params (kind keys such as baseline_z0_mm). A daemon that is not running
// gives an error wrapping ErrNotRunning; a refusal, the daemon's message.
func Calibrate(path, sensorID string, params map[string]string, timeout time.Duration) (CalibrationResult, error) {
	c, err := dialDaemon(path, timeout)
	if err != nil {
		return CalibrationResult{}, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	b, _ := json.Marshal(StreamRequest{Cmd: "calibrate", Sensor: sensorID, Params: params})
	if _, err := c.Write(append(b, '\n')); err != nil {
		return CalibrationResult{}, fmt.Errorf("status socket %s: %w", path, err)
	}
	var rep calibrateReply
	if err := json.NewDecoder(bufio.NewReader(c)).Decode(&rep); err != nil {
		return CalibrationResult{}, fmt.Errorf("status socket %s: bad reply: %w", path, err)
	}
	if rep.Error != "" || rep.Calibration == nil {
		return CalibrationResult{}, errors.New(rep.Error)
	}
	return *rep.Calibration, nil
}
