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

// errDraining stops a tick between two slots when the scheduler shuts down.
var errDraining = errors.New("scheduler shutting down")

// releaseTimeout bounds the lease release at the end of a tick.
const releaseTimeout = 10 * time.Second

// TickRule runs one tick of r: it takes the rule's lease, plans the due slots
// from the checkpoint, records a gap if some are too old, and executes the
// others oldest first, recording the checkpoint (and renewing the lease) after
// each slot whose alerts are written. It starts no new slot once drain is
// closed; ctx bounds the executions themselves.
func (s *Scheduler) TickRule(ctx context.Context, drain <-chan struct{}, r *rule.Rule) TickReport {
	rep := TickReport{RuleID: r.RuleID}
	t, err := s.startTick(ctx, r)
	if err != nil {
		if errors.Is(err, state.ErrLeaseHeld) {
			s.cfg.Observer.LeaseHeld(r.RuleID, false)
			t.log.Debug().Err(err).Msg("rule lease held by another replica, skipping tick")
			rep.LeaseHeld = true
			return rep
		}
		rep.Err = err
		if ctx.Err() == nil { // a cancelled tick means shutdown, not a failure
			t.log.Error().Err(err).Msg("rule tick failed")
		}
		return rep
	}
	s.cfg.Observer.LeaseHeld(r.RuleID, true)
	rep.Err = t.run(ctx, drain, &rep)
	rep.Checkpoint = t.st.LastCompletedSlot
	if !s.cfg.KeepLease {
		t.release(ctx)
	}
	return rep
}

// ruleTick is one tick of one rule: the state document it holds the lease on.
type ruleTick struct {
	s        *Scheduler
	r        *rule.Rule
	log      zerolog.Logger
	id       string
	interval time.Duration
	ttl      time.Duration
	now      time.Time
	st       state.RuleState
	v        state.Version
}

func (s *Scheduler) startTick(ctx context.Context, r *rule.Rule) (*ruleTick, error) {
	t := &ruleTick{s: s, r: r, log: s.cfg.Logger.With().Str("rule_id", r.RuleID).Logger(), now: s.cfg.Clock().UTC()}
	iv := r.Timing.Interval
	t.interval, t.ttl = iv, s.cfg.leaseTTL(iv)
	t.id = state.RuleDocID(r.Space, r.SavedObjectID())
	init := state.RuleState{RuleID: r.RuleID, RuleUUID: r.SavedObjectID(), RuleName: r.Name, Space: r.Space}
	var err error
	t.st, t.v, err = s.cfg.Store.AcquireLease(ctx, t.id, s.cfg.Owner, t.now, t.ttl, init)
	if err != nil {
		return t, fmt.Errorf("rule %s: %w", r.RuleID, err)
	}
	t.st.RuleID, t.st.RuleName = r.RuleID, r.Name
	return t, nil
}

func (t *ruleTick) run(ctx context.Context, drain <-chan struct{}, rep *TickReport) error {
	cfg := t.s.cfg
	latest := rule.AlignSlot(t.now.Add(-cfg.Delay), t.interval)
	plan := PlanSlots(PlanInput{
		Interval: t.interval, Latest: latest, Checkpoint: t.st.LastCompletedSlot,
		StartFrom: cfg.StartFrom, MaxCatchup: cfg.MaxCatchup,
	})
	if plan.Gap != nil {
		rep.Gap = plan.Gap
		if err := t.recordGap(ctx, *plan.Gap); err != nil {
			return err
		}
	}
	if t.st.Gap != nil {
		cfg.Observer.GapSeconds(t.r.RuleID, t.st.Gap.To.Sub(t.st.Gap.From).Seconds())
	} else {
		cfg.Observer.GapSeconds(t.r.RuleID, 0)
	}
	if len(plan.Slots) == 0 {
		return nil
	}
	if t.st.LastCompletedSlot == nil {
		if err := t.markStart(ctx, plan.Slots[0]); err != nil {
			return err
		}
	}
	if len(plan.Slots) > 1 {
		t.log.Info().Time("from_slot", plan.Slots[0]).Time("to_slot", plan.Slots[len(plan.Slots)-1]).
			Int("slots", len(plan.Slots)).Msg("catching up missed slots")
	}
	done := func(d SlotDone) error {
		if err := t.checkpoint(ctx, d); err != nil {
			return err
		}
		rep.Executed += d.Slots
		select {
		case <-drain:
			return errDraining
		default:
			return nil
		}
	}
	err := cfg.Execute(ctx, t.r, plan.Slots, done)
	var se *SlotError
	switch {
	case err == nil, errors.Is(err, errDraining):
		return nil
	case ctx.Err() != nil:
		// Shutdown abandoned the execution: the checkpoint stays, the slot
		// runs again on the next start (its alerts are idempotent).
		t.log.Info().Err(err).Msg("execution abandoned at shutdown")
		return fmt.Errorf("rule %s: execution abandoned: %w", t.r.RuleID, ctx.Err())
	case errors.As(err, &se):
		t.fail(ctx, se)
		return fmt.Errorf("rule %s: %w", t.r.RuleID, err)
	default:
		t.log.Error().Err(err).Msg("rule tick failed")
		return fmt.Errorf("rule %s: %w", t.r.RuleID, err)
	}
}

