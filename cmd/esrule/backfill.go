package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/esrule/esrule/backfill"
	"github.com/esrule/esrule/engine"
	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/interrupt"
	"github.com/esrule/esrule/logging"
	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/output"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/timespec"
)

// backfillOptions are the flags of `esrule backfill`.
type backfillOptions struct {
	// Options holds --replay, --force, --page-size and --fetch-batch.
	backfill.Options
	// engine holds --state-index, --max-response-bytes and --notify.
	engine                     engine.Config
	from, to, progress, format string
	logEvery, confirmAbove     time.Duration
	yes                        bool
}

func newBackfillCommand(g *globalOptions) *cobra.Command {
	var o backfillOptions
	cmd := &cobra.Command{
		Use:   "backfill --from A --to B",
		Short: "Execute the selected rules for every slot whose end falls in (A, B]",
		Long:  longHelp("backfill"),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, sig, stop := interrupt.Context(cmd.Context())
			defer stop()
			return interrupt.Mark(backfillRules(ctx, g, o, cmd.OutOrStdout(), time.Now()), sig())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", "start of the range, exclusive: RFC 3339, a date (midnight UTC) or date math such as now-30d")
	f.StringVar(&o.to, "to", "now", "end of the range, inclusive (same forms); a future time is clamped to now")
	f.BoolVar(&o.yes, "yes", false, "do not ask for confirmation of a range longer than --confirm-above")
	f.DurationVar(&o.confirmAbove, "confirm-above", 30*24*time.Hour, "ask for confirmation (stdin a terminal, no --yes) when the range is longer; 0 never asks")
	f.BoolVar(&o.Replay, "replay", false, "execute every slot with the normal executor (slow reference mode)")
	f.BoolVar(&o.Force, "force", false, "re-run a range its checkpoint says is done")
	f.BoolVar(&o.engine.RequestDelivery, "notify", false, "have the notification actions (serve --actions) send the alerts this backfill creates; off by default, so a long backfill does not flood a channel")
	f.StringVar(&o.engine.StateIndex, "state-index", mappings.StateIndex, "index of the checkpoint documents")
	f.IntVar(&o.PageSize, "page-size", backfill.DefaultScanPageSize, "composite page size of the scan (halved when a page is too large)")
	f.IntVar(&o.FetchBatch, "fetch-batch", backfill.DefaultFetchBatch, "first occurrences per document fetch and alert write")
	f.Int64Var(&o.engine.MaxResponseBytes, "max-response-bytes", esclient.DefaultMaxResponseBytes,
		"largest search response read; larger ones halve the batch and retry")
	output.AddFormatFlag(f, &o.format, output.JSON)
	f.StringVar(&o.progress, "progress", "auto", "progress display: auto (bar on a terminal, else log), bar, log or none")
	f.DurationVar(&o.logEvery, "progress-interval", 5*time.Second, "interval of the progress log lines")
	return cmd
}

// timeFlag reads a time flag with the one syntax of every time flag
// (timespec.Forms); a bad value is a usage error.
func timeFlag(flag, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, usagef("--%s is required: %s", flag, timespec.Forms)
	}
	t, err := timespec.ParseFlag(flag, s, now)
	return t, asUsage(err)
}

func (o backfillOptions) check() error {
	switch {
	case o.PageSize <= 0:
		return usagef("--page-size %d: want a positive size", o.PageSize)
	case o.FetchBatch <= 0:
		return usagef("--fetch-batch %d: want a positive size", o.FetchBatch)
	case o.engine.MaxResponseBytes <= 0:
		return usagef("--max-response-bytes %d: want a positive size", o.engine.MaxResponseBytes)
	case o.confirmAbove < 0:
		return usagef("--confirm-above %s: want 0 (never ask) or a positive duration", o.confirmAbove)
	}
	return asUsage(cmp.Or(output.CheckFormat(o.format), output.CheckProgress(o.progress)))
}

// backfillRules backfills every selected rule in turn (engine.BackfillRules);
// it stops at the first interrupted one.
func backfillRules(ctx context.Context, g *globalOptions, o backfillOptions, stdout io.Writer, now time.Time) error {
	if err := o.check(); err != nil {
		return err
	}
	from, err := timeFlag("from", o.from, now)
	if err != nil {
		return err
	}
	to, err := timeFlag("to", o.to, now)
	if err != nil {
		return err
	}
	if to.After(now) {
		g.log.Warn().Time("to", to).Time("now", now).Msg("--to is in the future; the backfill ends at now, the last complete slot of each rule")
		to = now
	}
	if !to.After(from) {
		return usagef("--to %s must be after --from %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	rules, err := g.loadRules(g.log)
	if err != nil {
		return err
	}
	if err := planBackfill(ctx, g, o, rules, from, to); err != nil {
		return err
	}
	e, err := g.newEngine(o.engine)
	if err != nil {
		return err
	}
	lines, out := output.NewLines(stdout), output.NewSummaries(stdout, o.format)
	opts := o.Options
	opts.From, opts.To, opts.DryRun = from, to, g.dryRun
	return e.BackfillRules(ctx, rules, engine.BackfillOptions{
		Options:  opts,
		OnAlerts: lines.AlertDocs,
		Display: func(ruleID string) backfill.Display {
			return output.BackfillDisplay(o.progress, g.stderr, g.log, o.logEvery, time.Now, ruleID)
		},
		Report: func(s backfill.Summary, err error) error {
			return out.Backfill(output.NewBackfillSummary(s, err))
		},
	})
}

// planBackfill logs the plan of every rule's backfill and, for a range
// longer than --confirm-above, asks for confirmation when stdin is a
// terminal and --yes is not given.
func planBackfill(ctx context.Context, g *globalOptions, o backfillOptions, rules []*rule.Rule, from, to time.Time) error {
	total, err := engine.PlanBackfill(rules, from, to, o.Replay, g.dryRun, g.log)
	if err != nil {
		return err
	}
	span := to.Sub(from)
	if o.yes || o.confirmAbove == 0 || span <= o.confirmAbove || !logging.IsTerminal(g.stdin) {
		return nil
	}
	question := fmt.Sprintf("Backfill %d slots over %s (longer than --confirm-above %s)?",
		total, backfill.HumanDuration(span), backfill.HumanDuration(o.confirmAbove))
	if yes, err := output.Confirm(ctx, g.stdin, g.stderr, question); yes || err != nil {
		return err
	}
	return usagef("backfill of %s not confirmed; rerun with --yes to skip the question", backfill.HumanDuration(span))
}
