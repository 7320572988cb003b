package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// signalContext returns ctx ended by the first SIGINT or SIGTERM, a function
// returning that signal (nil before one arrived), and stop, which releases
// the signals.
func signalContext(ctx context.Context) (context.Context, func() os.Signal, func()) {
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

// interruptedError is a command stopped by a signal: exit 128 + the
// signal's number (130 for SIGINT, 143 for SIGTERM).
type interruptedError struct {
	sig os.Signal
	err error
}

func (e interruptedError) Error() string { return e.err.Error() }
func (e interruptedError) Unwrap() error { return e.err }

// exitCode is 128 plus the signal's number.
func (e interruptedError) exitCode() int {
	if s, ok := e.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128 + int(syscall.SIGINT)
}

// asInterrupted marks err as caused by sig when a signal arrived (sig not
// nil) and err is not nil.
func asInterrupted(err error, sig os.Signal) error {
	if err == nil || sig == nil {
		return err
	}
	var ie interruptedError
	if errors.As(err, &ie) {
		return err
	}
	return interruptedError{sig: sig, err: err}
}
