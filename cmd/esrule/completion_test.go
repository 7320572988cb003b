package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// complete runs cobra's hidden completion command as the shell scripts do
// and returns the offered values (without descriptions) and the directive.
func complete(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"__complete"}, args...)...)
	require.Equal(t, exitOK, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var values []string
	for _, l := range lines[:len(lines)-1] {
		values = append(values, strings.SplitN(l, "\t", 2)[0])
	}
	return values, lines[len(lines)-1]
}

func TestCompletionOfFlagValues(t *testing.T) {
	for _, args := range [][]string{
		{"alerts", "--format", ""}, {"rules", "list", "--format", ""}, {"rules", "explain", "--format", ""},
		{"run", "--format", ""}, {"backfill", "--format", ""}, {"version", "--format", ""}, {"demo", "scenarios", "--format", ""},
	} {
		got, _ := complete(t, args...)
		require.Equal(t, []string{"table", "json"}, got, "%v", args)
	}
	got, _ := complete(t, "demo", "generate", "--format", "")
	require.Equal(t, []string{"bulk", "docs"}, got)
	got, _ = complete(t, "serve", "--log-format", "")
	require.Equal(t, []string{"json", "console"}, got)
	got, _ = complete(t, "alerts", "--log-level", "")
	require.Equal(t, []string{"debug", "info", "warn", "error"}, got)
	got, _ = complete(t, "backfill", "--progress", "")
	require.Equal(t, []string{"auto", "bar", "log", "none"}, got)
	got, _ = complete(t, "backfill", "--from", "")
	require.Contains(t, got, "now-1d/d")
}

func TestCompletionOfRuleIDs(t *testing.T) {
	code, out, _ := runCLI(t, "__complete", "--rules", exampleRules, "run", "--rule", "")
	require.Equal(t, exitOK, code)
	require.Contains(t, out, builtinID+"\tFirst Occurrence of Okta User Session Started via Proxy\n", "ids with the names")
	got, _ := complete(t, "--rules", exampleRules, "alerts", "--rule", "6f1b")
	require.Equal(t, []string{builtinID}, got)
	got, directive := complete(t, "serve", "--schedule", "")
	require.Equal(t, []string{builtinID + "="}, got, "the built-in rule without --rules")
	require.Equal(t, ":6", directive, "no space after RULE_ID=, no files")
}
