package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/esrule/esrule/engine"
	"github.com/esrule/esrule/interrupt"
)

// Exit codes (docs/commands.md); a command stopped by SIGINT or SIGTERM
// exits 128 plus the signal's number (interrupt.Error).
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// usageError marks an error caused by bad usage, an invalid rule or bad
// configuration: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// asUsage marks err as a usage error (nil stays nil).
func asUsage(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err}
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "esrule:", err)
	var ue usageError
	var ie interrupt.Error
	var ce *engine.ConfigError
	switch {
	case errors.As(err, &ie):
		return ie.ExitCode()
	case errors.As(err, &ue), errors.As(err, &ce):
		return exitUsage
	default:
		return exitFailed
	}
}
