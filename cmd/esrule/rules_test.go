package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/kql"
	"github.com/esrule/esrule/rule"
)

const (
	exampleRules = "../../rules"
	builtinID    = "6f1bb4b2-7dc8-11ee-92b2-f661ea17fbcd"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRulesList(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		code      int
		wantLines int // including the header; 0 = do not check
		want      []string
		wantErr   string
	}{
		{name: "built-in", args: []string{"rules", "list"}, wantLines: 2,
			want: []string{"ID", "NAME", "INDICES", "FIELDS", "HISTORY", "INTERVAL", builtinID,
				"First Occurrence of Okta User Session Started via Proxy", "new_terms", "filebeat-*,logs-okta*", "okta.actor.id", "now-7d", "5m"}},
		{name: "examples", args: []string{"rules", "list", "--rules", exampleRules}, wantLines: 22,
			want: []string{"okta.actor.id,cloud.account.id", "now-12h", "now-30d", "60m"}},
		{name: "selection by rule_id", args: []string{"rules", "list", "--rules", exampleRules, "--rule", "aacecda1-8a99-4af2-8d9c-7850f7bfae0b"},
			wantLines: 2, want: []string{"Potential Credential Access via DCSync"}},
		{name: "unknown rule", args: []string{"rules", "list", "--rule", "nope"}, code: exitUsage,
			wantErr: "--rule nope: no loaded rule has this id or rule_id"},
		{name: "invalid rules", args: []string{"rules", "list", "--rules", "../../rule/testdata/bad/lucene.toml"}, code: exitUsage,
			wantErr: "lucene.toml:19: query: invalid Lucene at character 14: the quoted phrase is not closed"},
		{name: "missing path", args: []string{"rules", "list", "--rules", "does-not-exist"}, code: exitUsage,
			wantErr: "does-not-exist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			require.Equal(t, tc.code, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
			if tc.wantLines > 0 {
				require.Len(t, strings.Split(strings.TrimSpace(out), "\n"), tc.wantLines, out)
			}
			for _, w := range tc.want {
				require.Contains(t, out, w)
			}
			if tc.wantErr != "" {
				require.Contains(t, errOut, tc.wantErr)
			}
		})
	}
}

func TestRulesValidate(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		want    []string
		wantErr string
	}{
		{name: "built-in", args: []string{"rules", "validate"}, want: []string{"OK: 1 rule(s) valid in the built-in rule"}},
		{name: "examples and good files", args: []string{"rules", "validate", "--rules", exampleRules + ",../../rule/testdata/good"},
			want: []string{"OK: 25 rule(s) valid"}},
		{name: "bad files", code: exitUsage,
			args: []string{"rules", "validate", "--rules", "../../rule/testdata/bad/ranges.toml", "--rules", "../../rule/testdata/bad/unsupported_types.ndjson"},
			want: []string{
				"../../rule/testdata/bad/ranges.toml:14: risk_score: must be between 0 and 100, got 101\n",
				"../../rule/testdata/bad/ranges.toml:16: severity: \"urgent\" is not one of low, medium, high, critical\n",
				"../../rule/testdata/bad/ranges.toml:18: max_signals: must be at least 1, got 0\n",
				"../../rule/testdata/bad/unsupported_types.ndjson:7: type: rule type \"saved_query\" is not supported",
			},
			wantErr: "10 rule problem(s) found"},
		{name: "kql error with line", code: exitUsage, args: []string{"rules", "validate", "--rules", "../../rule/testdata/bad/invalid_kql.toml"},
			want: []string{"invalid_kql.toml:21: query: invalid KQL at character"}},
		{name: "unknown rule", code: exitUsage, args: []string{"rules", "validate", "--rule", "nope"}, wantErr: "--rule nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			require.Equal(t, tc.code, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
			for _, w := range tc.want {
				require.Contains(t, out, w)
			}
			if tc.wantErr != "" {
				require.Contains(t, errOut, tc.wantErr)
			}
		})
	}
}

func TestRulesExplain(t *testing.T) {
	code, out, errOut := runCLI(t, "rules", "explain", "--at", "2026-11-26T17:07:31Z")
	require.Equal(t, exitOK, code, errOut)
	var e map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &e))
	require.Equal(t, builtinID, e["rule_id"])
	require.Equal(t, map[string]any{
		"slot": "2026-11-26T17:05:00Z", "to": "2026-11-26T17:05:00Z",
		"from": "2026-11-26T16:59:00Z", "history_start": "2026-11-19T17:05:00Z",
	}, e["window"])
	require.Equal(t, false, e["typed"])
	filter, err := kql.BuildEsQuery(rule.Builtin().Query, kql.DetectionEngine(nil))
	require.NoError(t, err)
	want, err := json.Marshal(filter)
	require.NoError(t, err)
	got, err := json.Marshal(e["filter"])
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(got))
	phases, ok := e["phases"].([]any)
	require.True(t, ok, "the request of every phase")
	require.NotEmpty(t, phases)
	require.Equal(t, []any{"filebeat-*", "logs-okta*"}, phases[0].(map[string]any)["indices"])

	t.Run("one document per rule", func(t *testing.T) {
		code, out, errOut := runCLI(t, "rules", "explain", "--rules", exampleRules, "--at", "2026-11-26T17:00:00Z")
		require.Equal(t, exitOK, code, errOut)
		dec := json.NewDecoder(strings.NewReader(out))
		n := 0
		for dec.More() {
			var doc map[string]any
			require.NoError(t, dec.Decode(&doc))
			require.NotEmpty(t, doc["filter"])
			n++
		}
		require.Equal(t, 21, n)
	})
	t.Run("bad --at", func(t *testing.T) {
		code, _, errOut := runCLI(t, "rules", "explain", "--at", "tomorrow")
		require.Equal(t, exitUsage, code)
		require.Contains(t, errOut, `--at "tomorrow"`)
	})
}

func TestParseAt(t *testing.T) {
	now := mustTime(t, "2026-11-26T17:07:31Z")
	tests := []struct{ in, want string }{
		{"", "2026-11-26T17:07:31Z"},
		{"2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z"},
		{"2026-01-02T03:04:05+01:00", "2026-01-02T02:04:05Z"},
		{"now-1h", "2026-11-26T16:07:31Z"},
		{"now/d", "2026-11-26T00:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseAt(tc.in, now)
			require.NoError(t, err)
			require.Equal(t, mustTime(t, tc.want), got)
		})
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return ts.UTC()
}
