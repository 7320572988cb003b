package engine

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/esclient"
)

// A slot that fails for a transient reason (failed shards, a timed-out
// search, an overloaded or unreachable cluster once the client's own
// retries are spent, alerts not all written) fails closed: nothing of the
// partial answer is used and the checkpoint does not move. Execute then runs
// the slot again within the tick, after a jittered backoff, at most
// slotRetries times and never past the slot's timeout, so that a transient
// failure costs seconds rather than a slot. Alert writes are idempotent
// (same _id, create), so a repeated slot writes no alert twice.

// slotRetries bounds the repetitions of a slot (or of the rest of a
// catch-up) after a transient failure.
const slotRetries = 3

// slotBackoff is the wait before repetition n (n >= 1), before jitter.
func slotBackoff(n int) time.Duration {
	return min(time.Second<<(n-1), 8*time.Second)
}

// transient reports whether another execution of the slot may succeed, for
// an error of an execution whose own context is still live.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, errSlotTimeout) {
		return false
	}
	// The caller checks its own context first: a deadline here is a
	// request's (a hung node), worth another try.
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, esclient.ErrTimedOut) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ee *esclient.Error
	if errors.As(err, &ee) {
		switch {
		case ee.Status == 0: // failed shards in a 2xx answer
			return true
		case ee.Status == http.StatusTooManyRequests, ee.Status >= 500:
			return true
		}
		return false
	}
	var be *alerts.BulkError
	var ne net.Error
	return errors.As(err, &be) || errors.As(err, &ne)
}

// pause waits before repetition n of a slot; false when ctx ends first or
// its deadline would pass during the wait.
func pause(ctx context.Context, n int, now func() time.Time) bool {
	d := slotBackoff(n)
	d = d/2 + rand.N(d/2+1)
	if deadline, ok := ctx.Deadline(); ok && now().Add(d).After(deadline) {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
