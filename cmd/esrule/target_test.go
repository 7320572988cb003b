package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/esrule/esrule/internal/estest"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/logging"
	"github.com/esrule/esrule/mappings"
)

func TestAlertsTargetFlag(t *testing.T) {
	estest.ClearESEnv(t)
	for _, tc := range []struct {
		args  []string
		env   string
		want  mappings.Target
		alias string
		err   string
	}{
		{args: nil, want: mappings.TargetEsrule, alias: "esrule-alerts-soc"},
		{args: []string{"--alerts-target", "kibana"}, want: mappings.TargetKibana, alias: ".alerts-security.alerts-soc"},
		{env: "kibana", want: mappings.TargetKibana, alias: ".alerts-security.alerts-soc"},
		{args: []string{"--alerts-target", "elastic"}, err: `alerts target "elastic": want esrule`},
	} {
		t.Setenv("ESRULE_ALERTS_TARGET", tc.env)
		var out bytes.Buffer
		root, g := newRootCommand(strings.NewReader(""), &out, &out)
		root.SetArgs(append([]string{"version"}, tc.args...))
		err := root.Execute()
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err)
			require.Equal(t, exitUsage, exitCode(err, &out))
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, g.target)
		require.Equal(t, tc.alias, g.alias("soc"))
	}
}

// TestConsoleLogsWithoutColourOffTerminal: console logs to a pipe or file
// (docker compose logs) hold no escape sequences.
func TestConsoleLogsWithoutColourOffTerminal(t *testing.T) {
	estest.ClearESEnv(t)
	t.Setenv("NO_COLOR", "")
	var out bytes.Buffer
	g := &globalOptions{stderr: &out, logFormat: "console", logLevel: "info"}
	log, err := g.logger()
	require.NoError(t, err)
	log.Warn().Str("rule_id", "r1").Msg("hello")
	require.Contains(t, out.String(), "hello")
	require.NotContains(t, out.String(), "\x1b[", "no ANSI colours")
	require.False(t, logging.Color(&out, os.LookupEnv))
}
