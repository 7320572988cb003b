// Package schedule runs rules on their slots (docs/state.md): each tick executes
// every slot due since the rule's checkpoint, oldest first, up to a catch-up
// limit (older missed slots are reported as a gap, and filled in the
// background with FillOldGaps), under a per-rule lease so that several
// replicas never execute the same rule at once. The lease is renewed on a
// heartbeat while a replica works on the rule, every state write is fenced
// by it, and work stops as soon as it is lost (lease.go, state/lease.go).
// The checkpoint advances only after a slot's alerts are all written. Serve drives ticks with
// robfig/cron; Tick is one tick of every rule (`esrule run` without --at).
package schedule

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/state"
)

// Store is the state the scheduler needs: documents with optimistic
// concurrency, on which the lease protocol of package state runs;
// *state.Store is one.
type Store = state.Docs

// Observer receives what the scheduler does, for metrics; *metrics.Metrics is one.
type Observer interface {
	// Executed reports the execution of slots slots (one, or a run of
	// slots done at once by the backfill engine) that ended at at; kind is
	// ExecScheduled, ExecCatchUp or ExecBackfill.
	Executed(ruleID, kind string, at time.Time, slots int, res detect.Result, err error)
	// TickFailed reports a tick that failed at stage (StageLease, ...).
	TickFailed(ruleID, stage string)
	// TickStuck reports a tick without progress for the execution timeout
	// plus the lease TTL.
	TickStuck(ruleID string)
	// LeaseSkipped reports a tick skipped because another replica held the
	// rule's lease.
	LeaseSkipped(ruleID string)
	// GapSeconds reports the length of the rule's recorded gap (0: none).
	GapSeconds(ruleID string, seconds float64)
	// LeaseHeld reports whether this replica holds the rule's lease.
	LeaseHeld(ruleID string, held bool)
}

// Defaults of Config.
const (
	DefaultMaxCatchup = 24 * time.Hour
	// NoCatchupLimit as Config.MaxCatchup executes every missed slot,
	// however old (--max-catchup 0).
	NoCatchupLimit       time.Duration = -1
	DefaultShutdownGrace               = 30 * time.Second
	// DefaultConcurrency is how many rules a replica ticks at once.
	DefaultConcurrency = 4
)

// Config configures a Scheduler.
type Config struct {
	// Rules are the rules to schedule. Required.
	Rules []*rule.Rule
	// Store holds the per-rule state documents. Required.
	Store Store
	// Execute executes the due slots of a tick (engine.Engine.Execute).
	// Required.
	Execute ExecuteFunc
	// Clock gives the current time. Required (cmd passes time.Now).
	Clock func() time.Time
	// Owner identifies this replica in leases. Required.
	Owner string
	// LeaseTTL is how long a lease lasts without renewal, which is the
	// takeover time after a replica dies. The holder renews it every
	// LeaseTTL/3 while it works (and, with KeepLease, between ticks), so it
	// need not exceed the execution time. Defaults to DefaultLeaseTTL.
	LeaseTTL time.Duration
	// Timeout bounds every slot execution. Defaults to the rule's interval.
	Timeout time.Duration
	// MaxCatchup is the oldest missed slot a tick still executes, as an age
	// relative to the latest slot. Defaults to DefaultMaxCatchup (24h);
	// NoCatchupLimit (any negative value) sets no limit.
	MaxCatchup time.Duration
	// StartFrom is where a rule without state starts; the zero time means the
	// latest slot due (a first start does not go back in time).
	StartFrom time.Time
	// Delay postpones each slot's execution after its boundary (late data).
	// Defaults to 0.
	Delay time.Duration
	// Schedules override when ticks of a rule happen, by rule_id or id; other
	// rules tick at their slot boundaries (SlotSchedule).
	Schedules map[string]cron.Schedule
	// KeepLease keeps a rule's lease between ticks (serve); otherwise a tick
	// releases it when done (run). With a Store that implements Membership,
	// replicas that keep leases share the rules fairly (see Membership).
	KeepLease bool
	// Concurrency bounds the rules this replica ticks at once. Defaults to
	// DefaultConcurrency.
	Concurrency int
	// FillOldGaps fills recorded gaps (missed slots older than MaxCatchup)
	// in the background through FillGap: after a tick's due slots, at most
	// GapFillChunk of the gap per tick.
	FillOldGaps bool
	// FillGap executes a gap's slots (engine.Engine.FillGap); required with
	// FillOldGaps.
	FillGap GapFillFunc
	// GapFillChunk bounds the part of a gap one tick fills. Defaults to
	// DefaultGapFillChunk.
	GapFillChunk time.Duration
	// ShutdownGrace is how long Serve lets running executions finish after
	// its context ends before cancelling them. Defaults to DefaultShutdownGrace.
	ShutdownGrace time.Duration
	// Logger receives Warn for gaps and Error for failed executions.
	Logger zerolog.Logger
	// Observer receives metrics; nil means none.
	Observer Observer
}

