package main

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The golden files in testdata/golden are the JSON shapes docs/output.md
// documents; rerun with -update after an intended change, and update the
// document.

func TestRulesListJSONGolden(t *testing.T) {
	code, out, errOut := runCLI(t, "rules", "list", "--format", "json")
	require.Equal(t, exitOK, code, errOut)
	checkGolden(t, "rules-list.ndjson", []byte(out))
}

func TestRulesExplainJSONGolden(t *testing.T) {
	code, out, errOut := runCLI(t, "rules", "explain", "--at", "2026-11-26T17:07:31Z", "--format", "json")
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, 1, strings.Count(out, "\n"), "one line per rule")
	checkGolden(t, "rules-explain.ndjson", []byte(out))

	code, out, errOut = runCLI(t, "rules", "explain", "--at", "2026-11-26T17:07:31Z", "--format", "table")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "  window         2026-11-26T16:59:00Z to 2026-11-26T17:05:00Z\n")
}

func TestDemoScenariosGolden(t *testing.T) {
	args := []string{"demo", "scenarios", "--end", "2026-11-26T17:00:00Z"}
	code, out, errOut := runCLI(t, args...)
	require.Equal(t, exitOK, code, errOut)
	checkGolden(t, "demo-scenarios.ndjson", []byte(out))

	code, out, errOut = runCLI(t, append(args, "--format", "table")...)
	require.Equal(t, exitOK, code, errOut)
	require.True(t, strings.HasPrefix(out, "SCENARIO"), out)
}

func TestVersionFormats(t *testing.T) {
	code, out, _ := runCLI(t, "version", "--format", "json")
	require.Equal(t, exitOK, code)
	var b map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &b))
	require.Equal(t, []string{"arch", "goversion", "os", "revision", "version"}, slices.Sorted(maps.Keys(b)))
	require.Equal(t, "dev", b["version"])

	code, out, _ = runCLI(t, "version")
	require.Equal(t, exitOK, code)
	require.True(t, strings.HasPrefix(out, "esrule dev (commit "), out)

	code, _, errOut := runCLI(t, "version", "--format", "yaml")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, `--format "yaml": want table or json`)
}
