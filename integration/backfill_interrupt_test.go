//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/state"
)

// interruptedBackfill runs `esrule backfill` args, sends sig once a progress
// line shows a slot done, and returns the exit code, stdout and stderr.
func interruptedBackfill(t *testing.T, sig syscall.Signal, args []string) (int, string, string) {
	t.Helper()
	progressed := make(chan struct{})
	signalled := false
	p := startEsrule(t, "esrule backfill", procSpec{
		args: append([]string{"backfill"}, args...), env: []string{"ELASTICSEARCH_URL=" + esURL},
		onLine: func(line []byte) {
			var l map[string]any
			if !signalled && json.Unmarshal(line, &l) == nil && l["message"] == "backfill progress" {
				if n, _ := l["slots_done"].(float64); n > 0 {
					signalled = true
					close(progressed)
				}
			}
		},
	})
	waitFor(t, "backfill progress", func() (bool, string) {
		select {
		case <-progressed:
			return true, ""
		default:
		}
		if p.hasExited() {
			t.Fatalf("backfill ended (%v) before any progress:\n%s", p.err, p.output())
		}
		return false, p.progress()
	})
	p.signal(t, sig)
	code := p.wait(t)
	return code, p.stdout.String(), p.stderr.String()
}

var interruptedRE = regexp.MustCompile(`esrule: interrupted at slot (\S+); (\d+) of (\d+) slots done`)

// TestIntegrationBackfillInterrupt interrupts a backfill process with
// SIGINT, then SIGTERM: exit 130 and 143, a message with the true count of
// checkpointed slots, and the same command resumes there. A dry run
// checkpoints nothing and says so.
func TestIntegrationBackfillInterrupt(t *testing.T) {
	t.Parallel()
	e := newServeEnv(t)
	to := e.s0.Add(-time.Hour)
	from := to.Add(-time.Hour) // 1800 slots of 2s
	args := []string{
		"--rules", e.writeRuleFile(t), "--state-index", e.stateIndex, "--replay", "--yes",
		"--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339),
		"--progress", "log", "--progress-interval", "10ms",
	}
	ckptID := state.BackfillDocID(e.space, e.rule.SavedObjectID(), from, to)
	done := 0
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		code, stdout, stderr := interruptedBackfill(t, tc.sig, args)
		require.Equal(t, tc.code, code, "stderr:\n%s", stderr)
		m := interruptedRE.FindStringSubmatch(stderr)
		require.NotNil(t, m, "stderr:\n%s", stderr)
		require.Contains(t, stderr, "slots done and checkpointed; run the same command to resume")
		slot, err := time.Parse(time.RFC3339, m[1])
		require.NoError(t, err)
		n, _ := strconv.Atoi(m[2])
		require.Greater(t, n, done, "progress since the last run")
		require.Equal(t, "1800", m[3])
		done = n

		var ck state.Backfill
		v, err := e.store.Get(context.Background(), ckptID, &ck)
		require.NoError(t, err)
		require.False(t, v.IsZero())
		require.Equal(t, from.Add(time.Duration(n)*serveInterval), ck.Backfill.DoneUntil.UTC(), "the checkpoint holds the reported count")
		require.Equal(t, ck.Backfill.DoneUntil.Add(serveInterval), slot, "interrupted at the slot after the checkpoint")

		var sum map[string]any
		require.NoError(t, json.Unmarshal([]byte(stdout), &sum), "the summary is on stdout: %q", stdout)
		require.Equal(t, "interrupted", sum["status"])
		require.EqualValues(t, n, sum["slots_done"])
	}

	r := runBackfillProcess(t, args)
	require.Equal(t, 0, r.code, r.stderr)
	var sum map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &sum))
	require.EqualValues(t, done, sum["skipped_slots"], "resumed at the checkpoint")
	require.EqualValues(t, 1800, sum["slots_done"])

	// A dry run over another range: interrupted, it says that nothing was
	// checkpointed, and there is no checkpoint.
	dryFrom := from.Add(-time.Hour)
	dryArgs := append([]string{"--dry-run"}, args...)
	for i, a := range dryArgs {
		if a == from.Format(time.RFC3339) {
			dryArgs[i] = dryFrom.Format(time.RFC3339)
		}
	}
	code, _, stderr := interruptedBackfill(t, syscall.SIGINT, dryArgs)
	require.Equal(t, 130, code, stderr)
	require.Contains(t, stderr, "dry run: nothing was checkpointed")
	var ck state.Backfill
	v, err := e.store.Get(context.Background(), state.BackfillDocID(e.space, e.rule.SavedObjectID(), dryFrom, to), &ck)
	require.NoError(t, err)
	require.True(t, v.IsZero(), "no checkpoint after a dry run")
}

// TestIntegrationRunDryRunSummaryOnStdout: run --dry-run prints the
// would-be alerts, then the summary, both on stdout (not the summary in the
// log), in JSON and as a table.
func TestIntegrationRunDryRunSummaryOnStdout(t *testing.T) {
	t.Parallel()
	e := newServeEnv(t)
	slot := e.s0.Add(2 * serveInterval)
	for _, format := range []string{"json", "table"} {
		r := runEsruleSpec(t, "esrule run --dry-run", procSpec{env: []string{"ELASTICSEARCH_URL=" + esURL}, args: []string{
			"run", "--dry-run", "--rules", e.writeRuleFile(t), "--state-index", e.stateIndex,
			"--at", slot.Format(time.RFC3339), "--format", format}})
		require.Zero(t, r.code, r.stderr)
		stdout, stderr := r.stdout, r.stderr
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		require.NotContains(t, stderr, "summary")
		alertLines := 0
		for _, l := range lines {
			if strings.HasPrefix(l, `{"_index"`) {
				alertLines++
			}
		}
		require.Positive(t, alertLines, "would-be alerts: %s", stdout)
		last := lines[len(lines)-1]
		if format == "json" {
			var sum map[string]any
			require.NoError(t, json.Unmarshal([]byte(last), &sum))
			require.Equal(t, e.rule.RuleID, sum["rule_id"])
			require.Equal(t, true, sum["dry_run"])
			require.EqualValues(t, alertLines, sum["alerts_created"])
			continue
		}
		require.Regexp(t, `^RULE ID\s+SLOT\s+STATUS`, lines[len(lines)-2])
		require.Contains(t, last, e.rule.RuleID)
		require.Contains(t, last, "succeeded")
	}
}

// runBackfillProcess runs `esrule backfill` args to its end.
func runBackfillProcess(t *testing.T, args []string) cliRun {
	t.Helper()
	return runEsruleSpec(t, "esrule backfill", procSpec{args: append([]string{"backfill"}, args...), env: []string{"ELASTICSEARCH_URL=" + esURL}})
}
