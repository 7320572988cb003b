package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/backfill"
	"github.com/esrule/esrule/rule"
)

// BackfillOptions are the options of BackfillRules.
type BackfillOptions struct {
	// Options are the range and settings of every rule's backfill
	// (OnAlerts and Progress are set per rule).
	backfill.Options
	// OnAlerts, with DryRun, receives every rule's would-be alerts and the
	// alias they would be written to.
	OnAlerts func(alias string, as []alerts.Alert) error
	// Display, when set, returns the progress display of a rule's backfill;
	// an estimate of the whole range is added to it.
	Display func(ruleID string) backfill.Display
	// Report, when set, receives the summary of every rule's backfill with
	// its error; an error it returns stops BackfillRules.
	Report func(s backfill.Summary, err error) error
}

// BackfillRules backfills every rule in turn (esrule backfill), with a
// checkpoint per rule and range. It installs the missing indices first
// (with DryRun it only resolves kibana.version), goes on after a failed
// rule, stops at the first interrupted one (returning its
// *backfill.InterruptedError), and fails when any rule failed.
func (e *Engine) BackfillRules(ctx context.Context, rules []*rule.Rule, o BackfillOptions) error {
	log := e.cfg.Logger
	if err := e.ensureOrResolve(ctx, rules, o.DryRun); err != nil {
		return err
	}
	report := func(s backfill.Summary, err error) error {
		if o.Report == nil {
			return nil
		}
		return o.Report(s, err)
	}
	failed := 0
	for _, r := range rules {
		opts := o.Options
		if o.DryRun && o.OnAlerts != nil {
			alias := e.cfg.AlertsAlias(r.Space)
			opts.OnAlerts = func(as []alerts.Alert) error { return o.OnAlerts(alias, as) }
		}
		var display backfill.Display = backfill.NoDisplay{}
		if o.Display != nil {
			display = o.Display(r.RuleID)
		}
		estimate := backfill.NewEstimateDisplay(display, log, e.cfg.Clock)
		opts.Progress = estimate.Update
		s, err := e.Backfill(ctx, r, opts)
		estimate.Finish()
		if s.AlreadyDone {
			log.Info().Str("rule_id", r.RuleID).Time("from", s.From).Time("to", s.To).
				Msg("backfill range already done (checkpoint); nothing to do, --force re-runs it")
		}
		var interrupted *backfill.InterruptedError
		if errors.As(err, &interrupted) {
			if werr := report(s, err); werr != nil {
				return werr
			}
			return interrupted
		}
		if err != nil {
			failed++
			log.Error().Err(err).Str("rule_id", r.RuleID).Int("slots_done", s.SlotsDone).
				Msg("backfill failed; run the same command again to resume")
		}
		if err := report(s, err); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d rule backfills failed", failed, len(rules))
	}
	return nil
}

// PlanBackfill logs the plan of every rule's backfill of (from, to] (slots,
// interval, mode) and returns the number of slots of all rules.
func PlanBackfill(rules []*rule.Rule, from, to time.Time, replay, dryRun bool, log zerolog.Logger) (int, error) {
	total := 0
	for _, r := range rules {
		p, err := backfill.PlanFor(r, from, to, replay)
		if err != nil {
			return 0, err
		}
		total += p.Slots
		log.Info().Str("rule_id", p.RuleID).Time("from", p.From).Time("to", p.To).Int("slots", p.Slots).
			Str("interval", p.Interval.String()).Str("mode", p.Mode).Bool("dry_run", dryRun).
			Msg("backfill plan: " + p.String() + "; an estimate of requests and time follows the first slots")
	}
	return total, nil
}
