// Command drainbench is the helper of `scripts/bench.sh drain`: it fills a
// daemon's outbox with a backlog of windows in the daemon's own topics and
// payloads, times a running daemon's drain of it through the status socket,
// and times raw paho sending the same payloads as the ceiling.
//
//	drainbench fill  -config bench.yaml -n 1000000
//	drainbench watch -config bench.yaml -pid PID -backlog N
//	drainbench raw   -config bench.yaml -n 1000000
//
// Each prints one line of key=value figures for the script.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/omo-edge/edge-agent/internal/agent"
	"github.com/omo-edge/edge-agent/internal/backlog"
	"github.com/omo-edge/edge-agent/internal/config"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: drainbench fill|watch|raw -config FILE ...")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	cfgPath := fs.String("config", "", "the daemon's config file")
	n := fs.Int("n", 1_000_000, "records in the backlog")
	pid := fs.Int("pid", 0, "watch: the daemon's pid (for its CPU time)")
	backlog := fs.Uint64("backlog", 0, "watch: the last seq of the backlog")
	timeout := fs.Duration("timeout", 30*time.Minute, "watch: give up after")
	_ = fs.Parse(os.Args[2:])
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fail(err)
	}
	switch os.Args[1] {
	case "fill":
		err = fill(cfg, *n)
	case "watch":
		err = watch(cfg, *pid, *backlog, *timeout)
	case "raw":
		err = raw(cfg, *n)
	default:
		err = fmt.Errorf("unknown command %q: want fill, watch or raw", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "drainbench:", err)
	os.Exit(1)
}

// fill writes the backlog into the state dir's outbox.
func fill(cfg *config.Config, n int) error {
	start := time.Now()
	st, err := backlog.Fill(cfg, n)
	if err != nil {
		return err
	}
	fmt.Printf("filled=%d bytes=%d last_seq=%d secs=%.1f\n", st.Depth, st.Bytes, st.LastSeq, time.Since(start).Seconds())
	return nil
}

// base is the agent's topic base.
func base(cfg *config.Config) string {
	return cfg.MQTT.TopicPrefix + "/" + cfg.StoreID + "/" + cfg.AgentID + "/"
}

