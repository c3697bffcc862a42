package brokerproc

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// childPort makes the re-executed test binary a stand-in broker: it
// listens on that port and a child of its own (same process group), and
// waits to be killed.
const childPort = "BROKERPROC_TEST_LISTEN"

func TestMain(m *testing.M) {
	if port := os.Getenv(childPort); port != "" {
		l, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			os.Exit(2)
		}
		defer l.Close()
		// a helper process like an Erlang VM's: Stop must end it too
		_ = exec.Command("sleep", "300").Start()
		for {
			c, err := l.Accept()
			if err != nil {
				os.Exit(0)
			}
			c.Close()
		}
	}
	os.Exit(m.Run())
}

func dial(port int) error {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err == nil {
		c.Close()
	}
	return err
}

func TestStartStopRestart(t *testing.T) {
	port := FreePorts(t, 1)[0]
	dir := t.TempDir()
	p := Start(t, Spec{
		Name: "stand-in", Bin: os.Args[0], Args: []string{"-test.run=^$"},
		Env:     append(os.Environ(), childPort+"="+strconv.Itoa(port)),
		LogPath: filepath.Join(dir, "log"), Ports: []int{port}, StopTimeout: 2 * time.Second,
	})
	if err := dial(port); err != nil {
		t.Fatalf("Start returned before the port listened: %v", err)
	}
	pid := p.cmd.Process.Pid
	p.Stop()
	if err := dial(port); err == nil {
		t.Fatal("still listening after Stop")
	}
	// the whole process group is gone, the helper included
	// (SIGKILL is delivered asynchronously: allow it a moment)
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, _ := exec.Command("pgrep", "-g", strconv.Itoa(pid)).Output()
		if len(out) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes left in the group: %s", out)
		}
	}
	p.Stop() // stopping a stopped broker does nothing
	p.Restart()
	if err := dial(port); err != nil {
		t.Fatalf("after Restart: %v", err)
	}
	p.Kill()
	if err := dial(port); err == nil {
		t.Fatal("still listening after Kill")
	}
}

func TestFind(t *testing.T) {
	if _, ok := Find("surely-not-a-broker-binary"); ok {
		t.Fatal("found a binary that does not exist")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "fake-broker")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if p, ok := Find("fake-broker", dir); !ok || p != bin {
		t.Fatalf("Find in an extra directory: %q %v", p, ok)
	}
	ports := FreePorts(t, 3)
	if ports[0] == ports[1] || ports[1] == ports[2] || ports[0] == ports[2] {
		t.Fatalf("FreePorts repeated a port: %v", ports)
	}
}
