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
		Long:  longHelp("rules"),
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
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
		Long:  longHelp("rules-list"),
		Args:  cobra.NoArgs,
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
		Long:  longHelp("rules-validate"),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			rules, err := g.readRules(g.log)
			var ve *rule.ValidationError
			if errors.As(err, &ve) {
				output.Problems(out, ve.Problems)
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
				output.Problems(out, ps)
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
		Long:  longHelp("rules-explain"),
		Args:  cobra.NoArgs,
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
