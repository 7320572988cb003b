package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/rule"
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
	var so stateListOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show the loaded rules as a table",
		Long: `list shows the loaded rules as a table. With --state it also reads each rule's
state document from Elasticsearch and shows the last completed slot, the last
status, the lease holder and the open gap (missed slots older than the catch-up
limit, not yet filled).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			rules, err := g.loadRules(log)
			if err != nil {
				return err
			}
			if so.state {
				return writeRulesStateTable(cmd.Context(), g, so, cmd.OutOrStdout(), rules)
			}
			return writeRulesTable(cmd.OutOrStdout(), rules)
		},
	}
	so.addFlags(cmd)
	return cmd
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
	var at string
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
coverage check (SPEC D5) on the cluster: how many documents match the rule in
the history window and how many of them hold each new-terms field, with the
warning the executor logs when a field is missing from most of them.

--at takes an RFC 3339 time, a date (midnight UTC) or date math such as now-1h
(default: now).`,
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
			if typed || onCluster {
				c, err := g.es.client()
				if err != nil {
					return err
				}
				fc = c.FieldCaps
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
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
				if err := enc.Encode(out); err != nil {
					return fmt.Errorf("write explanation: %w", err)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "slot time: RFC 3339, date or date math like now-1h (default now)")
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
