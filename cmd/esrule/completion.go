package main

import (
	"os"
	"strings"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/esrule/esrule/cliconfig"
	"github.com/esrule/esrule/logging"
	"github.com/esrule/esrule/output"
)

// registerCompletions makes the shell completion (esrule completion bash|
// zsh|fish|powershell) complete flag values: --format, --log-format,
// --log-level, --progress, time flags with examples, and --rule and
// --schedule with the ids of the loaded rules (names as descriptions).
func registerCompletions(root *cobra.Command, g *globalOptions) {
	fixed := func(values ...string) cobra.CompletionFunc {
		return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
	}
	_ = root.RegisterFlagCompletionFunc("log-format", fixed(logging.Formats()...))
	_ = root.RegisterFlagCompletionFunc("log-level", fixed(logging.Levels()...))
	_ = root.RegisterFlagCompletionFunc("rule", g.completeRuleIDs(""))
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
				_ = sub.RegisterFlagCompletionFunc("progress", fixed("auto", "bar", "log", "none"))
			}
			if f.Lookup("schedule") != nil {
				_ = sub.RegisterFlagCompletionFunc("schedule", g.completeRuleIDs("="))
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

// completeRuleIDs completes the rule_id and id of every loaded rule (from
// --rules on the command line, ESRULE_RULES or the config file), each with
// the rule's name as its description, followed by suffix.
func (g *globalOptions) completeRuleIDs(suffix string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		_ = cliconfig.ApplyEnv(cmd.Flags(), os.LookupEnv)
		_ = g.applyConfig(cmd)
		rules, err := g.readRules(zerolog.Nop())
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
