package schedule

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/state"
)

// ErrDraining is what the done callback of an ExecuteFunc returns, after
// recording the checkpoint, when the scheduler shuts down: the execution
// stops between two slots.
var ErrDraining = errors.New("scheduler shutting down")

// releaseTimeout bounds the lease release at the end of a tick.
const releaseTimeout = 10 * time.Second

// Execution types, the label of every execution the Observer receives.
const (
	// ExecScheduled is a tick's one due slot.
	ExecScheduled = "scheduled"
	// ExecCatchUp is a slot of a tick that had several due (missed) slots.
	ExecCatchUp = "catchup"
	// ExecBackfill is a slot of a gap filled in the background (FillOldGaps).
	ExecBackfill = "backfill"
)

// Stages of a failed tick, the label of Observer.TickFailed.
const (
	StageLease   = "lease"   // the lease could not be read or taken
	StageState   = "state"   // a state write (gap, start, checkpoint) failed
	StageExecute = "execute" // a slot failed
	StageLost    = "lost"    // the lease was lost during the tick
	StageGapFill = "gapfill" // filling an old gap (FillOldGaps) failed
)

// TickRule runs one tick of r: it takes the rule's lease (or keeps the one
// serve holds), plans the due slots from the checkpoint, records a gap if
// some are too old, and executes the others oldest first, recording the
// checkpoint after each slot whose alerts are written. The lease is renewed
// on a heartbeat meanwhile; when it is lost the work stops at once. It
// starts no new slot once drain is closed; ctx bounds the executions.
func (s *Scheduler) TickRule(ctx context.Context, drain <-chan struct{}, r *rule.Rule) TickReport {
	return s.tickRule(ctx, drain, r, false)
}

// tickRule is TickRule; quiet logs a skip for a held lease at Debug (serve's
// retries at the lease's expiry).
func (s *Scheduler) tickRule(ctx context.Context, drain <-chan struct{}, r *rule.Rule, quiet bool) TickReport {
	rep := TickReport{RuleID: r.RuleID}
	if !s.takeSlot(ctx, drain) {
		return rep
	}
	defer func() { <-s.slots }()
	d := s.takes(ctx, r)
	if !d.take {
		s.cfg.Observer.LeaseHeld(r.RuleID, false)
		rep.Elsewhere = true
		return rep
	}
	log := s.cfg.Logger.With().Str("rule_id", r.RuleID).Logger()
	h := s.held(r)
	if h == nil {
		var err error
		h, err = s.acquire(ctx, r)
		if err != nil {
			if errors.Is(err, state.ErrLeaseHeld) {
				s.leaseSkipped(log, h.st.Lease, &rep, quiet)
				return rep
			}
			rep.Err = err
			s.tickFailed(ctx, log, r, StageLease, err)
			return rep
		}
	}
	if err := h.resolve(ctx); err != nil {
		rep.Err = fmt.Errorf("rule %s: %w", r.RuleID, err)
		s.tickFailed(ctx, log, r, StageState, err)
		if h.LostErr() != nil || !s.cfg.KeepLease {
			h.release(ctx)
		} else {
			s.keep(r, h)
		}
		return rep
	}
	s.cfg.Observer.LeaseHeld(r.RuleID, true)
	t := &ruleTick{s: s, r: r, log: log, h: h, outer: ctx, interval: r.Timing.Interval, now: s.cfg.Clock().UTC()}
	stuck := s.cfg.timeout(t.interval) + h.ttl
	t.watchdog = time.AfterFunc(stuck, func() {
		log.Warn().Int64("no_progress_for_ms", stuck.Milliseconds()).Msg("rule tick stuck: no slot completed within the execution timeout plus the lease TTL")
		s.cfg.Observer.TickStuck(r.RuleID)
	})
	rep.Err = t.run(ctx, drain, &rep)
	t.watchdog.Stop()
	st := h.state()
	rep.Checkpoint = st.LastCompletedSlot
	if s.cfg.KeepLease && h.LostErr() == nil && ctx.Err() == nil && !d.handOver {
		s.keep(r, h)
	} else {
		s.forget(r)
		h.release(ctx)
	}
	return rep
}

// forget drops this replica's kept hold on r's lease (handed over or
// released).
func (s *Scheduler) forget(r *rule.Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.holders, r.RuleID)
}

// takeSlot takes one of the Concurrency places, waiting for one to be free
// unless drain closes or ctx ends first (then it reports false).
func (s *Scheduler) takeSlot(ctx context.Context, drain <-chan struct{}) bool {
	select {
	case s.slots <- struct{}{}:
		return true
	default:
	}
	select {
	case s.slots <- struct{}{}:
		return true
	case <-drain:
		return false
	case <-ctx.Done():
		return false
	}
}