// recordGap stores the gap (merged with an unfilled earlier one) and tells
// the operator how to fill it.
func (t *ruleTick) recordGap(ctx context.Context, g GapRange) error {
	merged := state.Gap{From: g.From, To: g.To}
	if old := t.st.Gap; old != nil {
		if old.From.Before(merged.From) {
			merged.From = old.From
		}
		if old.To.After(merged.To) {
			merged.To = old.To
		}
	}
	t.log.Warn().Time("gap_from", g.From).Time("gap_to", g.To).Dur("max_catchup", t.s.cfg.MaxCatchup).
		Str("fill_with", backfillCommand(t.r, g)).
		Msgf("missed slots older than the catch-up limit are not executed; run %s", backfillCommand(t.r, g))
	t.st.Gap = &merged
	return t.put(ctx)
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
	t.st.LastCompletedSlot = &before
	t.log.Info().Time("first_slot", first).
		Msg("first start of the rule: earlier slots are not executed (esrule backfill executes history)")
	if err := t.put(ctx); err != nil {
		return fmt.Errorf("record the start slot: %w", err)
	}
	return nil
}

// checkpoint records the completed slots and renews the lease.
func (t *ruleTick) checkpoint(ctx context.Context, d SlotDone) error {
	now := t.s.cfg.Clock().UTC()
	through := d.Through.UTC()
	res := d.Result
	t.st.LastCompletedSlot = &through
	t.st.LastRunAt, t.st.LastSuccessAt = &now, &now
	t.st.LastStatus, t.st.LastError = state.StatusSucceeded, ""
	t.st.LastExecutionUUID = res.ExecutionUUID
	t.st.Counts = state.Counts{
		TermsChecked: res.TermsChecked, NewTerms: res.NewTerms,
		AlertsCreated: res.AlertsCreated, AlertsDuplicate: res.AlertsDuplicate,
	}
	t.st.Durations = state.Durations{TookMS: res.Took.Milliseconds(), ESTookMS: res.ESTook.Milliseconds()}
	if err := t.putAt(ctx, now); err != nil {
		return fmt.Errorf("record checkpoint %s: %w", through.Format(time.RFC3339), err)
	}
	t.s.cfg.Observer.Executed(t.r.RuleID, now, res, nil)
	return nil
}

// fail records a failed slot; the checkpoint stays where it was.
func (t *ruleTick) fail(ctx context.Context, se *SlotError) {
	now := t.s.cfg.Clock().UTC()
	t.log.Error().Err(se.Err).Time("slot", se.Slot).Msg("rule execution failed")
	t.s.cfg.Observer.Executed(t.r.RuleID, now, se.Result, se.Err)
	t.st.LastRunAt = &now
	t.st.LastStatus, t.st.LastError = state.StatusFailed, se.Error()
	t.st.LastExecutionUUID = se.Result.ExecutionUUID
	if err := t.putAt(ctx, now); err != nil {
		t.log.Warn().Err(err).Msg("could not record the failed execution in the state; continuing")
	}
}

func (t *ruleTick) put(ctx context.Context) error { return t.putAt(ctx, t.s.cfg.Clock().UTC()) }

// putAt writes the state with a renewed lease. A conflict means another
// replica took the rule over: the tick must stop.
func (t *ruleTick) putAt(ctx context.Context, now time.Time) error {
	t.st.UpdatedAt = now
	t.st.Lease = &state.Lease{Owner: t.s.cfg.Owner, ExpiresAt: now.Add(t.ttl)}
	v, err := t.s.cfg.Store.Put(ctx, t.id, t.st, t.v)
	if err != nil {
		return err
	}
	t.v = v
	return nil
}

func (t *ruleTick) release(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	if _, err := t.s.cfg.Store.ReleaseLease(ctx, t.id, t.s.cfg.Owner, t.st, t.v, t.s.cfg.Clock()); err != nil {
		t.log.Warn().Err(err).Msg("could not release the rule lease; it expires by itself")
		return
	}
	t.s.cfg.Observer.LeaseHeld(t.r.RuleID, false)
}
