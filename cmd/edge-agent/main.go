// Command edge-agent is the in-store edge agent: the daemon (run), the
// simulated store (demo), the trace replayer (replay) and the technician's
// tools. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "edge-agent:", err)
		os.Exit(exitCode(err))
	}
}

// Exit codes, so scripts and systemd can tell failures apart.
const (
	exitOK         = 0
	exitFailure    = 1 // something went wrong at run time
	exitUsage      = 2 // bad flags or arguments
	exitBadInput   = 3 // a config or trace that is wrong: fix the file
	exitNotRunning = 4 // no daemon answers on the status socket
	exitRefused    = 5 // the broker refused us: credentials, authorization, TLS
	// exitDaemonRunning: the daemon holds what the command needs (the
	// outbox, the buses): stop it first, or ask it (status).
	exitDaemonRunning = 6
)

// exitError carries an exit code with its error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return exitUsage // cobra's own errors are about flags and arguments
}
