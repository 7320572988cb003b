package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/backfill"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/esquery"
	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/notify"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/state"
)

func init() { registerCommand(newBackfillCommand) }

// backfillOptions are the flags of `esrule backfill`.
type backfillOptions struct {
	from, to         string
	replay, force    bool
	stateIndex       string
	pageSize         int
	fetchBatch       int
	maxResponseBytes int64
	progress         string
	logEvery         time.Duration
	notify           bool
}

func newBackfillCommand(g *globalOptions) *cobra.Command {
	var o backfillOptions
	cmd := &cobra.Command{
		Use:   "backfill --from A --to B",
		Short: "Execute the selected rules for every slot whose end falls in (A, B]",
		Long: `backfill writes the alerts that executing each selected rule at every slot T with
A < T <= B (slots aligned to the rule's interval, oldest first) would write, with the
same _ids and documents, kibana.alert.rule.execution.type "manual".

By default one streaming scan of the rule's matches over the whole range replaces the
per-slot history searches; slots with max_signals or more new terms (and slots that
overlap a slot where max_signals cut alerts) are executed exactly like a scheduled run.
--replay executes every slot with the normal executor (the reference).

Progress is checkpointed in the state index per rule and range: an interrupted backfill
resumes where it stopped, and a range already done exits at once (--force re-runs it;
every alert is then a duplicate). A progress bar is shown when stderr is a terminal,
periodic log lines otherwise; one JSON summary line per rule goes to stdout.

--from and --to take RFC 3339 times or date math relative to now (now-30d, now-1d/d).
With --dry-run nothing is written (no alerts, no checkpoint): the would-be alerts are
printed as NDJSON on stdout and the summary goes to the log.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBackfill(cmd.Context(), g, o, cmd.OutOrStdout(), time.Now())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", "start of the range, exclusive (RFC 3339 or date math such as now-30d)")
	f.StringVar(&o.to, "to", "now", "end of the range, inclusive (RFC 3339 or date math)")
	f.BoolVar(&o.replay, "replay", false, "execute every slot with the normal executor (slow reference mode)")
	f.BoolVar(&o.force, "force", false, "re-run a range its checkpoint says is done")
	f.BoolVar(&o.notify, "notify", false, "have the notification actions (serve --actions) send the alerts this backfill creates; off by default, so a long backfill does not flood a channel")
	f.StringVar(&o.stateIndex, "state-index", mappings.StateIndex, "index of the checkpoint documents")
	f.IntVar(&o.pageSize, "page-size", backfill.DefaultScanPageSize, "composite page size of the scan (halved when a page is too large)")
	f.IntVar(&o.fetchBatch, "fetch-batch", backfill.DefaultFetchBatch, "first occurrences per document fetch and alert write")
	f.Int64Var(&o.maxResponseBytes, "max-response-bytes", esquery.DefaultMaxResponseBytes,
		"largest search response read; larger ones halve the batch and retry")
	f.StringVar(&o.progress, "progress", "auto", "progress display: auto (bar on a terminal, else log), bar, log or none")
	f.DurationVar(&o.logEvery, "progress-interval", 5*time.Second, "interval of the progress log lines")
	return cmd
}

// parseTime reads an RFC 3339 time or date math relative to now.
func parseTime(flag, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, usagef("--%s is required", flag)
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if strings.HasPrefix(s, "now") {
		dm, err := rule.ParseDateMath(s)
		if err != nil {
			return time.Time{}, usagef("--%s %q: %v", flag, s, err)
		}
		return dm.At(now).UTC(), nil
	}
	return time.Time{}, usagef("--%s %q: want an RFC 3339 time (2024-05-01T10:00:00Z) or date math (now-30d)", flag, s)
}

func (o backfillOptions) check() error {
	switch {
	case o.pageSize <= 0:
		return usagef("--page-size %d: want a positive size", o.pageSize)
	case o.fetchBatch <= 0:
		return usagef("--fetch-batch %d: want a positive size", o.fetchBatch)
	case o.maxResponseBytes <= 0:
		return usagef("--max-response-bytes %d: want a positive size", o.maxResponseBytes)
	}
	switch o.progress {
	case "auto", "bar", "log", "none":
		return nil
	}
	return usagef("--progress %q: want auto, bar, log or none", o.progress)
}

func runBackfill(ctx context.Context, g *globalOptions, o backfillOptions, stdout io.Writer, now time.Time) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log, err := g.logger()
	if err != nil {
		return err
	}
	if err := o.check(); err != nil {
		return err
	}
	from, err := parseTime("from", o.from, now)
	if err != nil {
		return err
	}
	to, err := parseTime("to", o.to, now)
	if err != nil {
		return err
	}
	if !to.After(from) {
		return usagef("--to %s must be after --from %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	rules, err := g.loadRules(log)
	if err != nil {
		return err
	}
	c, err := g.es.client()
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	ensured := map[string]bool{}
	failed := 0
	for _, r := range rules {
		space := r.Space
		if space == "" {
			space = rule.DefaultSpace
		}
		if !g.dryRun && !ensured[space] {
			if err := ensureMappings(ctx, c, []string{space}, o.stateIndex); err != nil {
				return err
			}
			if o.notify {
				if err := notify.EnsureMapping(ctx, c, []string{mappings.AlertsAlias(space)}); err != nil {
					return err
				}
			}
			ensured[space] = true
		}
		d := backfillDeps(c, log, space, o)
		if o.notify {
			// Marked alerts are delivered by serve's (or the next run's) notification loop.
			d.Alerts = notify.RequestDelivery(d.Alerts)
			d.Executor.Alerts = notify.RequestDelivery(d.Executor.Alerts)
		}
		opts := backfill.Options{
			From: from, To: to, Replay: o.replay, DryRun: g.dryRun, Force: o.force,
			PageSize: o.pageSize, FetchBatch: o.fetchBatch,
		}
		if g.dryRun {
			opts.OnAlerts = func(as []alerts.Alert) error { return writeAlerts(enc, mappings.AlertsAlias(space), as) }
		}
		display := newBackfillDisplay(g, o, log, r.RuleID, time.Now)
		opts.Progress = display.update
		s, err := backfill.Run(ctx, d, r, opts)
		display.finish()
		if s.AlreadyDone {
			log.Info().Str("rule_id", r.RuleID).Time("from", s.From).Time("to", s.To).
				Msg("backfill range already done (checkpoint); nothing to do, --force re-runs it")
		}
		if err != nil {
			failed++
			log.Error().Err(err).Str("rule_id", r.RuleID).Int("slots_done", s.SkippedSlots).
				Msg("backfill failed; run the same command again to resume")
		}
		if g.dryRun {
			b, _ := json.Marshal(s)
			log.Info().RawJSON("summary", b).Str("rule_id", r.RuleID).Msg("dry run summary")
			continue
		}
		if err := enc.Encode(backfillSummary{
			Summary: s, Took: s.Took.Round(time.Millisecond).String(), ESTook: s.ESTook.String(),
			Status: status(err), Error: errString(err),
		}); err != nil {
			return fmt.Errorf("write summary: %w", err)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d rule backfills failed", failed, len(rules))
	}
	return nil
}

// backfillSummary is the JSON line printed per rule.
type backfillSummary struct {
	backfill.Summary
	Took   string `json:"took"`
	ESTook string `json:"es_took"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

func status(err error) string {
	if err != nil {
		return "failed"
	}
	return "succeeded"
}

func errString(err error) string {
	if err != nil {
		return err.Error()
	}
	return ""
}

func backfillDeps(c *elasticsearch.Client, log zerolog.Logger, space string, o backfillOptions) backfill.Deps {
	alias := mappings.AlertsAlias(space)
	searcher := esquery.NewRunner(c, esquery.RunnerConfig{MaxResponseBytes: o.maxResponseBytes, Logger: log})
	return backfill.Deps{
		Searcher: searcher,
		Alerts:   alerts.NewWriter(c, alerts.WriterConfig{Alias: alias, Logger: log}),
		Executor: &detect.Executor{
			Searcher: searcher,
			// Exactly executed slots refresh, so that the next slot's
			// duplicate pre-check sees their alerts.
			Alerts:    alerts.NewWriter(c, alerts.WriterConfig{Alias: alias, Refresh: "true", Logger: log}),
			FieldCaps: fieldCapsFunc(c),
			Logger:    log.Level(max(log.GetLevel(), zerolog.WarnLevel)),
			Clock:     time.Now,
			Config:    detect.Config{SkipCoverage: true},
		},
		Refresh: func(ctx context.Context) error {
			res, err := c.Indices.Refresh(c.Indices.Refresh.WithIndex(alias), c.Indices.Refresh.WithContext(ctx))
			if err != nil {
				return err
			}
			defer res.Body.Close()
			if res.IsError() {
				return fmt.Errorf("refresh %s: %s", alias, res.Status())
			}
			return nil
		},
		Checkpoints: state.NewStore(c, o.stateIndex),
		Logger:      log,
		Clock:       time.Now,
	}
}

// backfillDisplay shows progress: a bar on a terminal, else an Info line
// every o.logEvery.
type backfillDisplay struct {
	bar     *progressbar.ProgressBar
	out     io.Writer
	log     *zerolog.Logger
	every   time.Duration
	clock   func() time.Time
	last    time.Time
	started time.Time
	ruleID  string
	latest  backfill.Progress
}

func newBackfillDisplay(g *globalOptions, o backfillOptions, log zerolog.Logger, ruleID string, clock func() time.Time) *backfillDisplay {
	d := &backfillDisplay{every: o.logEvery, clock: clock, started: clock(), ruleID: ruleID, out: g.stderr}
	mode := o.progress
	if mode == "auto" {
		mode = "log"
		if f, ok := g.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bar"
		}
	}
	switch mode {
	case "bar":
		d.bar = progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(g.stderr),
			progressbar.OptionSetDescription(ruleID+": scanning"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetItsString("slots"),
			progressbar.OptionShowIts(),
			progressbar.OptionFullWidth(),
		)
	case "log":
		d.log = &log
	}
	return d
}

func (d *backfillDisplay) update(p backfill.Progress) {
	d.latest = p
	if d.bar != nil {
		if p.Phase == "scan" {
			d.bar.Describe(fmt.Sprintf("%s: scanning, %d terms", d.ruleID, p.Terms))
			return
		}
		if d.bar.GetMax() != p.SlotsTotal {
			d.bar.ChangeMax(p.SlotsTotal)
		}
		d.bar.Describe(fmt.Sprintf("%s: %d alerts (%d duplicate), %d replayed", d.ruleID, p.AlertsCreated, p.AlertsDuplicate, p.ReplayedSlots))
		_ = d.bar.Set(p.SlotsDone)
		return
	}
	if d.log == nil {
		return
	}
	now := d.clock()
	if now.Sub(d.last) < d.every {
		return
	}
	d.last = now
	ev := d.log.Info().Str("rule_id", p.RuleID).Str("phase", p.Phase).Int("terms", p.Terms).
		Int("slots_done", p.SlotsDone).Int("slots", p.SlotsTotal).Int("alerts_created", p.AlertsCreated).
		Int("alerts_duplicate", p.AlertsDuplicate).Int("replayed_slots", p.ReplayedSlots)
	if p.Phase == "write" && p.SlotsDone > 0 && p.SlotsDone < p.SlotsTotal {
		elapsed := now.Sub(d.started)
		ev = ev.Dur("eta", time.Duration(float64(elapsed)/float64(p.SlotsDone)*float64(p.SlotsTotal-p.SlotsDone)))
	}
	ev.Msg("backfill progress")
}

func (d *backfillDisplay) finish() {
	if d.bar != nil {
		_ = d.bar.Finish()
		fmt.Fprintln(d.out)
	}
}
