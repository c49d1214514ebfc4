package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Exit codes, the one table (DESIGN.md "Command line").
const (
	exitOK        = 0   // success; for plan: no changes
	exitError     = 1   // any error not listed below
	exitChanges   = 2   // plan: changes, blocked or missing (--detailed-exitcode)
	exitInvalid   = 3   // the specs (or an expression) are invalid
	exitStalePlan = 4   // a saved plan no longer matches live state
	exitCancelled = 130 // interrupted (Ctrl-C / SIGTERM)
	// sim pct exits as PVE's pct does: 0, or Perl's 255 for an error
	// (the status the stand-in passes on from the simulator, or its own
	// when it cannot reach it).
	exitPct = 255
)

// exitStatus is an error that carries the exit code it should produce. A nil
// err with a non-zero code is a quiet exit (the command already printed what
// it had to say).
type exitStatus struct {
	code int
	err  error
}

func (e *exitStatus) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitStatus) Unwrap() error { return e.err }

// withExit wraps err so that felhom exits with code. err may be nil.
func withExit(code int, err error) error { return &exitStatus{code: code, err: err} }

// exitCode maps the error a command returned to the process exit code and
// prints it, in one place.
func exitCode(ctx context.Context, err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	code := exitError
	var es *exitStatus
	switch {
	case errors.As(err, &es):
		code = es.code
		if es.err == nil {
			return code
		}
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		code = exitCancelled
	}
	fmt.Fprintln(stderr, "felhom:", err)
	return code
}
