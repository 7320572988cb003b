// Package completion makes esrule's shell completion (esrule completion
// bash|zsh|fish|powershell) complete flag values: --format, --log-format,
// --log-level, --progress, time flags with examples, and --rule and
// --schedule with the ids of the loaded rules (names as descriptions).
package completion

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/esrule/esrule/logging"
	"github.com/esrule/esrule/output"
	"github.com/esrule/esrule/rule"
)

// Register registers the completion of flag values on the command tree of
// root; rules returns the rules loaded by the command being completed (from
// --rules on the command line, ESRULE_RULES or the config file).
func Register(root *cobra.Command, rules func(cmd *cobra.Command) ([]*rule.Rule, error)) {
	fixed := func(values ...string) cobra.CompletionFunc {
		return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
	}
	_ = root.RegisterFlagCompletionFunc("log-format", fixed(logging.Formats()...))
	_ = root.RegisterFlagCompletionFunc("log-level", fixed(logging.Levels()...))
	_ = root.RegisterFlagCompletionFunc("rule", ruleIDs(rules, ""))
	times := fixed("now", "now-1h", "now-1d/d", "now-7d/d", "now-30d/d")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			f := sub.LocalNonPersistentFlags()
			if f.Lookup("format") != nil {
				if sub.CommandPath() == "esrule demo generate" {
					_ = sub.RegisterFlagCompletionFunc("format", fixed("bulk", "docs"))
				} else {
					_ = sub.RegisterFlagCompletionFunc("format", fixed(output.Formats()...))
				}
			}
			if f.Lookup("progress") != nil {
				_ = sub.RegisterFlagCompletionFunc("progress", fixed(output.ProgressModes()...))
			}
			if f.Lookup("schedule") != nil {
				_ = sub.RegisterFlagCompletionFunc("schedule", ruleIDs(rules, "="))
			}
			for _, name := range []string{"at", "from", "to", "since", "start-from"} {
				if f.Lookup(name) != nil {
					_ = sub.RegisterFlagCompletionFunc(name, times)
				}
			}
			walk(sub)
		}
	}
	walk(root)
}

// ruleIDs completes the rule_id and id of every loaded rule, each with the
// rule's name as its description, followed by suffix.
func ruleIDs(loaded func(cmd *cobra.Command) ([]*rule.Rule, error), suffix string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		rules, err := loaded(cmd)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
		}
		directive := cobra.ShellCompDirectiveNoFileComp
		if suffix != "" {
			directive |= cobra.ShellCompDirectiveNoSpace
		}
		var out []cobra.Completion
		seen := map[string]bool{}
		for _, r := range rules {
			for _, id := range []string{r.RuleID, r.SavedObjectID()} {
				if id == "" || seen[id] || !strings.HasPrefix(id, toComplete) {
					continue
				}
				seen[id] = true
				out = append(out, cobra.CompletionWithDesc(id+suffix, r.Name))
			}
		}
		return out, directive
	}
}
