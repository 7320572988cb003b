package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/backfill"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/output"
)

// The golden files in testdata/golden are the JSON shapes docs/output.md
// documents; rerun with -update after an intended change, and update the
// document.

func TestRulesListJSONGolden(t *testing.T) {
	code, out, errOut := runCLI(t, "rules", "list", "--format", "json")
	require.Equal(t, exitOK, code, errOut)
	golden(t, "rules-list.ndjson", []byte(out))
}

func TestRulesExplainJSONGolden(t *testing.T) {
	code, out, errOut := runCLI(t, "rules", "explain", "--at", "2026-11-26T17:07:31Z", "--format", "json")
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, 1, strings.Count(out, "\n"), "one line per rule")
	golden(t, "rules-explain.ndjson", []byte(out))

	code, out, errOut = runCLI(t, "rules", "explain", "--at", "2026-11-26T17:07:31Z", "--format", "table")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "  window         2026-11-26T16:59:00Z to 2026-11-26T17:05:00Z\n")
}

func TestDemoScenariosGolden(t *testing.T) {
	args := []string{"demo", "scenarios", "--end", "2026-11-26T17:00:00Z"}
	code, out, errOut := runCLI(t, args...)
	require.Equal(t, exitOK, code, errOut)
	golden(t, "demo-scenarios.ndjson", []byte(out))

	code, out, errOut = runCLI(t, append(args, "--format", "table")...)
	require.Equal(t, exitOK, code, errOut)
	require.True(t, strings.HasPrefix(out, "SCENARIO"), out)
}

func TestVersionFormats(t *testing.T) {
	code, out, _ := runCLI(t, "version", "--format", "json")
	require.Equal(t, exitOK, code)
	var b map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &b))
	require.Equal(t, []string{"arch", "goversion", "os", "revision", "version"}, sortedKeys(b))
	require.Equal(t, "dev", b["version"])

	code, out, _ = runCLI(t, "version")
	require.Equal(t, exitOK, code)
	require.True(t, strings.HasPrefix(out, "esrule dev (commit "), out)

	code, _, errOut := runCLI(t, "version", "--format", "yaml")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, `--format "yaml": want table or json`)
}

// TestSummariesShareKeys prints a run summary and a backfill summary as
// JSON (golden) and checks the keys they share.
func TestSummariesShareKeys(t *testing.T) {
	slot := time.Date(2026, 11, 26, 17, 5, 0, 0, time.UTC)
	runS := detect.Summary{
		RuleID: "6f1bb4b2-7dc8-11ee-92b2-f661ea17fbcd", Slot: slot, WindowStart: slot.Add(-6 * time.Minute), WindowEnd: slot,
		HistoryStart: slot.Add(-7 * 24 * time.Hour), ExecutionUUID: "0b5e1c1e-5d1a-4b7e-9a55-6f1d1f0c2a11", Status: "succeeded",
		Terms: 12, NewTerms: 2, AlertsCreated: 2, TookMs: 1234, ESTookMs: 56, Requests: 4,
	}
	bfS := backfillSummary{Summary: backfill.Summary{
		RuleID: runS.RuleID, From: slot.Add(-24 * time.Hour), To: slot, Slots: 288, SkippedSlots: 100, SlotsDone: 180,
		Mode: backfill.ModeFast, AlertsCreated: 7, AlertsDuplicate: 1, FirstOccurrences: 8, Terms: 900,
		Width: "1m", ScanMS: 800, FetchMS: 100, WriteMS: 200, Requests: 31, TookMS: 1500, ESTookMS: 700,
	}, Status: "interrupted", Error: (&backfill.InterruptedError{Slot: slot.Add(-9 * time.Hour), SlotsDone: 180, Slots: 288}).Error()}

	var out bytes.Buffer
	p := newSummaries(&out, output.JSON)
	require.NoError(t, p.run(runS))
	runFailed := runS
	runFailed.Status, runFailed.Error = status(errors.New("x")), "search logs-okta*: elasticsearch status 503"
	require.NoError(t, p.run(runFailed))
	require.NoError(t, p.backfill(bfS))
	golden(t, "summaries.ndjson", out.Bytes())

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var r, b map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &r))
	require.NoError(t, json.Unmarshal([]byte(lines[2]), &b))
	for _, k := range []string{"rule_id", "status", "terms", "alerts_created", "alerts_duplicate", "alerts_truncated", "took_ms", "es_took_ms", "requests"} {
		require.Contains(t, r, k, "run")
		require.Contains(t, b, k, "backfill")
	}
	for _, k := range []string{"rule", "took", "es_took"} {
		require.NotContains(t, b, k, "no second spelling")
	}

	out.Reset()
	p = newSummaries(&out, output.Table)
	require.NoError(t, p.run(runS))
	require.NoError(t, p.run(runFailed))
	table := strings.Split(out.String(), "\n")
	require.Len(t, table, 4)
	require.Regexp(t, `^RULE ID\s+SLOT\s+STATUS`, table[0])
	require.Contains(t, table[1], "1.2s")
	require.Contains(t, table[2], "elasticsearch status 503")
}

func sortedKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// TestSummaryTableEscapesControlCharacters: an error message from
// Elasticsearch or a rule id from a rule file cannot drive the terminal.
func TestSummaryTableEscapesControlCharacters(t *testing.T) {
	var out bytes.Buffer
	p := newSummaries(&out, output.Table)
	require.NoError(t, p.run(detect.Summary{RuleID: "r\x1b[2J", Status: "failed", Error: "boom\x1b]0;title\a"}))
	require.NotContains(t, out.String(), "\x1b")
	require.Contains(t, out.String(), `r\x1b[2J`)
	require.Contains(t, out.String(), `boom\x1b]0;title\x07`)
}
