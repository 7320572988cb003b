package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/output"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/state"
)

func newRulesCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List, validate and explain the loaded rules",
		Long: `rules works on the rules named by --rules (detection-rules TOML files, Kibana
export NDJSON files, or directories of them), or on the built-in rule when
--rules is not given. --rule narrows the selection by id or rule_id.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newRulesListCommand(g), newRulesValidateCommand(g), newRulesExplainCommand(g))
	return cmd
}

func newRulesListCommand(g *globalOptions) *cobra.Command {
	var (
		so     stateListOptions
		format string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show the loaded rules as a table (or JSON lines)",
		Long: `list shows the loaded rules as a table. With --state it also reads each rule's
state document from Elasticsearch and shows the last completed slot, the last
status, the lease holder and the open gap (missed slots older than the catch-up
limit, not yet filled). --format json prints one JSON object per rule (with
--state, its state document under "state").`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := output.CheckFormat(format); err != nil {
				return asUsage(err)
			}
			log, err := g.logger()
			if err != nil {
				return err
			}
			rules, err := g.loadRules(log)
			if err != nil {
				return err
			}
			switch {
			case format == output.JSON:
				return writeRulesJSON(cmd.Context(), g, so, cmd.OutOrStdout(), rules)
			case so.state:
				return writeRulesStateTable(cmd.Context(), g, so, cmd.OutOrStdout(), rules)
			}
			return writeRulesTable(cmd.OutOrStdout(), rules)
		},
	}
	so.addFlags(cmd)
	output.AddFormatFlag(cmd.Flags(), &format, output.Table)
	return cmd
}

// listedRule is one line of rules list --format json.
type listedRule struct {
	ID                 string   `json:"id"`
	RuleID             string   `json:"rule_id"`
	Name               string   `json:"name"`
	Type               string   `json:"type"`
	Index              []string `json:"index"`
	NewTermsFields     []string `json:"new_terms_fields"`
	HistoryWindowStart string   `json:"history_window_start"`
	Interval           string   `json:"interval"`
	From               string   `json:"from"`
	MaxSignals         int      `json:"max_signals"`
	Severity           string   `json:"severity"`
	RiskScore          int      `json:"risk_score"`
	Space              string   `json:"space"`
	Enabled            bool     `json:"enabled"`
	// State is the rule's state document (with --state; null when the
	// rule never ran).
	State *state.RuleState `json:"state,omitempty"`
	// stateRead tells a null State (never run) from no --state.
	stateRead bool
}

// MarshalJSON writes "state": null for a rule that never ran when --state
// was given.
func (l listedRule) MarshalJSON() ([]byte, error) {
	type plain listedRule
	if l.stateRead && l.State == nil {
		return json.Marshal(struct {
			plain
			State *state.RuleState `json:"state"`
		}{plain: plain(l)})
	}
	return json.Marshal(plain(l))
}

// writeRulesJSON prints one line per rule; with --state (so.state), each
// with its state document read from Elasticsearch.
func writeRulesJSON(ctx context.Context, g *globalOptions, so stateListOptions, w io.Writer, rules []*rule.Rule) error {
	var store *state.Store
	if so.state {
		c, err := g.es.client()
		if err != nil {
			return err
		}
		store = state.NewStore(c, so.stateIndex)
	}
	lines := output.NewLines(w)
	for _, r := range rules {
		l := listedRule{
			ID: r.SavedObjectID(), RuleID: r.RuleID, Name: r.Name, Type: r.Type, Index: r.Index,
			NewTermsFields: r.NewTermsFields, HistoryWindowStart: r.HistoryWindowStart, Interval: r.Interval,
			From: r.From, MaxSignals: r.MaxSignals, Severity: r.Severity, RiskScore: r.RiskScore,
			Space: r.Space, Enabled: r.Enabled, stateRead: store != nil,
		}
		if store != nil {
			var st state.RuleState
			v, err := store.Get(ctx, state.RuleDocID(r.Space, r.SavedObjectID()), &st)
			if err != nil {
				return fmt.Errorf("read the state of rule %s: %w", r.RuleID, err)
			}
			if !v.IsZero() {
				l.State = &st
			}
		}
		if err := lines.Write(l); err != nil {
			return err
		}
	}
	return nil
}

func writeRulesTable(w io.Writer, rules []*rule.Rule) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTYPE\tINDICES\tFIELDS\tHISTORY\tINTERVAL")
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", printable(r.SavedObjectID()), printable(r.Name), printable(r.Type),
			printable(strings.Join(r.Index, ",")), printable(strings.Join(r.NewTermsFields, ",")),
			printable(r.HistoryWindowStart), printable(r.Interval))
	}
	return tw.Flush()
}

func newRulesValidateCommand(g *globalOptions) *cobra.Command {
	var onCluster bool
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the rules and print every problem as file:line: field: reason",
		Long: `validate loads the rules and prints every problem, one per line, as
