package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/rule"
)

func init() { registerCommand(newRulesCommand) }

// explainPhases, when set, returns the request bodies of every phase of r for
// window w and query filter (the executor's detect.ExplainPhases); `rules
// explain` prints them under "phases". nil leaves "phases" out.
var explainPhases func(r *rule.Rule, w detect.Window, filter map[string]any) (any, error)

// explainFieldCaps, when set, returns the field-capabilities lookup used by
// `rules explain --typed` to translate KQL with field types, as the executor
// does against a reachable cluster.
var explainFieldCaps func(ctx context.Context, g *globalOptions) (detect.FieldCapsFunc, error)

// loadRules returns the rules every command works on: the files named by
// --rules (the built-in rule when there are none), narrowed to --rule ids
// (matching id or rule_id). Invalid rules and unknown --rule ids are usage
// errors (exit 2); files skipped for their extension are logged at debug.
func (g *globalOptions) loadRules(log zerolog.Logger) ([]*rule.Rule, error) {
	rules, err := g.readRules(log)
	if err != nil {
		return nil, asUsage(err)
	}
	return g.selectRules(rules)
}

// readRules loads --rules (or the built-in rule) without selecting.
func (g *globalOptions) readRules(log zerolog.Logger) ([]*rule.Rule, error) {
	if len(g.rulesPaths) == 0 {
		r := rule.Builtin()
		if ps := r.Validate(); len(ps) > 0 {
			return nil, &rule.ValidationError{Problems: ps}
		}
		return []*rule.Rule{r}, nil
	}
	res, err := rule.LoadFiles(g.rulesPaths)
	for _, path := range res.Skipped {
		log.Debug().Str("file", path).Msg("skipping file that is not a rule file")
	}
	if err != nil {
		return nil, err
	}
	return res.Rules, nil
}

// selectRules keeps the rules named by --rule, in load order.
func (g *globalOptions) selectRules(rules []*rule.Rule) ([]*rule.Rule, error) {
	if len(g.ruleIDs) == 0 {
		return rules, nil
	}
	var selected []*rule.Rule
	var unknown []string
	for _, id := range g.ruleIDs {
		found := false
		for _, r := range rules {
			if r.SavedObjectID() == id || r.RuleID == id {
				found = true
				if !containsRule(selected, r) {
					selected = append(selected, r)
				}
			}
		}
		if !found {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		return nil, usagef("--rule %s: no loaded rule has this id or rule_id", strings.Join(unknown, ", "))
	}
	return selected, nil
}

func containsRule(rules []*rule.Rule, r *rule.Rule) bool {
	for _, x := range rules {
		if x == r {
			return true
		}
	}
	return false
}

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
	return &cobra.Command{
		Use:   "list",
		Short: "Show the loaded rules as a table",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			rules, err := g.loadRules(log)
			if err != nil {
				return err
			}
			return writeRulesTable(cmd.OutOrStdout(), rules)
		},
	}
}

func writeRulesTable(w io.Writer, rules []*rule.Rule) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTYPE\tINDICES\tFIELDS\tHISTORY\tINTERVAL")
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.SavedObjectID(), r.Name, r.Type,
			strings.Join(r.Index, ","), strings.Join(r.NewTermsFields, ","), r.HistoryWindowStart, r.Interval)
	}
	return tw.Flush()
}

func newRulesValidateCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the rules and print every problem as file:line: field: reason",
		Long: `validate loads the rules and prints every problem, one per line, as
"file:line: field: reason". It exits 2 if there is any problem, else 0.`,
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
					fmt.Fprintln(out, p.String())
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
			fmt.Fprintf(out, "OK: %d rule(s) valid in %s\n", len(selected), source)
			return nil
		},
	}
}

// explanation is what `rules explain` prints for one rule.
type explanation struct {
	ID       string            `json:"id"`
	RuleID   string            `json:"rule_id"`
	Name     string            `json:"name"`
	Origin   string            `json:"origin"`
	Interval string            `json:"interval"`
	Window   explainWindow     `json:"window"`
	Index    []string          `json:"index"`
	Fields   []string          `json:"new_terms_fields"`
	Query    string            `json:"query"`
	Typed    bool              `json:"typed"`
	Filter   map[string]any    `json:"filter"`
	Phases   any               `json:"phases,omitempty"`
	Notes    map[string]string `json:"notes,omitempty"`
}

type explainWindow struct {
	Slot         time.Time `json:"slot"`
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	HistoryStart time.Time `json:"history_start"`
}

func newRulesExplainCommand(g *globalOptions) *cobra.Command {
	var at string
	var typed bool
	cmd := &cobra.Command{
		Use:   "explain",
		Short: "Print each rule's windows, query filter and search requests for one slot, as JSON",
		Long: `explain prints, for every selected rule, one JSON document with the execution
window of the slot at --at (rounded down to the rule's interval: to, from and the
history start), the rule's KQL query translated to Elasticsearch DSL (untyped,
or typed with field types from the cluster with --typed), and the request body
of every search phase.

--at takes an RFC 3339 time or date math such as now-1h (default: now).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
			if typed {
				if explainFieldCaps == nil {
					return usagef("--typed: typed translation is not available in this build")
				}
				if fc, err = explainFieldCaps(cmd.Context(), g); err != nil {
					return err
				}
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			for _, r := range rules {
				e, err := explain(cmd.Context(), r, t, fc)
				if err != nil {
					return err
				}
				if err := enc.Encode(e); err != nil {
					return fmt.Errorf("write explanation: %w", err)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "slot time: RFC 3339 or date math like now-1h (default now)")
	cmd.Flags().BoolVar(&typed, "typed", false, "translate KQL with field types from the cluster (_field_caps)")
	return cmd
}

// parseAt reads --at: empty means now; otherwise an RFC 3339 time or date
// math evaluated at now.
func parseAt(at string, now time.Time) (time.Time, error) {
	if at == "" {
		return now.UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
		return t.UTC(), nil
	}
	d, err := rule.ParseDateMath(at)
	if err != nil {
		return time.Time{}, usagef("--at %q: want an RFC 3339 time or date math: %v", at, err)
	}
	return d.At(now), nil
}

func explain(ctx context.Context, r *rule.Rule, at time.Time, fc detect.FieldCapsFunc) (explanation, error) {
	slot, err := detect.SlotAt(r, at)
	if err != nil {
		return explanation{}, asUsage(err)
	}
	w, err := detect.WindowAt(r, slot)
	if err != nil {
		return explanation{}, asUsage(err)
	}
	filter, err := detect.QueryFilter(ctx, fc, r)
	if err != nil {
		return explanation{}, fmt.Errorf("explain rule %s: %w", r.RuleID, err)
	}
	e := explanation{
		ID: r.SavedObjectID(), RuleID: r.RuleID, Name: r.Name, Origin: r.Origin, Interval: r.Interval,
		Window: explainWindow{Slot: w.Slot, From: w.From, To: w.To, HistoryStart: w.HistoryStart},
		Index:  r.Index, Fields: r.NewTermsFields, Query: r.Query, Typed: fc != nil, Filter: filter,
	}
	if explainPhases != nil {
		if e.Phases, err = explainPhases(r, w, filter); err != nil {
			return explanation{}, fmt.Errorf("explain phases of rule %s: %w", r.RuleID, err)
		}
	}
	return e, nil
}
