package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/notify"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/rulecheck"
	"github.com/esrule/esrule/schedule"
)

// ConfigError is a configuration the engine refuses when it starts a
// command (a schedule, notification actions): the command's usage error.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// SlotOptions are the options of RunSlots.
type SlotOptions struct {
	// DryRun writes nothing: no indices are installed (only kibana.version
	// is resolved) and the executions write no alerts.
	DryRun bool
	// Report, when set, receives every execution's result and error, in
	// rule order (the summary lines and dry-run alerts of esrule run); an
	// error it returns stops RunSlots.
	Report func(r *rule.Rule, res detect.Result, err error) error
	// Notifications, when they have actions, get one delivery round after
	// the executions (not in a dry run), as after a tick.
	Notifications Notifications
}

// RunSlots executes slots[i] of rules[i], one after the other, without
// touching the checkpoints (esrule run --at, and run --dry-run): it
// installs the missing indices, logs the rules' problems on the cluster,
// runs every execution even after a failure, delivers notifications once,
// and fails when any execution failed or delivery state could not be
// recorded.
func (e *Engine) RunSlots(ctx context.Context, rules []*rule.Rule, slots []time.Time, o SlotOptions) error {
	log := e.cfg.Logger
	if err := e.ensureOrResolve(ctx, rules, o.DryRun); err != nil {
		return err
	}
	rulecheck.Warn(ctx, e.client, rules, log)
	failed := 0
	for i, r := range rules {
		res, err := e.Run(ctx, r, slots[i], detect.RunOptions{DryRun: o.DryRun})
		if err != nil {
			failed++
			log.Error().Err(err).Str("rule_id", r.RuleID).Time("slot", slots[i]).Msg("rule execution failed")
		}
		if o.Report != nil {
			if err := o.Report(r, res, err); err != nil {
				return err
			}
		}
	}
	var notifyErr error
	if !o.DryRun {
		notifyErr = e.deliverAfterRun(ctx, o.Notifications, Spaces(rules))
	}
	if failed > 0 {
		return errors.Join(fmt.Errorf("%d of %d rule executions failed", failed, len(rules)), notifyErr)
	}
	return notifyErr
}

// ensureOrResolve installs the missing indices of the rules' spaces, or
// with dryRun only resolves kibana.version.
func (e *Engine) ensureOrResolve(ctx context.Context, rules []*rule.Rule, dryRun bool) error {
	if dryRun {
		return e.ResolveKibanaVersion(ctx)
	}
	return e.Ensure(ctx, Spaces(rules))
}

// Tick is esrule run without --at: one tick of serve for every rule of sc
// (every slot from the rule's checkpoint to the latest completed slot,
// catch-up and gap reporting included, under the rule's lease; each slot
// executed one by one goes to Config.OnSlot), then one delivery round of
// the notification actions, so that a CronJob notifies too. A rule whose
// lease another replica holds is skipped (logged, counted); a lease left by
// a killed run is taken over when it expires. It fails when any rule
// failed, or when delivery state could not be recorded in the alerts.
func (e *Engine) Tick(ctx context.Context, sc schedule.Config, actions notify.Config) error {
	log := e.cfg.Logger
	spaces := Spaces(sc.Rules)
	if err := e.Ensure(ctx, spaces); err != nil {
		return err
	}
	rulecheck.Warn(ctx, e.client, sc.Rules, log)
	s, err := e.Scheduler(sc)
	if err != nil {
		return &ConfigError{err}
	}
	reports, err := s.Tick(ctx)
	for _, rep := range reports {
		ev := log.Info().Str("rule_id", rep.RuleID).Int("slots_executed", rep.Executed).Bool("lease_held_elsewhere", rep.LeaseHeld)
		if rep.Checkpoint != nil {
			ev = ev.Time("checkpoint", *rep.Checkpoint)
		}
		ev.Msg("tick done")
	}
	notifyErr := e.deliverAfterRun(ctx, Notifications{Config: actions, Owner: sc.Owner}, spaces)
	if err != nil {
		failed := 0
		for _, rep := range reports {
			if rep.Err != nil {
				failed++
			}
		}
		return errors.Join(fmt.Errorf("%d of %d rules failed: %w", failed, len(reports), err), notifyErr)
	}
	return notifyErr
}

// deliverAfterRun is the delivery round of esrule run. It returns only the
// error that must fail the run: delivery state that could not be recorded
// in the alerts; what could not be delivered now, the next run retries.
func (e *Engine) deliverAfterRun(ctx context.Context, n Notifications, spaces []string) error {
	err := e.DeliverOnce(ctx, n, spaces)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, notify.ErrStateNotRecorded):
		// The alerts cannot carry their delivery state: fail loudly (exit 1).
		e.cfg.Logger.Error().Err(err).Msg("notification delivery state not recorded: check the index privilege on the alerts indices")
		return err
	default:
		e.cfg.Logger.Warn().Err(err).Msg("notifications not all delivered; the next run retries")
		return nil
	}
}