// watch times the daemon's drain: from its first connected status to the
// outbox holding nothing of the backlog (acks are deleted by the next
// commit; acked_secs is when the publisher had acked as many records).
// Meanwhile it subscribes to the store topic and measures how late live
// windows (not historical) arrive after their window's end.
func watch(cfg *config.Config, pid int, backlog uint64, timeout time.Duration) error {
	lat := &lateness{}
	sub := paho.NewClient(paho.NewClientOptions().AddBroker(cfg.MQTT.Broker).SetClientID("drainbench-sub").
		SetCleanSession(true).SetAutoReconnect(false).SetProtocolVersion(4).SetOrderMatters(false))
	if tok := sub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return fmt.Errorf("subscriber connect: %v", tok.Error())
	}
	defer sub.Disconnect(50)
	if tok := sub.Subscribe(base(cfg)+"store", 0, func(_ paho.Client, m paho.Message) { lat.note(time.Now(), m.Payload()) }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return fmt.Errorf("subscribe: %v", tok.Error())
	}
	deadline := time.Now().Add(timeout)
	var (
		t0   time.Time
		cpu0 time.Duration
		wr0  int64
		tAck time.Time
	)
	for {
		if time.Now().After(deadline) {
			return fmt.Errorf("drain not finished after %v", timeout)
		}
		r, err := agent.QueryStatus(cfg.StatusSocket, time.Second)
		now := time.Now()
		if err == nil {
			if t0.IsZero() && r.Broker.Connected {
				t0, cpu0, wr0 = now, procCPU(pid), procWritten(pid)
			}
			if !t0.IsZero() && tAck.IsZero() && r.Broker.Acked >= backlog {
				tAck = now
			}
			if !t0.IsZero() && (r.Outbox.Depth == 0 || r.Outbox.OldestSeq > backlog) {
				secs := now.Sub(t0).Seconds()
				cpu, wr := procCPU(pid)-cpu0, procWritten(pid)-wr0
				p50, p99, worst, live := lat.summary()
				// The daemon's CPU when idle (counting only), to subtract,
				// and the live windows' lateness with no backlog, to compare.
				const idle = 6 * time.Second
				c1 := procCPU(pid)
				lat.reset()
				time.Sleep(idle)
				counting := float64(procCPU(pid)-c1) / float64(idle)
				_, _, idleWorst, _ := lat.summary()
				net := float64(cpu) - counting*secs*float64(time.Second)
				if tAck.IsZero() {
					tAck = now
				}
				fmt.Printf("drained=%d secs=%.2f msg_per_s=%.0f acked_secs=%.2f cpu_us_per_msg=%.1f net_of_counting=%.1f written_mb=%.1f live_windows=%d live_end_to_arrival_p50_ms=%.0f p99_ms=%.0f max_ms=%.0f idle_max_ms=%.0f\n",
					backlog, secs, float64(backlog)/secs, tAck.Sub(t0).Seconds(), float64(cpu.Microseconds())/float64(backlog), net/1e3/float64(backlog),
					float64(wr)/1e6, live, p50, p99, worst, idleWorst)
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lateness collects close-to-arrival delays of live store windows.
type lateness struct {
	mu gosync.Mutex
	ms []float64
}

func (l *lateness) note(at time.Time, payload []byte) {
	var m struct {
		End        time.Time `json:"window_end"`
		Historical bool      `json:"historical"`
	}
	if json.Unmarshal(payload, &m) != nil || m.Historical {
		return
	}
	// From the window's end: includes the pipeline's 1 s settle (late
	// readings) and the commit at the next flush_interval.
	l.mu.Lock()
	l.ms = append(l.ms, float64(at.Sub(m.End).Microseconds())/1000)
	l.mu.Unlock()
}

func (l *lateness) reset() {
	l.mu.Lock()
	l.ms = l.ms[:0]
	l.mu.Unlock()
}

func (l *lateness) summary() (p50, p99, worst float64, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ms) == 0 {
		return math.NaN(), math.NaN(), math.NaN(), 0
	}
	s := slices.Clone(l.ms)
	slices.Sort(s)
	at := func(q float64) float64 { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return at(0.5), at(0.99), s[len(s)-1], len(s)
}

// raw publishes the same payloads (marked historical, as the daemon sends
// a backlog) with plain paho at QoS 1, max_inflight PUBACKs outstanding,
// nothing stored: the ceiling of the drain.
func raw(cfg *config.Config, n int) error {
	type msg struct {
		topic   string
		payload []byte
	}
	msgs := make([]msg, 0, n)
	if err := backlog.Records(cfg, n, func(_ uint64, topic string, payload []byte) {
		p := append(slices.Clone(payload[:len(payload)-1]), `,"historical":true}`...)
		msgs = append(msgs, msg{"drainbench-raw/" + topic, p})
	}); err != nil {
		return err
	}
	c := paho.NewClient(paho.NewClientOptions().AddBroker(cfg.MQTT.Broker).SetClientID("drainbench-raw").
		SetCleanSession(true).SetAutoReconnect(false).SetProtocolVersion(4).SetOrderMatters(false))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return fmt.Errorf("connect: %v", tok.Error())
	}
	defer c.Disconnect(50)
	window := make(chan paho.Token, cfg.MQTT.MaxInflight)
	acked := make(chan int)
	go func() {
		k := 0
		for tok := range window {
			tok.Wait()
			if tok.Error() == nil {
				k++
			}
		}
		acked <- k
	}()
	start, cpu0 := time.Now(), procCPU(os.Getpid())
	for _, m := range msgs {
		window <- c.Publish(m.topic, 1, false, m.payload)
	}
	close(window)
	k := <-acked
	secs, cpu := time.Since(start).Seconds(), procCPU(os.Getpid())-cpu0
	if k != n {
		return fmt.Errorf("acked %d of %d", k, n)
	}
	fmt.Printf("sent=%d secs=%.2f msg_per_s=%.0f cpu_us_per_msg=%.1f\n", n, secs, float64(n)/secs, float64(cpu.Microseconds())/float64(n))
	return nil
}

// procCPU is utime+stime of a process from /proc/PID/stat.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // fields from 3 (state) on
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14
	st, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	return time.Duration(ut+st) * time.Second / clockTicks
}

// procWritten is the bytes a process caused to be written to storage
// (write_bytes of /proc/PID/io).
func procWritten(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "write_bytes: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// clockTicks is USER_HZ, 100 on every Linux the agent runs on.
const clockTicks = 100
