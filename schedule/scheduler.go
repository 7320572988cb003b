// Package schedule runs rules on their slots (SPEC §6): each tick executes
// every slot due since the rule's checkpoint, oldest first, up to a catch-up
// limit (older missed slots are reported as a gap), under a per-rule lease so
// that several replicas never execute the same rule at once. The checkpoint
// advances only after a slot's alerts are all written. Serve drives ticks with
// robfig/cron; Tick is one tick of every rule (`esrule run` without --at).
package schedule

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/state"
)

// Store is the state the scheduler needs; *state.Store is one.
type Store interface {
	Get(ctx context.Context, id string, dst any) (state.Version, error)
	Put(ctx context.Context, id string, doc any, v state.Version) (state.Version, error)
	AcquireLease(ctx context.Context, id, owner string, now time.Time, ttl time.Duration, init state.RuleState) (state.RuleState, state.Version, error)
	ReleaseLease(ctx context.Context, id, owner string, r state.RuleState, v state.Version, now time.Time) (state.Version, error)
}

// Observer receives what the scheduler does, for metrics; *metrics.Metrics is one.
type Observer interface {
	// Executed reports one execution (or run of slots) that ended at at.
	Executed(ruleID string, at time.Time, res detect.Result, err error)
	// GapSeconds reports the length of the rule's recorded gap (0: none).
	GapSeconds(ruleID string, seconds float64)
	// LeaseHeld reports whether this replica holds the rule's lease.
	LeaseHeld(ruleID string, held bool)
}

// Defaults of Config.
const (
	DefaultMaxCatchup    = 24 * time.Hour
	DefaultShutdownGrace = 30 * time.Second
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
	// LeaseTTL is how long a lease lasts without renewal. Defaults to twice
	// the rule's interval (at least the timeout plus one interval); it must
	// exceed the execution timeout.
	LeaseTTL time.Duration
	// Timeout bounds every slot execution. Defaults to the rule's interval.
	Timeout time.Duration
	// MaxCatchup is the oldest missed slot a tick still executes, as an age
	// relative to the latest slot. Defaults to DefaultMaxCatchup (24h).
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
	// releases it when done (run).
	KeepLease bool
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

// leaseTTL is the lease duration of a rule with interval iv: LeaseTTL, else
// twice the interval, and at least one interval more than the timeout.
func (c Config) leaseTTL(iv time.Duration) time.Duration {
	if c.LeaseTTL > 0 {
		return c.LeaseTTL
	}
	return max(2*iv, c.timeout(iv)+iv)
}

// Scheduler executes the due slots of rules. Build it with New.
type Scheduler struct {
	cfg Config
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
	case cfg.Timeout < 0 || cfg.LeaseTTL < 0 || cfg.Delay < 0 || cfg.ShutdownGrace < 0:
		return nil, errors.New("configure scheduler: negative duration")
	}
	for _, r := range cfg.Rules {
		if !r.Normalized() {
			return nil, fmt.Errorf("configure scheduler: rule %s: %w", r.RuleID, rule.ErrNotNormalized)
		}
		iv := r.Timing.Interval
		timeout, ttl := cfg.timeout(iv), cfg.leaseTTL(iv)
		if ttl <= timeout {
			return nil, fmt.Errorf("configure scheduler: rule %s: lease TTL %s must exceed the execution timeout %s", r.RuleID, ttl, timeout)
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
	return &Scheduler{cfg: cfg}, nil
}

// Rules returns the scheduled rules.
func (s *Scheduler) Rules() []*rule.Rule { return s.cfg.Rules }

// TickReport is what one tick did for one rule.
type TickReport struct {
	RuleID string
	// LeaseHeld is true when another replica held the lease: nothing was done.
	LeaseHeld bool
	// Executed counts the slots completed (checkpointed) by this tick.
	Executed int
	// Checkpoint is the last completed slot after the tick (nil: none yet).
	Checkpoint *time.Time
	// Gap is the range of missed slots found too old to catch up, if any.
	Gap *GapRange
	// Err is the tick's error (also returned by Tick).
	Err error
}

// Tick runs one tick of every rule, one rule after the other: each executes
// every due slot since its checkpoint. It returns one report per rule and the
// joined errors of the rules that failed. A rule whose lease another replica
// holds is skipped without error.
func (s *Scheduler) Tick(ctx context.Context) ([]TickReport, error) {
	var reports []TickReport
	var errs []error
	for _, r := range s.cfg.Rules {
		rep := s.TickRule(ctx, ctx.Done(), r)
		reports = append(reports, rep)
		if rep.Err != nil {
			errs = append(errs, rep.Err)
		}
	}
	return reports, errors.Join(errs...)
}

type nopObserver struct{}

func (nopObserver) Executed(string, time.Time, detect.Result, error) {}
func (nopObserver) GapSeconds(string, float64)                       {}
func (nopObserver) LeaseHeld(string, bool)                           {}
