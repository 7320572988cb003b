//go:build integration

package integration

import (
	"sync/atomic"
	"testing"
	"time"
)

// stallLimit is how long a wait in these tests may observe no progress at
// all before it fails. Waits have no fixed budget: on a loaded machine
// executions, requests and processes are slower but still advance, and every
// advance a wait observes starts its stall limit again. Only a wait that sees
// nothing change for this long fails (a hang); the package's -timeout is the
// last backstop.
const stallLimit = 2 * time.Minute

// waitFor polls poll until it reports done, backing off from 5 ms to 200 ms
// between polls. poll also returns a description of the state it observed
// (the progress); the wait fails when that description has not changed for
// stallLimit, naming what it waited for and the last state.
func waitFor(t testing.TB, what string, poll func() (done bool, progress string)) {
	t.Helper()
	if last, ok := pollUntil(stallLimit, poll); !ok {
		t.Fatalf("%s: no progress for %s; last state: %s", what, stallLimit, last)
	}
}

// pollUntil polls poll until it reports done (true) or its progress has not
// changed for stall (false, with the last progress).
func pollUntil(stall time.Duration, poll func() (done bool, progress string)) (string, bool) {
	last, changed := "", time.Now()
	for backoff := 5 * time.Millisecond; ; backoff = min(2*backoff, 200*time.Millisecond) {
		done, progress := poll()
		if done {
			return "", true
		}
		if progress != last {
			last, changed = progress, time.Now()
		}
		if time.Since(changed) > stall {
			return last, false
		}
		time.Sleep(backoff) // the backoff between polls, not a wait for something to happen
	}
}

// waitChan waits until ch is closed or receives, with progress reporting
// the observed state as in waitFor (nil: no state to observe, so the wait
// fails after stallLimit).
func waitChan[T any](t testing.TB, what string, ch <-chan T, progress func() string) T {
	t.Helper()
	var got T
	received := false
	waitFor(t, what, func() (bool, string) {
		select {
		case got = <-ch:
			received = true
			return true, ""
		default:
		}
		if progress == nil {
			return false, ""
		}
		return false, progress()
	})
	if !received {
		t.Fatalf("%s: not received", what)
	}
	return got
}

// testClock is the wall clock shifted by an offset a test moves forward, so
// that a scheduler sees time pass (a downtime, slots falling due) without
// the test waiting for it. Every scheduler of the clock shares the offset.
type testClock struct{ offset atomic.Int64 }

// Now returns the wall clock plus the offset.
func (c *testClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// AdvanceTo moves the clock forward so that it has reached at (if it has
// not yet).
func (c *testClock) AdvanceTo(at time.Time) {
	if d := at.Sub(c.Now()); d > 0 {
		c.offset.Add(int64(d))
	}
}
