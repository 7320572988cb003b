package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/esquery"
	"github.com/esrule/esrule/kql"
	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/rule"
)

func init() {
	registerCommand(newRunCommand)
	explainPhases = func(r *rule.Rule, w detect.Window, filter map[string]any) (any, error) {
		return detect.ExplainPhases(r, w, filter)
	}
	explainFieldCaps = func(_ context.Context, g *globalOptions) (detect.FieldCapsFunc, error) {
		c, err := g.es.client()
		if err != nil {
			return nil, err
		}
		return fieldCapsFunc(c), nil
	}
}

// fieldCapsFunc adapts esquery.FieldCaps to the executor's interface.
func fieldCapsFunc(c *elasticsearch.Client) detect.FieldCapsFunc {
	return func(ctx context.Context, indices, fields []string) ([]kql.FieldSpec, error) {
		return esquery.FieldCaps(ctx, c, indices, fields)
	}
}

// runOptions are the flags of `esrule run`.
type runOptions struct {
	at               string
	maxResponseBytes int64
	tick             tickOptions
	notify           notifyFlags
}

func newRunCommand(g *globalOptions) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Execute each selected rule once for one slot, then exit",
		Long: `Without --at, run does exactly one tick of serve and exits (the Kubernetes CronJob
form): for every selected rule it takes the rule's lease, executes every slot from the
checkpoint in the state index to the latest completed slot, oldest first (up to
--max-catchup; older missed slots are reported as a gap to fill with esrule backfill),
and advances the checkpoint after each slot's alerts are written. A missed CronJob run
therefore leaves no gap.

With --at T (an RFC 3339 time that must be a multiple of the rule's interval, UTC),
run executes exactly slot T for every selected rule and does not touch the checkpoint.

It installs the alerts index template when missing (not with --dry-run), writes the
alerts, and prints one JSON summary line per executed slot on stdout. --dry-run
without --at executes only the latest completed slot.

With --dry-run nothing is written: the would-be alerts are printed as NDJSON on
stdout ({"_index","_id","_source"} per line) and the summaries go to the log.

Exit code 0 when every execution succeeded (also without new terms), 1 when any
failed, 2 for bad usage or an invalid rule.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.at == "" && !g.dryRun {
				o.tick.maxResponseBytes = o.maxResponseBytes
				return runTick(cmd.Context(), g, o.tick, o.notify, cmd.OutOrStdout(), time.Now)
			}
			return runRules(cmd.Context(), g, o, cmd.OutOrStdout(), time.Now())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.at, "at", "", "slot time, RFC 3339 (default: the latest completed slot)")
	f.Int64Var(&o.maxResponseBytes, "max-response-bytes", esquery.DefaultMaxResponseBytes,
		"largest search response read; larger ones halve the batch and retry")
	o.tick.addFlags(f)
	o.notify.addFlags(f)
	return cmd
}

// runSummary is the JSON line printed per execution.
type runSummary struct {
	RuleID          string           `json:"rule_id"`
	Slot            time.Time        `json:"slot"`
	WindowStart     time.Time        `json:"window_start"`
	WindowEnd       time.Time        `json:"window_end"`
	HistoryStart    time.Time        `json:"history_start"`
	ExecutionUUID   string           `json:"execution_uuid"`
	Status          string           `json:"status"`
	Error           string           `json:"error,omitempty"`
	Terms           int              `json:"terms"`
	NewTerms        int              `json:"new_terms"`
	AlertsCreated   int              `json:"alerts_created"`
	AlertsDuplicate int              `json:"alerts_duplicate"`
	AlertsTruncated int              `json:"alerts_truncated"`
	Warnings        []string         `json:"warnings,omitempty"`
	Coverage        *detect.Coverage `json:"coverage,omitempty"`
	TookMs          int64            `json:"took_ms"`
	ESTookMs        int64            `json:"es_took_ms"`
	Requests        int              `json:"requests"`
	DryRun          bool             `json:"dry_run,omitempty"`
}

func summarize(res detect.Result, err error) runSummary {
	s := runSummary{
		RuleID: res.RuleID, Slot: res.Slot, WindowStart: res.Window.From, WindowEnd: res.Window.To,
		HistoryStart: res.Window.HistoryStart, ExecutionUUID: res.ExecutionUUID, Status: "succeeded",
		Terms: res.TermsChecked, NewTerms: res.NewTerms, AlertsCreated: res.AlertsCreated,
		AlertsDuplicate: res.AlertsDuplicate, AlertsTruncated: res.AlertsTruncated, Warnings: res.Warnings,
		Coverage: res.Coverage, TookMs: res.Took.Milliseconds(), ESTookMs: res.ESTook.Milliseconds(),
		Requests: res.Requests, DryRun: res.DryRun,
	}
	if err != nil {
		s.Status, s.Error = "failed", err.Error()
	}
	return s
}

// slotsFor returns the slot of each rule: --at (which must be aligned) or
// the latest completed slot at now.
func slotsFor(rules []*rule.Rule, at string, now time.Time) ([]time.Time, error) {
	var t time.Time
	if at != "" {
		var err error
		if t, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, usagef("--at %q: want an RFC 3339 time such as 2024-05-01T10:05:00Z", at)
		}
	}
	slots := make([]time.Time, len(rules))
	for i, r := range rules {
		var err error
		if at == "" {
			slots[i], err = detect.SlotAt(r, now)
		} else {
			err = detect.CheckSlot(r, t)
			slots[i] = t.UTC()
		}
		if err != nil {
			return nil, usagef("--at: %w", err)
		}
	}
	return slots, nil
}

func runRules(ctx context.Context, g *globalOptions, o runOptions, stdout io.Writer, now time.Time) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log, err := g.logger()
	if err != nil {
		return err
	}
	rules, err := g.loadRules(log)
	if err != nil {
		return err
	}
	slots, err := slotsFor(rules, o.at, now)
	if err != nil {
		return err
	}
	if o.maxResponseBytes <= 0 {
		return usagef("--max-response-bytes %d: want a positive size", o.maxResponseBytes)
	}
	c, err := g.es.client()
	if err != nil {
		return err
	}
	ensured := map[string]bool{}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	failed := 0
	for i, r := range rules {
		space := r.Space
		if space == "" {
			space = rule.DefaultSpace
		}
		if !g.dryRun && !ensured[space] {
			if err := ensureMappings(ctx, c, []string{space}, mappings.StateIndex); err != nil {
				return err
			}
			ensured[space] = true
		}
		ex := newExecutor(c, log, space, o)
		res, err := ex.Run(ctx, r, slots[i], detect.RunOptions{DryRun: g.dryRun})
		summary := summarize(res, err)
		if err != nil {
			failed++
			log.Error().Err(err).Str("rule_id", r.RuleID).Time("slot", slots[i]).Msg("rule execution failed")
		}
		if g.dryRun {
			if err := writeAlerts(enc, mappings.AlertsAlias(space), res.Alerts); err != nil {
				return err
			}
			logSummary(log, summary)
			continue
		}
		if err := enc.Encode(summary); err != nil {
			return fmt.Errorf("write summary: %w", err)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d rule executions failed", failed, len(rules))
	}
	return nil
}

func newExecutor(c *elasticsearch.Client, log zerolog.Logger, space string, o runOptions) *detect.Executor {
	return &detect.Executor{
		Searcher: esquery.NewRunner(c, esquery.RunnerConfig{MaxResponseBytes: o.maxResponseBytes, Logger: log}),
		Alerts: alerts.NewWriter(c, alerts.WriterConfig{
			Alias: mappings.AlertsAlias(space), Refresh: "wait_for", Logger: log,
		}),
		FieldCaps: fieldCapsFunc(c),
		Logger:    log,
		Clock:     time.Now,
	}
}

// writeAlerts prints would-be alerts as NDJSON, one search-hit-like object each.
func writeAlerts(enc *json.Encoder, index string, as []alerts.Alert) error {
	for _, a := range as {
		line := struct {
			Index  string         `json:"_index"`
			ID     string         `json:"_id"`
			Source map[string]any `json:"_source"`
		}{index, a.ID, a.Doc}
		if err := enc.Encode(line); err != nil {
			return fmt.Errorf("write alert: %w", err)
		}
	}
	return nil
}

func logSummary(log zerolog.Logger, s runSummary) {
	b, err := json.Marshal(s)
	if err != nil {
		return
	}
	log.Info().RawJSON("summary", b).Str("rule_id", s.RuleID).Msg("dry run summary")
}
