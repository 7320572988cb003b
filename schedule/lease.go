package schedule

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/state"
)

// Lease defaults (see state/lease.go for the protocol).
const (
	// DefaultLeaseTTL is how long a rule's lease outlives its holder's last
	// renewal: the takeover time after the holder is killed.
	DefaultLeaseTTL = 30 * time.Second
	// heartbeatsPerTTL is how many renewals fit in one TTL: a holder renews
	// every TTL/3, so that one or two failed renewals do not lose the lease.
	heartbeatsPerTTL = 3
)

// errLeaseExpiring is the cause of work stopped because the lease could not
// be renewed before it expires: another replica may take over any moment.
var errLeaseExpiring = errors.New("lease not renewed before it expires")

// holder is this replica's hold on one rule's lease: the state document as
// last written, renewed on a heartbeat until released or lost. Every write
// of the state goes through it (one at a time), and every write is fenced:
// it fails with state.ErrLeaseLost once another replica took the lease.
// Work done under the lease watches Lost and stops when it closes.
type holder struct {
	s    *Scheduler
	r    *rule.Rule
	id   string
	ttl  time.Duration
	beat time.Duration
	log  zerolog.Logger

	mu        sync.Mutex
	st        state.RuleState
	v         state.Version
	renewedAt time.Time // clock time of the last successful write
	unsure    bool      // a write's outcome is unknown: resolve before planning

	lostOnce sync.Once
	lost     chan struct{}
	lostErr  error

	stopOnce sync.Once
	stop     chan struct{}
	stopped  chan struct{}
}

// acquire takes the lease of r and starts its heartbeat. On failure the
// returned holder holds nothing but the state read, whose Lease names the
// replica holding the rule (ErrLeaseHeld).
func (s *Scheduler) acquire(ctx context.Context, r *rule.Rule) (*holder, error) {
	iv := r.Timing.Interval
	ttl := s.cfg.leaseTTL(iv)
	h := &holder{
		s: s, r: r, id: state.RuleDocID(r.Space, r.SavedObjectID()), ttl: ttl, beat: ttl / heartbeatsPerTTL,
		log:  s.cfg.Logger.With().Str("rule_id", r.RuleID).Logger(),
		lost: make(chan struct{}), stop: make(chan struct{}), stopped: make(chan struct{}),
	}
	now := s.cfg.Clock().UTC()
	init := state.RuleState{RuleID: r.RuleID, RuleUUID: r.SavedObjectID(), RuleName: r.Name, Space: r.Space}
	ctx, cancel := context.WithTimeout(ctx, h.beat)
	defer cancel()
	st, v, err := state.AcquireLease(ctx, s.cfg.Store, h.id, state.Claim{
		Owner: s.cfg.Owner, Token: state.NewToken(), Now: now, TTL: ttl, Heartbeat: h.beat,
	}, init)
	if err != nil {
		return &holder{st: st}, fmt.Errorf("rule %s: %w", r.RuleID, err)
	}
	st.RuleID, st.RuleName = r.RuleID, r.Name
	h.st, h.v, h.renewedAt = st, v, now
	h.log.Debug().Int64("generation", st.Lease.Generation).Time("expires_at", st.Lease.ExpiresAt).Msg("rule lease acquired")
	go h.heartbeat()
	return h, nil
}

// Lost is closed when the lease is lost or may be: work must stop.
func (h *holder) Lost() <-chan struct{} { return h.lost }

// LostErr is why the lease was lost (nil while held).
func (h *holder) LostErr() error {
	select {
	case <-h.lost:
		return h.lostErr
	default:
		return nil
	}
}

func (h *holder) markLost(err error) {
	h.lostOnce.Do(func() {
		h.lostErr = err
		close(h.lost)
		h.log.Warn().Err(err).Msg("rule lease lost; stopping work on the rule")
		h.s.cfg.Observer.LeaseHeld(h.r.RuleID, false)
	})
}

// valid checks at now that the lease was renewed within its TTL (a process
// paused past its TTL finds out here before it records anything).
func (h *holder) valid(now time.Time) error {
	if err := h.LostErr(); err != nil {
		return err
	}
	h.mu.Lock()
	last := h.renewedAt
	h.mu.Unlock()
	if now.Sub(last) >= h.ttl {
		h.markLost(fmt.Errorf("%w (last renewal %s ago)", errLeaseExpiring, now.Sub(last).Round(time.Millisecond)))
		return h.lostErr
	}
	return nil
}