"file:line: field: reason". It exits 2 if there is any problem, else 0.

With --es it also checks every rule against the cluster's mappings
(_field_caps over the rule's index patterns): index patterns that match no
index (naming the privilege the user lacks where one is unreadable), fields
of the query, the filters, the new-terms fields and timestamp_override that
no index maps, fields whose types conflict across indices, new-terms fields
that cannot be aggregated and timestamp overrides that are not dates.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			rules, err := g.readRules(log)
			var ve *rule.ValidationError
			if errors.As(err, &ve) {
				for _, p := range ve.Problems {
					fmt.Fprintln(out, printable(p.String()))
				}
				return usagef("%d rule problem(s) found", len(ve.Problems))
			}
			if err != nil {
				return asUsage(err)
			}
			selected, err := g.selectRules(rules)
			if err != nil {
				return err
			}
			source := "the built-in rule"
			if len(g.rulesPaths) > 0 {
				source = strings.Join(g.rulesPaths, ", ")
			}
			if onCluster {
				c, err := g.es.client()
				if err != nil {
					return err
				}
				ps, err := checkRules(cmd.Context(), c, selected)
				for _, p := range ps {
					fmt.Fprintln(out, printable(p.String()))
				}
				if err != nil {
					return err
				}
				if len(ps) > 0 {
					return usagef("%d rule problem(s) found on the cluster", len(ps))
				}
				fmt.Fprintf(out, "OK: %d rule(s) valid in %s and on the cluster\n", len(selected), source)
				return nil
			}
			fmt.Fprintf(out, "OK: %d rule(s) valid in %s\n", len(selected), source)
			return nil
		},
	}
	cmd.Flags().BoolVar(&onCluster, "es", false, "also check the rules against the cluster's mappings and privileges")
	return cmd
}