// timeout is the execution timeout of a rule with interval iv.
func (c Config) timeout(iv time.Duration) time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return iv
}

// leaseTTL is the lease duration: LeaseTTL, else DefaultLeaseTTL. The
// heartbeat, not the TTL, keeps a long execution's lease.
func (c Config) leaseTTL(time.Duration) time.Duration {
	if c.LeaseTTL > 0 {
		return c.LeaseTTL
	}
	return DefaultLeaseTTL
}

func (c Config) gapFillChunk() time.Duration {
	if c.GapFillChunk > 0 {
		return c.GapFillChunk
	}
	return DefaultGapFillChunk
}

// Scheduler executes the due slots of rules. Build it with New.
type Scheduler struct {
	cfg Config
	// slots holds one token per rule tick allowed to run (Concurrency).
	slots chan struct{}
	share share

	mu      sync.Mutex
	holders map[string]*holder // leases kept between ticks (KeepLease), by rule_id
}

// New validates cfg, fills in defaults and returns a Scheduler.
func New(cfg Config) (*Scheduler, error) {
	switch {
	case len(cfg.Rules) == 0:
		return nil, errors.New("configure scheduler: no rules")
	case cfg.Store == nil:
		return nil, errors.New("configure scheduler: no state store")
	case cfg.Execute == nil:
		return nil, errors.New("configure scheduler: no slot executor")
	case cfg.Clock == nil:
		return nil, errors.New("configure scheduler: no clock")
	case cfg.Owner == "":
		return nil, errors.New("configure scheduler: no owner id")
	case cfg.Timeout < 0 || cfg.LeaseTTL < 0 || cfg.Delay < 0 || cfg.ShutdownGrace < 0 || cfg.GapFillChunk < 0:
		return nil, errors.New("configure scheduler: negative duration")
	case cfg.LeaseTTL > 0 && cfg.LeaseTTL < 3*time.Millisecond:
		return nil, errors.New("configure scheduler: lease TTL too short for its heartbeat")
	case cfg.FillOldGaps && cfg.FillGap == nil:
		return nil, errors.New("configure scheduler: FillOldGaps without a gap filler")
	case cfg.Concurrency < 0:
		return nil, errors.New("configure scheduler: negative concurrency")
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	for _, r := range cfg.Rules {
		if !r.Normalized() {
			return nil, fmt.Errorf("configure scheduler: rule %s: %w", r.RuleID, rule.ErrNotNormalized)
		}
	}
	if cfg.MaxCatchup == 0 {
		cfg.MaxCatchup = DefaultMaxCatchup
	}
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = DefaultShutdownGrace
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	return &Scheduler{cfg: cfg, holders: map[string]*holder{}, slots: make(chan struct{}, cfg.Concurrency)}, nil
}

// Rules returns the scheduled rules.
func (s *Scheduler) Rules() []*rule.Rule { return s.cfg.Rules }

// TickReport is what one tick did for one rule.
type TickReport struct {
	RuleID string
	// LeaseHeld is true when another replica held the lease: nothing was done.
	LeaseHeld bool
	// Elsewhere is true when the rule is in another replica's share: nothing
	// was done.
	Elsewhere bool
	// LeaseHolder names the other replica (LeaseHeld).
	LeaseHolder string
	// LeaseExpiresAt is when the other replica's lease expires (LeaseHeld).
	LeaseExpiresAt time.Time
	// LeaseRenewedAt is when the other replica last renewed it (LeaseHeld).
	LeaseRenewedAt time.Time
	// Executed counts the slots completed (checkpointed) by this tick.
	Executed int
	// Checkpoint is the last completed slot after the tick (nil: none yet).
	Checkpoint *time.Time
	// Gap is the range of missed slots found too old to catch up, if any.
	Gap *GapRange
	// GapFilled counts the slots of an old gap filled by this tick.
	GapFilled int
	// Err is the tick's error (also returned by Tick).
	Err error
}

// Tick runs one tick of every rule, one rule after the other: each executes
// every due slot since its checkpoint. It returns one report per rule and the
// joined errors of the rules that failed. A rule whose lease another replica
// holds is skipped without error (logged at Warn and counted), unless its
// holder is gone: without KeepLease (esrule run, the CronJob form, whose
// runs do not overlap) a held lease is watched until its holder renews it
// (alive: skip) or it expires (gone: a killed pod; take over), so that a
// crash never makes the next run skip the rule.
//
// Concurrency rules tick at once; the reports are in the rules' order.
func (s *Scheduler) Tick(ctx context.Context) ([]TickReport, error) {
	reports := make([]TickReport, len(s.cfg.Rules))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(s.cfg.Concurrency, len(s.cfg.Rules)) {
		wg.Go(func() {
			for i := range next {
				r := s.cfg.Rules[i]
				rep := s.tickRule(ctx, ctx.Done(), r, !s.cfg.KeepLease)
				if rep.LeaseHeld && !s.cfg.KeepLease {
					if rep = s.reclaim(ctx, r, rep); rep.LeaseHeld {
						s.reportSkip(s.cfg.Logger.With().Str("rule_id", r.RuleID).Logger(), rep)
					}
				}
				reports[i] = rep
			}
		})
	}
	for i := range s.cfg.Rules {
		next <- i
	}
	close(next)
	wg.Wait()
	var errs []error
	for _, rep := range reports {
		if rep.Err != nil {
			errs = append(errs, rep.Err)
		}
	}
	return reports, errors.Join(errs...)
}

type nopObserver struct{}

func (nopObserver) Executed(string, string, time.Time, int, detect.Result, error) {}
func (nopObserver) TickFailed(string, string)                                     {}
func (nopObserver) TickStuck(string)                                              {}
func (nopObserver) LeaseSkipped(string)                                           {}
func (nopObserver) GapSeconds(string, float64)                                    {}
func (nopObserver) LeaseHeld(string, bool)                                        {}

// reclaim watches the lease another process holds on r (rep is the skipped
// tick) until that process renews it, which proves it alive, or the lease
// expires, and then ticks r again: the holder of an expired lease that never
// renewed it is gone, and the rule is taken over. It waits one lease TTL at
// most.
func (s *Scheduler) reclaim(ctx context.Context, r *rule.Rule, rep TickReport) TickReport {
	ttl := s.cfg.leaseTTL(r.Timing.Interval)
	deadline := s.cfg.Clock().Add(ttl + leaseSkew)
	if rep.LeaseExpiresAt.After(deadline) {
		return rep
	}
	first := rep.LeaseRenewedAt
	poll := max(ttl/(2*heartbeatsPerTTL), 50*time.Millisecond)
	s.cfg.Logger.Info().Str("rule_id", r.RuleID).Time("lease_expires_at", rep.LeaseExpiresAt).
		Msg("the rule's lease is held by another run; watching for its heartbeat, or for the lease to expire to take over")
	for s.cfg.Clock().Before(deadline) {
		wait := min(poll, max(rep.LeaseExpiresAt.Sub(s.cfg.Clock())+leaseSkew, 0))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return rep
		case <-t.C:
		}
		next := s.tickRule(ctx, ctx.Done(), r, true)
		if !next.LeaseHeld || !next.LeaseRenewedAt.Equal(first) {
			return next // taken over, or the holder is alive
		}
		rep = next
	}
	return rep
}

// leaseSkew is added to waits for a lease expiry: clocks of replicas differ a little.
const leaseSkew = 500 * time.Millisecond