// write applies change to the state and writes it with a renewed lease,
// fenced by the lease's token.
func (h *holder) write(ctx context.Context, change func(st *state.RuleState)) error {
	now := h.s.cfg.Clock().UTC()
	if err := h.valid(now); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for attempt := 0; ; attempt++ {
		st := h.st
		lease := *st.Lease
		st.Lease = &lease
		if change != nil {
			change(&st)
		}
		st.UpdatedAt = now
		st.Lease.ExpiresAt, st.Lease.RenewedAt = now.Add(h.ttl), now
		v, err := state.WriteHeld(ctx, h.s.cfg.Store, h.id, &st, h.v)
		var stale *state.StaleError
		switch {
		case err == nil:
			h.st, h.v, h.renewedAt, h.unsure = st, v, now, false
			return nil
		case errors.Is(err, state.ErrLeaseLost):
			h.markLost(err)
			return err
		case errors.As(err, &stale) && attempt == 0:
			// An earlier write of ours landed after all: build on it.
			h.st, h.v = stale.Current, stale.Version
			h.st.RuleID, h.st.RuleName = h.r.RuleID, h.r.Name
		default:
			// The outcome is unknown: the next write counts on, so that it
			// cannot be mistaken for this one.
			h.st.Lease.Writes = st.Lease.Writes
			h.unsure = true
			return err
		}
	}
}

// resolve re-reads the state after a write of unknown outcome, so that a
// tick plans from what is stored: a write of ours that landed is adopted,
// another replica's lease means the lease is lost.
func (h *holder) resolve(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.unsure {
		return nil
	}
	var cur state.RuleState
	v, err := h.s.cfg.Store.Get(ctx, h.id, &cur)
	if err != nil {
		return fmt.Errorf("re-read the state after a write of unknown outcome: %w", err)
	}
	if cur.Lease == nil || cur.Lease.Token != h.st.Lease.Token {
		err := fmt.Errorf("re-read state %s: %w", h.id, state.ErrLeaseLost)
		h.markLost(err)
		return err
	}
	writes := max(h.st.Lease.Writes, cur.Lease.Writes)
	h.st, h.v, h.unsure = cur, v, false
	h.st.Lease.Writes = writes
	h.st.RuleID, h.st.RuleName = h.r.RuleID, h.r.Name
	return nil
}

// state returns a copy of the state as last written.
func (h *holder) state() state.RuleState {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.st
}

// heartbeat renews the lease every beat until stopped. When renewals keep
// failing until the lease would expire before the next one can land, it
// declares the lease lost, so that the work stops before another replica
// may start it: each renewal has until half a beat before the expiry, and
// a failure with at most one beat left gives up.
func (h *holder) heartbeat() {
	defer close(h.stopped)
	t := time.NewTicker(h.beat)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-h.lost:
			return
		case <-t.C:
		}
		// A renewal must land before the lease expires, with a margin.
		h.mu.Lock()
		deadline := h.renewedAt.Add(h.ttl - h.beat/2)
		h.mu.Unlock()
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		err := h.write(ctx, nil)
		cancel()
		if err == nil || h.LostErr() != nil {
			continue
		}
		now := h.s.cfg.Clock()
		h.mu.Lock()
		left := h.renewedAt.Add(h.ttl).Sub(now)
		h.mu.Unlock()
		h.log.Warn().Err(err).Int64("lease_left_ms", left.Milliseconds()).Msg("could not renew the rule lease; will retry")
		if left <= h.beat {
			h.markLost(fmt.Errorf("%w: %w", errLeaseExpiring, err))
		}
	}
}

// stopHeartbeat ends the renewals and waits for a running one.
func (h *holder) stopHeartbeat() {
	h.stopOnce.Do(func() { close(h.stop) })
	<-h.stopped
}

// release stops the heartbeat and clears the lease so that another replica
// takes over at once instead of after the TTL.
func (h *holder) release(ctx context.Context) {
	h.stopHeartbeat()
	if h.LostErr() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, err := state.ReleaseLease(ctx, h.s.cfg.Store, h.id, h.st, h.v, h.s.cfg.Clock()); err != nil {
		h.log.Warn().Err(err).Msg("could not release the rule lease; it expires by itself")
		return
	}
	h.markReleased()
}

func (h *holder) markReleased() {
	h.lostOnce.Do(func() {
		h.lostErr = errors.New("lease released")
		close(h.lost)
	})
	h.s.cfg.Observer.LeaseHeld(h.r.RuleID, false)
}

// held returns this replica's live hold on r's lease (serve keeps it
// between ticks), or nil.
func (s *Scheduler) held(r *rule.Rule) *holder {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.holders[r.RuleID]
	if h != nil && h.LostErr() != nil {
		delete(s.holders, r.RuleID)
		return nil
	}
	return h
}

func (s *Scheduler) keep(r *rule.Rule, h *holder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holders[r.RuleID] = h
}

// takeHolders removes and returns every kept hold (shutdown).
func (s *Scheduler) takeHolders() []*holder {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hs []*holder
	for id, h := range s.holders {
		hs = append(hs, h)
		delete(s.holders, id)
	}
	return hs
}