// leaseSkipped reports a tick skipped because another replica holds the
// lease, counted: at Warn for esrule run, at Info for serve (the normal
// standby of serve replicas), at Debug for quiet retries.
func (s *Scheduler) leaseSkipped(log zerolog.Logger, l *state.Lease, rep *TickReport, quiet bool) {
	rep.LeaseHeld = true
	s.cfg.Observer.LeaseHeld(rep.RuleID, false)
	if l != nil {
		rep.LeaseHolder, rep.LeaseExpiresAt, rep.LeaseRenewedAt = l.Owner, l.ExpiresAt, l.RenewedAt
	}
	if quiet {
		log.Debug().Str("holder", rep.LeaseHolder).Time("lease_expires_at", rep.LeaseExpiresAt).
			Msg("rule lease held by another replica")
		return
	}
	s.reportSkip(log, *rep)
}

// reportSkip logs and counts a tick skipped for a lease.
func (s *Scheduler) reportSkip(log zerolog.Logger, rep TickReport) {
	s.cfg.Observer.LeaseSkipped(rep.RuleID)
	ev := log.Warn()
	if s.cfg.KeepLease {
		ev = log.Info()
	}
	ev.Str("holder", rep.LeaseHolder).Time("lease_expires_at", rep.LeaseExpiresAt).
		Msg("rule skipped: its lease is held by another replica")
}

// tickFailed logs and counts a tick that failed; a cancelled tick means
// shutdown, not a failure.
func (s *Scheduler) tickFailed(ctx context.Context, log zerolog.Logger, r *rule.Rule, stage string, err error) {
	if ctx.Err() != nil {
		return
	}
	log.Error().Err(err).Str("stage", stage).Msg("rule tick failed")
	s.cfg.Observer.TickFailed(r.RuleID, stage)
}

// ruleTick is one tick of one rule under its lease.
type ruleTick struct {
	s        *Scheduler
	r        *rule.Rule
	log      zerolog.Logger
	h        *holder
	outer    context.Context // the tick's context, before the lease can cancel it
	interval time.Duration
	now      time.Time
	watchdog *time.Timer
}

func (t *ruleTick) run(ctx context.Context, drain <-chan struct{}, rep *TickReport) error {
	cfg := t.s.cfg
	// The work stops as soon as the lease is lost (fencing).
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-t.h.Lost():
			cancel(t.h.LostErr())
		case <-ctx.Done():
		}
	}()

	st := t.h.state()
	latest := rule.AlignSlot(t.now.Add(-cfg.Delay), t.interval)
	plan := PlanSlots(PlanInput{
		Interval: t.interval, Latest: latest, Checkpoint: st.LastCompletedSlot,
		StartFrom: cfg.StartFrom, MaxCatchup: cfg.MaxCatchup,
	})
	if plan.Gap != nil {
		rep.Gap = plan.Gap
		if err := t.recordGap(ctx, *plan.Gap); err != nil {
			return t.failed(ctx, StageState, err)
		}
	}
	t.reportGap()
	if len(plan.Slots) > 0 {
		if err := t.execute(ctx, drain, plan.Slots, rep); err != nil {
			return err
		}
	}
	if cfg.FillOldGaps && cfg.FillGap != nil {
		return t.fillGap(ctx, drain, rep)
	}
	return nil
}

func (t *ruleTick) reportGap() {
	if g := t.h.state().Gap; g != nil {
		t.s.cfg.Observer.GapSeconds(t.r.RuleID, g.To.Sub(g.From).Seconds())
	} else {
		t.s.cfg.Observer.GapSeconds(t.r.RuleID, 0)
	}
}

// failed counts and wraps an error of the tick.
func (t *ruleTick) failed(_ context.Context, stage string, err error) error {
	if t.h.LostErr() != nil && !errors.Is(err, ErrDraining) {
		stage = StageLost
	}
	t.s.tickFailed(t.outer, t.log, t.r, stage, err)
	return fmt.Errorf("rule %s: %w", t.r.RuleID, err)
}

func (t *ruleTick) execute(ctx context.Context, drain <-chan struct{}, slots []time.Time, rep *TickReport) error {
	cfg := t.s.cfg
	if t.h.state().LastCompletedSlot == nil {
		if err := t.markStart(ctx, slots[0]); err != nil {
			return t.failed(ctx, StageState, err)
		}
	}
	kind := ExecScheduled
	if len(slots) > 1 {
		kind = ExecCatchUp
		t.log.Info().Time("from_slot", slots[0]).Time("to_slot", slots[len(slots)-1]).
			Int("slots", len(slots)).Msg("catching up missed slots")
	}
	done := func(d SlotDone) error {
		if err := t.checkpoint(ctx, kind, d); err != nil {
			return err
		}
		rep.Executed += d.Slots
		select {
		case <-drain:
			return ErrDraining
		default:
			return nil
		}
	}
	err := cfg.Execute(ctx, t.r, slots, done)
	var se *SlotError
	switch {
	case err == nil, errors.Is(err, ErrDraining):
		return nil
	case t.h.LostErr() != nil:
		if errors.As(err, &se) { // the alerts it wrote count
			cfg.Observer.Executed(t.r.RuleID, kind, t.s.cfg.Clock().UTC(), 1, se.Result, se.Err)
		}
		return t.failed(ctx, StageLost, fmt.Errorf("execution stopped: %w", t.h.LostErr()))
	case t.outer.Err() != nil:
		if errors.As(err, &se) {
			cfg.Observer.Executed(t.r.RuleID, kind, t.s.cfg.Clock().UTC(), 1, se.Result, se.Err)
		}
		// Shutdown abandoned the execution: the checkpoint stays, the slot
		// runs again on the next start (its alerts are idempotent).
		t.log.Info().Err(err).Msg("execution abandoned at shutdown")
		return fmt.Errorf("rule %s: execution abandoned: %w", t.r.RuleID, ctx.Err())
	case errors.As(err, &se):
		t.fail(ctx, kind, se)
		return t.failed(ctx, StageExecute, err)
	default:
		return t.failed(ctx, StageState, err)
	}
}