func newRulesExplainCommand(g *globalOptions) *cobra.Command {
	var at, format string
	var typed, onCluster bool
	cmd := &cobra.Command{
		Use:   "explain",
		Short: "Print each rule's windows, query filter and search requests for one slot, as JSON",
		Long: `explain prints, for every selected rule, one JSON document with the execution
window of the slot at --at (rounded down to the rule's interval: to, from and the
history start), the rule's KQL query translated to Elasticsearch DSL (untyped,
or typed with field types from the cluster with --typed), and the request body
of every search phase.

With --es it translates with field types (as --typed) and also runs the
coverage check (docs/semantics.md D5) on the cluster: how many documents match the rule in
the history window and how many of them hold each new-terms field, with the
warning the executor logs when a field is missing from most of them.

--at takes an RFC 3339 time, a date (midnight UTC) or date math such as now-1h
(default: now). --format json (the default) prints one JSON object per rule and line;
--format table prints the same as indented text for reading.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := output.CheckFormat(format); err != nil {
				return asUsage(err)
			}
			t, err := parseAt(at, time.Now())
			if err != nil {
				return err
			}
			log, err := g.logger()
			if err != nil {
				return err
			}
			rules, err := g.loadRules(log)
			if err != nil {
				return err
			}
			var fc detect.FieldCapsFunc
			if typed || onCluster {
				c, err := g.es.client()
				if err != nil {
					return err
				}
				fc = c.FieldCaps
			}
			lines := output.NewLines(cmd.OutOrStdout())
			for _, r := range rules {
				e, err := detect.Explain(cmd.Context(), fc, r, t)
				if err != nil {
					return err
				}
				out := explained{Explanation: e}
				if onCluster {
					if out.Coverage, err = measureCoverage(cmd.Context(), g, r, e); err != nil {
						return err
					}
				}
				if format == output.Table {
					err = writeExplanation(cmd.OutOrStdout(), out)
				} else {
					err = lines.Write(out)
				}
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "slot time: RFC 3339, date or date math like now-1h (default now)")
	output.AddFormatFlag(cmd.Flags(), &format, output.JSON)
	cmd.Flags().BoolVar(&typed, "typed", false, "translate KQL with field types from the cluster (_field_caps)")
	cmd.Flags().BoolVar(&onCluster, "es", false, "typed, and measure the new-terms fields' coverage on the cluster")
	return cmd
}

// parseAt reads --at: empty means now, otherwise any time form (timespec).
func parseAt(at string, now time.Time) (time.Time, error) {
	if at == "" {
		return now.UTC(), nil
	}
	return timeFlag("at", at, now)
}

// writeExplanation prints an explanation for reading: the windows, then the
// filter and every phase's request as indented JSON.
func writeExplanation(w io.Writer, x explained) error {
	e := x.Explanation
	var b strings.Builder
	fmt.Fprintf(&b, "rule %s (%s) %q, interval %s\n", printable(e.RuleID), printable(e.ID), e.Name, printable(e.Interval))
	fmt.Fprintf(&b, "  slot           %s\n", e.Window.Slot.Format(time.RFC3339))
	fmt.Fprintf(&b, "  window         %s to %s\n", e.Window.From.Format(time.RFC3339), e.Window.To.Format(time.RFC3339))
	fmt.Fprintf(&b, "  history from   %s\n", e.Window.HistoryStart.Format(time.RFC3339))
	fmt.Fprintf(&b, "  indices        %s\n", printable(strings.Join(e.Index, ", ")))
	fmt.Fprintf(&b, "  new terms of   %s\n", printable(strings.Join(e.Fields, ", ")))
	fmt.Fprintf(&b, "  query (KQL)    %s\n", printable(e.Query))
	filter, err := json.MarshalIndent(e.Filter, "  ", "  ")
	if err != nil {
		return fmt.Errorf("encode the query filter: %w", err)
	}
	fmt.Fprintf(&b, "  filter (typed: %t)\n  %s\n", e.Typed, filter)
	for _, p := range e.Phases {
		var body bytes.Buffer
		if err := json.Indent(&body, p.Body, "  ", "  "); err != nil {
			body.Reset()
			body.Write(p.Body)
		}
		fmt.Fprintf(&b, "  phase %s on %s\n  %s\n", p.Name, printable(strings.Join(p.Indices, ",")), body.String())
	}
	for _, k := range slices.Sorted(maps.Keys(e.Notes)) {
		fmt.Fprintf(&b, "  note %s: %s\n", printable(k), printable(e.Notes[k]))
	}
	if c := x.Coverage; c != nil {
		fmt.Fprintf(&b, "  coverage       %d matching documents from %s to %s, %d with every field\n",
			c.Total, c.HistoryStart.Format(time.RFC3339), c.To.Format(time.RFC3339), c.AllFields)
		for _, f := range c.Fields {
			fmt.Fprintf(&b, "    %s in %d\n", printable(f.Field), f.Docs)
		}
		for _, w := range c.Warnings {
			fmt.Fprintf(&b, "  warning        %s\n", printable(w))
		}
	}
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write explanation: %w", err)
	}
	return nil
}
