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
}

// RunSlots executes slots[i] of rules[i], one after the other, without
// touching the checkpoints (esrule run --at, and run --dry-run): it
// installs the missing indices, logs the rules' problems on the cluster,
// runs every execution even after a failure, and fails when any failed.
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
	if failed > 0 {
		return fmt.Errorf("%d of %d rule executions failed", failed, len(rules))
	}
	return nil
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
	var notifyErr error
	if derr := e.DeliverOnce(ctx, Notifications{Config: actions, Owner: sc.Owner}, spaces); derr != nil {
		if errors.Is(derr, notify.ErrStateNotRecorded) {
			// The alerts cannot carry their delivery state: fail loudly (exit 1).
			log.Error().Err(derr).Msg("notification delivery state not recorded: check the index privilege on the alerts indices")
			notifyErr = derr
		} else {
			log.Warn().Err(derr).Msg("notifications not all delivered; the next run retries")
		}
	}
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
