package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/output"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/rulecheck"
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
		stateFlag          bool
		stateIndex, format string
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
			rules, err := g.start(format)
			if err != nil {
				return err
			}
			var states []*state.RuleState
			if stateFlag {
				c, err := g.client()
				if err != nil {
					return err
				}
				if states, err = state.ReadRuleStates(cmd.Context(), state.NewStore(c, stateIndex), rules); err != nil {
					return err
				}
			}
			switch {
			case format == output.JSON:
				return output.RuleLines(cmd.OutOrStdout(), rules, states)
			case stateFlag:
				return output.RuleStatesTable(cmd.OutOrStdout(), rules, states)
			}
			return output.RulesTable(cmd.OutOrStdout(), rules)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&stateFlag, "state", false, "read each rule's state from Elasticsearch: checkpoint, status, lease and open gap")
	f.StringVar(&stateIndex, "state-index", mappings.StateIndex, "index of the per-rule state documents (with --state)")
	output.AddFormatFlag(cmd.Flags(), &format, output.Table)
	return cmd
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
			out := cmd.OutOrStdout()
			rules, err := g.readRules(g.log)
			var ve *rule.ValidationError
			if errors.As(err, &ve) {
				for _, p := range ve.Problems {
					fmt.Fprintln(out, output.Printable(p.String()))
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
				c, err := g.client()
				if err != nil {
					return err
				}
				ps, err := rulecheck.CheckAll(cmd.Context(), c, selected)
				for _, p := range ps {
					fmt.Fprintln(out, output.Printable(p.String()))
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
			rules, err := g.start("")
			if err != nil {
				return err
			}
			var fc detect.FieldCapsFunc
			var coverage detect.Searcher
			if typed || onCluster {
				c, err := g.client()
				if err != nil {
					return err
				}
				fc = c.FieldCaps
				if onCluster {
					coverage = c
				}
			}
			w := cmd.OutOrStdout()
			lines := output.NewLines(w)
			return detect.ExplainRules(cmd.Context(), fc, coverage, rules, t, func(x detect.Explained) error {
				if format == output.Table {
					return output.Explanation(w, x)
				}
				return lines.Write(x)
			})
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
