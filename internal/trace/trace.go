package trace

import (
	"strconv"
	"time"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

// Fixed lines of trace-v1.
const (
	Magic   = "# edge-agent-trace v1"
	Columns = "t_ms,sensor,channel,value"
)

// MaxLineLen is the longest line the reader accepts, its buffer size.
const MaxLineLen = 64 << 10

// Header is what a trace declares before its readings.
type Header struct {
	Start   time.Time     // wall-clock time of t_ms = 0, UTC
	Sensors []sensor.Spec // in declaration order; Reading.Sensor indexes this
	// SensorLines holds the line of each "# sensor" (same index as Sensors),
	// so later validation (detector keys) can name the line. Zero for a
	// header that was not read from a file.
	SensorLines []int
}

// Error is a problem with a trace, at a 1-based line.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return "line " + strconv.Itoa(e.Line) + ": " + e.Msg }

// valueClass is what values a kind's readings carry.
type valueClass uint8

const (
	classLevel    valueClass = iota // 0 or 1
	classDistance                   // mm, -1 = no valid range
	classToken                      // hex token
)

func classOf(k sensor.Kind) valueClass {
	switch {
	case k.TokenValued():
		return classToken
	case k == sensor.KindToF2Zone || k == sensor.KindToFPresence:
		return classDistance
	default:
		return classLevel
	}
}

// sensorInfo is what a reading line is checked against, resolved once from
// the header so the per-line path does no map lookup into sensor's tables.
type sensorInfo struct {
	id       string
	kind     sensor.Kind
	channels []string
	class    valueClass
}

func infoOf(s sensor.Spec) sensorInfo {
	return sensorInfo{id: s.ID, kind: s.Kind, channels: s.Kind.Channels(), class: classOf(s.Kind)}
}
