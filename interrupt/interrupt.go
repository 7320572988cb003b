// Package interrupt stops a command on SIGINT or SIGTERM and marks the
// error of a command so stopped, whose process exits with 128 plus the
// signal's number (130 for SIGINT, 143 for SIGTERM; docs/commands.md).
package interrupt

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Context returns ctx ended by the first SIGINT or SIGTERM, a function
// returning that signal (nil before one arrived), and stop, which releases
// the signals.
func Context(ctx context.Context) (context.Context, func() os.Signal, func()) {
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	var (
		mu       sync.Mutex
		received os.Signal
		done     = make(chan struct{})
	)
	go func() {
		defer close(done)
		select {
		case s := <-ch:
			mu.Lock()
			received = s
			mu.Unlock()
			cancel()
		case <-ctx.Done():
		}
	}()
	got := func() os.Signal {
		mu.Lock()
		defer mu.Unlock()
		return received
	}
	stop := func() {
		signal.Stop(ch)
		cancel()
		<-done
	}
	return ctx, got, stop
}

// Error is the error of a command stopped by a signal.
type Error struct {
	Signal os.Signal
	Err    error
}

func (e Error) Error() string { return e.Err.Error() }
func (e Error) Unwrap() error { return e.Err }

// ExitCode is 128 plus the signal's number.
func (e Error) ExitCode() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128 + int(syscall.SIGINT)
}

// Mark marks err as caused by sig when a signal arrived (sig not nil) and
// err is not nil.
func Mark(err error, sig os.Signal) error {
	if err == nil || sig == nil {
		return err
	}
	var ie Error
	if errors.As(err, &ie) {
		return err
	}
	return Error{Signal: sig, Err: err}
}
