package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esrule/esrule/internal/estest"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/output"
)

// The hostile-input suite of the command line: nesting and size of every
// TOML file esrule reads, terminal escapes in table output. (Rule files:
// rule.TestHostileTOMLBounded; path injection: esquery and rule tests.)

func deepTOML(n int) string {
	return "x = " + strings.Repeat("{a=", n) + "1" + strings.Repeat("}", n) + "\n"
}

func TestHostileConfigFile(t *testing.T) {
	estest.ClearESEnv(t)
	cases := map[string]struct {
		content string
		want    string
	}{
		"deep nesting": {deepTOML(8000), "TOML nested deeper than 24 levels"},
		"too large":    {"# " + strings.Repeat("x", 1<<20) + "\n", "larger than 1048576 bytes"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := estest.WriteFile(t, "esrule.toml", c.content)
			code, _, errOut := runCLI(t, "--config", cfg, "rules", "list")
			require.Equal(t, exitUsage, code, errOut)
			require.Contains(t, errOut, c.want)
		})
	}
	t.Run("not a regular file", func(t *testing.T) {
		code, _, errOut := runCLI(t, "--config", "/dev/zero", "rules", "list")
		require.Equal(t, exitUsage, code, errOut)
		require.Contains(t, errOut, "not a regular file")
	})
}

func TestHostileActionsFile(t *testing.T) {
	estest.ClearESEnv(t)
	for name, content := range map[string]string{
		"deep nesting": deepTOML(8000),
		"deep arrays":  "x = " + strings.Repeat("[", 50000) + strings.Repeat("]", 50000) + "\n",
		"too large":    "# " + strings.Repeat("x", 1<<20) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			actions := estest.WriteFile(t, "actions.toml", content)
			code, _, errOut := runCLI(t, "notify", "test", "--actions", actions)
			require.Equal(t, exitUsage, code, errOut)
			require.Regexp(t, `nested deeper than 24 levels|larger than 1048576 bytes`, errOut)
		})
	}
}

// hostileText holds terminal escape sequences (retitle, clear screen, OSC 8
// link, C1 CSI), a bidi override and invalid UTF-8.
const hostileText = "evil\x1b]0;pwned\x07\x1b[2J\x1b]8;;http://x\x1b\\link\u009b31m\u202etxt.exe\xff"

func requireNoControl(t *testing.T, out string) {
	t.Helper()
	for _, r := range out {
		if r == '\n' || r == ' ' {
			continue
		}
		require.Equal(t, string(r), output.Printable(string(r)), "control character %U in output:\n%q", r, out)
	}
	require.NotContains(t, out, "\xff")
}

func TestRulesValidateEscapes(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../../rule/testdata/good/minimal.toml")
	require.NoError(t, err)
	src := strings.Replace(string(b), `["logs-proxy-*"]`, `["logs\u001b]0;pwned\u0007"]`, 1)
	p := filepath.Join(dir, "rule.toml")
	require.NoError(t, os.WriteFile(p, []byte(src), 0o600))
	code, out, _ := runCLI(t, "rules", "validate", "--rules", p)
	require.Equal(t, exitUsage, code)
	requireNoControl(t, out)
	require.Contains(t, out, "index[0]")
}

func TestAlertsTableEscapes(t *testing.T) {
	hit := `{"_index":"esrule-alerts-default-000001","_id":"` + "abc\\u001b[2Jdefghijkl" + `","_source":{
		"kibana.alert.original_time":"2026-11-24T08:00:00Z",
		"kibana.alert.rule.name":` + mustJSON(t, hostileText) + `,
		"kibana.alert.reason":` + mustJSON(t, hostileText) + `,
		"okta":{"actor":{"alternate_id":` + mustJSON(t, hostileText) + `}},
		"source":{"ip":"192.0.2.1","geo":{"country_name":` + mustJSON(t, hostileText) + `},
		"as":{"number":1,"organization":{"name":` + mustJSON(t, hostileText) + `}}}}}`
	c, _ := alertsES(t, 200, searchResponse(1, hit))
	var out bytes.Buffer
	q := alerts.ListQuery{Alias: "esrule-alerts-default", Limit: 100}
	require.NoError(t, printAlerts(context.Background(), c, q, "table", &out))
	requireNoControl(t, out.String())
	require.Contains(t, out.String(), `evil\x1b]0;`)
}
