package output

import (
	"bytes"
	"encoding/json"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/backfill"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/internal/golden"
)

// TestSummariesShareKeys prints a run summary and a backfill summary as
// JSON (golden) and checks the keys they share.
func TestSummariesShareKeys(t *testing.T) {
	slot := time.Date(2026, 11, 26, 17, 5, 0, 0, time.UTC)
	runS := detect.Summary{
		RuleID: "6f1bb4b2-7dc8-11ee-92b2-f661ea17fbcd", Slot: slot, WindowStart: slot.Add(-6 * time.Minute), WindowEnd: slot,
		HistoryStart: slot.Add(-7 * 24 * time.Hour), ExecutionUUID: "0b5e1c1e-5d1a-4b7e-9a55-6f1d1f0c2a11", Status: "succeeded",
		Terms: 12, NewTerms: 2, AlertsCreated: 2, TookMs: 1234, ESTookMs: 56, Requests: 4,
	}
	bfS := BackfillSummary{Summary: backfill.Summary{
		RuleID: runS.RuleID, From: slot.Add(-24 * time.Hour), To: slot, Slots: 288, SkippedSlots: 100, SlotsDone: 180,
		Mode: backfill.ModeFast, AlertsCreated: 7, AlertsDuplicate: 1, FirstOccurrences: 8, Terms: 900,
		Width: "1m", ScanMS: 800, FetchMS: 100, WriteMS: 200, Requests: 31, TookMS: 1500, ESTookMS: 700,
	}, Status: "interrupted", Error: (&backfill.InterruptedError{Slot: slot.Add(-9 * time.Hour), SlotsDone: 180, Slots: 288}).Error()}

	var out bytes.Buffer
	p := NewSummaries(&out, JSON)
	require.NoError(t, p.Run(runS))
	runFailed := runS
	runFailed.Status, runFailed.Error = "failed", "search logs-okta*: elasticsearch status 503"
	require.NoError(t, p.Run(runFailed))
	require.NoError(t, p.Backfill(bfS))
	checkGolden(t, "summaries.ndjson", out.Bytes())

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
	p = NewSummaries(&out, Table)
	require.NoError(t, p.Run(runS))
	require.NoError(t, p.Run(runFailed))
	table := strings.Split(out.String(), "\n")
	require.Len(t, table, 4)
	require.Regexp(t, `^RULE ID\s+SLOT\s+STATUS`, table[0])
	require.Contains(t, table[1], "1.2s")
	require.Contains(t, table[2], "elasticsearch status 503")
}

// TestSummaryTableEscapesControlCharacters: an error message from
// Elasticsearch or a rule id from a rule file cannot drive the terminal.
func TestSummaryTableEscapesControlCharacters(t *testing.T) {
	var out bytes.Buffer
	p := NewSummaries(&out, Table)
	require.NoError(t, p.Run(detect.Summary{RuleID: "r\x1b[2J", Status: "failed", Error: "boom\x1b]0;title\a"}))
	require.NotContains(t, out.String(), "\x1b")
	require.Contains(t, out.String(), `r\x1b[2J`)
	require.Contains(t, out.String(), `boom\x1b]0;title\x07`)
}

// update rewrites the golden files: go test ./output -run X -update.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// checkGolden compares got with testdata/golden/name (rewritten with -update).
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, name, got, *update)
}