// recordGap stores the gap (merged with an unfilled earlier one) and tells
// the operator how to fill it.
func (t *ruleTick) recordGap(ctx context.Context, g GapRange) error {
	merged := state.Gap{From: g.From, To: g.To}
	if old := t.h.state().Gap; old != nil {
		if old.From.Before(merged.From) {
			merged.From = old.From
		}
		if old.To.After(merged.To) {
			merged.To = old.To
		}
	}
	ev := t.log.Warn().Time("gap_from", g.From).Time("gap_to", g.To).Str("max_catchup", t.s.cfg.MaxCatchup.String())
	if t.s.cfg.FillOldGaps {
		ev.Msg("missed slots older than the catch-up limit are filled in the background (--fill-old-gaps)")
	} else {
		ev.Str("fill_with", backfillCommand(t.r, g)).
			Msgf("missed slots older than the catch-up limit are not executed; run %s", backfillCommand(t.r, g))
	}
	return t.h.write(ctx, func(st *state.RuleState) { st.Gap = &merged })
}

func backfillCommand(r *rule.Rule, g GapRange) string {
	return fmt.Sprintf("esrule backfill --rule %s --from %s --to %s", r.RuleID,
		g.From.UTC().Format(time.RFC3339), g.To.UTC().Format(time.RFC3339))
}

// markStart records where a rule without checkpoint starts: the slot before
// first becomes the checkpoint (never executed: LastSuccessAt stays unset), so
// that a failure of the first slot does not make the next tick start later
// and skip it.
func (t *ruleTick) markStart(ctx context.Context, first time.Time) error {
	before := first.Add(-t.interval)
	t.log.Info().Time("first_slot", first).
		Msg("first start of the rule: earlier slots are not executed (esrule backfill executes history)")
	if err := t.h.write(ctx, func(st *state.RuleState) { st.LastCompletedSlot = &before }); err != nil {
		return fmt.Errorf("record the start slot: %w", err)
	}
	return nil
}

// checkpoint records the completed slots (which renews the lease).
func (t *ruleTick) checkpoint(ctx context.Context, kind string, d SlotDone) error {
	now := t.s.cfg.Clock().UTC()
	through := d.Through.UTC()
	res := d.Result
	err := t.h.write(ctx, func(st *state.RuleState) {
		st.LastCompletedSlot = &through
		st.LastRunAt, st.LastSuccessAt = &now, &now
		st.LastStatus, st.LastError = state.StatusSucceeded, ""
		st.LastExecutionUUID = res.ExecutionUUID
		st.Counts = state.Counts{
			TermsChecked: res.TermsChecked, NewTerms: res.NewTerms,
			AlertsCreated: res.AlertsCreated, AlertsDuplicate: res.AlertsDuplicate,
		}
		st.Durations = state.Durations{TookMS: res.Took.Milliseconds(), ESTookMS: res.ESTook.Milliseconds()}
	})
	if err != nil {
		err = fmt.Errorf("record checkpoint %s: %w", through.Format(time.RFC3339), err)
		// The slots ran and wrote their alerts, but they are not recorded:
		// they count as failed executions (and run again).
		t.s.cfg.Observer.Executed(t.r.RuleID, kind, now, max(d.Slots, 1), res, err)
		return err
	}
	t.watchdog.Reset(t.s.cfg.timeout(t.interval) + t.h.ttl)
	t.s.cfg.Observer.Executed(t.r.RuleID, kind, now, max(d.Slots, 1), res, nil)
	return nil
}

// fail records a failed slot; the checkpoint stays where it was.
func (t *ruleTick) fail(ctx context.Context, kind string, se *SlotError) {
	now := t.s.cfg.Clock().UTC()
	t.log.Error().Err(se.Err).Time("slot", se.Slot).Str("execution_type", kind).Msg("rule execution failed")
	t.s.cfg.Observer.Executed(t.r.RuleID, kind, now, 1, se.Result, se.Err)
	err := t.h.write(context.WithoutCancel(ctx), func(st *state.RuleState) {
		st.LastRunAt = &now
		st.LastStatus, st.LastError = state.StatusFailed, se.Error()
		st.LastExecutionUUID = se.Result.ExecutionUUID
	})
	if err != nil {
		t.log.Warn().Err(err).Msg("could not record the failed execution in the state; continuing")
	}
}
