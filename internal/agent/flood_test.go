package agent

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/omo-edge/edge-agent/internal/testutil/mosquitto"
)

// floodSettings: EDGE_AGENT_FLOOD_COMMANDS and EDGE_AGENT_FLOOD_SECONDS
// override the CI run (scripts/flood.sh sets the full 10,000 in 60 s).
func floodSettings(t *testing.T) (n int, d time.Duration) {
	n, d = 10000, 20*time.Second
	if v := os.Getenv("EDGE_AGENT_FLOOD_COMMANDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("EDGE_AGENT_FLOOD_COMMANDS=%q", v)
		}
	}
	if v := os.Getenv("EDGE_AGENT_FLOOD_SECONDS"); v != "" {
		s, err := strconv.Atoi(v)
		if err != nil || s < 1 {
			t.Fatalf("EDGE_AGENT_FLOOD_SECONDS=%q", v)
		}
		d = time.Duration(s) * time.Second
	}
	return n, d
}

// The real daemon binary (built without the race detector, as shipped)
// under a flood of malformed and oversized cloud commands while it counts:
// it answers errors at a bounded rate, logs at a bounded rate, its memory
// stays under 40 MB, and every committed window is delivered or buffered
// with no hole.
func TestAgentIntegrationCommandFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	total, dur := floodSettings(t)
	mq := mosquitto.Start(t, mosquitto.Options{Persistent: true})
	c := collect(t, mq.URL(), "cloud-flood")
	dir := t.TempDir()
	bin := buildDaemon(t, dir)
	path := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(path, []byte(simStoreYAML(mq.URL(), dir, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "edge-agent/test-store/test-pi/"
	replies := newArrivals()
	rc := mqttClient(t, mq.URL(), "flood-replies")
	if tok := rc.Subscribe(base+"reply/#", 0, func(mqtt.Client, mqtt.Message) { replies.add() }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}

	logs := newArrivals()
	cmd := exec.Command(bin, "run", "--config", path)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var suppressedLines []string
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			logs.add()
			if strings.Contains(sc.Text(), "suppressed") {
				suppressedLines = append(suppressedLines, sc.Text())
			}
		}
	}()
	waitFor(t, "the daemon online", 20*time.Second, func() bool {
		r, err := QueryStatus(filepath.Join(dir, "status.sock"), time.Second)
		return err == nil && r.Broker.Connected
	})
	commandAnswered(t, mq.URL(), base) // the command subscription follows the CONNACK
	rssBefore := procStatusKB(t, cmd.Process.Pid, "VmRSS")

	// The flood, paced evenly over dur, while RSS is sampled.
	var maxRSS int
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if kb := procStatusKB(t, cmd.Process.Pid, "VmRSS"); kb > maxRSS {
				maxRSS = kb
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	pub := mqttClient(t, mq.URL(), "flood-cloud")
	rng := rand.New(rand.NewPCG(10, 10))
	var sentBytes int64
	start := time.Now()
	for i := 0; i < total; i++ {
		topic, payload := floodCommand(rng, i)
		sentBytes += int64(len(payload))
		qos := byte(i % 2)
		tok := pub.Publish(base+topic, qos, false, payload)
		if qos == 1 || len(payload) > 64<<10 {
			tok.WaitTimeout(5 * time.Second)
		}
		if d := time.Until(start.Add(dur * time.Duration(i+1) / time.Duration(total))); d > 0 {
			time.Sleep(d)
		}
	}
	floodTime := time.Since(start)
	time.Sleep(2 * time.Second) // what is queued reaches the daemon
	close(stopSampling)
	<-sampled
	hwm := max(procStatusKB(t, cmd.Process.Pid, "VmHWM"), maxRSS)

	// Still answering: a command after the flood gets its reply.
	afterFlood := replies.count()
	waitFor(t, "a reply to a command after the flood", 10*time.Second, func() bool {
		pub.Publish(base+"cmd/ping", 1, false, "{}").WaitTimeout(time.Second)
		return replies.count() > afterFlood
	})
	r, err := QueryStatus(filepath.Join(dir, "status.sock"), time.Second)
	if err != nil || !r.Broker.Connected {
		t.Fatalf("daemon after the flood: %v, %+v", err, r)
	}
	cs := r.Broker.Commands
	// QoS 0 commands may be lost on the way; QoS 1 ones (half) may not
	if cs.Received < uint64(total/2) || cs.Received > uint64(total)+100 {
		t.Errorf("the daemon counted %d commands of %d sent", cs.Received, total)
	}
	if cs.TooLarge < uint64(total/50)/2 || cs.RepliesDropped == 0 || cs.Replies+cs.RepliesDropped+10 < cs.Received {
		t.Errorf("command counters %+v", cs)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("daemon after SIGTERM: %v", err)
	}
	<-logDone
	time.Sleep(300 * time.Millisecond)
	left, st := outboxLeft(t, dir)
	checkNothingLost(t, c.snapshot(), left, st, time.Second)

	replyPeak, logPeak := replies.peak(time.Second), logs.peak(time.Second)
	t.Logf("%d commands (%.1f MB) in %v: %d replies (peak %d/s), %d log lines (peak %d/s), RSS %d kB before, max %d kB, VmHWM %d kB; %d windows, none lost; daemon counters %+v",
		total, float64(sentBytes)/1e6, floodTime.Round(time.Millisecond), replies.count(), replyPeak,
		logs.count(), logPeak, rssBefore, maxRSS, hwm, st.LastSeq, cs)
	if len(suppressedLines) > 0 {
		t.Logf("last suppression line: %s", suppressedLines[len(suppressedLines)-1])
	}
	if hwm >= 40<<10 {
		t.Errorf("VmHWM %d kB: the daemon's memory went over 40 MB", hwm)
	}
	// bounds: see commandReplyRate and commandLogRate in internal/sync
	if replyPeak > 70 { // burst 40 + 20/s, with arrival jitter
		t.Errorf("replies peaked at %d/s: not rate-limited", replyPeak)
	}
	if logPeak > 40 {
		t.Errorf("log lines peaked at %d/s: not rate-limited", logPeak)
	}
	if replies.count() < 20 {
		t.Errorf("only %d replies: the flood was not answered", replies.count())
	}
	if len(suppressedLines) == 0 {
		t.Error("no log line counts the suppressed ones")
	}
}

// floodCommand is the i-th bad command: invalid JSON, unknown commands,
// wrong types, huge strings, binary garbage, deep nesting; every 50th is
// 1 MB.
func floodCommand(rng *rand.Rand, i int) (topic string, payload []byte) {
	topic = "cmd/plate-content"
	switch i % 7 {
	case 0:
		payload = []byte(`{"v":1,"request_id":"f-` + strconv.Itoa(i) + `","plate":`)
	case 1:
		topic = fmt.Sprintf("cmd/reboot-%d", i%97)
		payload = []byte(`{"v":1}`)
	case 2:
		payload = []byte(`{"v":"1","request_id":7,"plate":["plate-1"],"uri":{"x":1}}`)
	case 3:
		payload = []byte(`{"v":1,"request_id":"f","plate":"plate-1","uri":"https://x.example/` + strings.Repeat("y", 2000+rng.IntN(20000)) + `"}`)
	case 4:
		payload = make([]byte, 1+rng.IntN(4096))
		for j := range payload {
			payload[j] = byte(rng.UintN(256))
		}
	case 5:
		payload = bytes.Repeat([]byte("["), 1+rng.IntN(20000))
	case 6:
		topic = "cmd/" + strings.Repeat("z", 1+rng.IntN(300))
		payload = []byte("\x00\xff")
	}
	if i%50 == 49 {
		payload = bytes.Repeat([]byte(`{"v":1,"uri":"`), (1<<20)/14)
	}
	return topic, payload
}

// buildDaemon builds cmd/edge-agent as shipped (no race detector, which
// would multiply its memory).
func buildDaemon(t *testing.T, dir string) string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	bin := filepath.Join(dir, "edge-agent")
	t0 := time.Now()
	out, err := exec.Command(goBin, "build", "-o", bin, "github.com/omo-edge/edge-agent/cmd/edge-agent").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built the daemon in %v", time.Since(t0).Round(time.Millisecond))
	return bin
}

// procStatusKB reads a kB field (VmRSS, VmHWM) of /proc/<pid>/status.
func procStatusKB(t *testing.T, pid int, field string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	t.Errorf("no %s in /proc/%d/status", field, pid)
	return 0
}

// arrivals are event times, to find the peak rate.
type arrivals struct {
	mu gosync.Mutex
	at []time.Time
}

func newArrivals() *arrivals { return &arrivals{} }

func (a *arrivals) add() {
	a.mu.Lock()
	a.at = append(a.at, time.Now())
	a.mu.Unlock()
}

func (a *arrivals) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.at)
}

// peak is the most events in any window of length w.
func (a *arrivals) peak(w time.Duration) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	best, j := 0, 0
	for i := range a.at {
		for a.at[i].Sub(a.at[j]) >= w {
			j++
		}
		if n := i - j + 1; n > best {
			best = n
		}
	}
	return best
}
