package backfill

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/rule"
)

func TestPlanFor(t *testing.T) {
	r := &rule.Rule{RuleID: "r", Interval: "5m", HistoryWindowStart: "now-7d"}
	require.NoError(t, r.Normalize())
	from := time.Date(2026, 12, 1, 0, 2, 0, 0, time.UTC)
	to := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	p, err := PlanFor(r, from, to, true)
	require.NoError(t, err)
	require.Equal(t, Plan{RuleID: "r", From: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), To: to,
		Interval: 5 * time.Minute, Slots: 288, Mode: ModeReplay}, p)
	require.Equal(t, "rule r: 288 slots of 5m0s in (2026-12-01T00:00:00Z, 2026-12-02T00:00:00Z], replay mode", p.String())
	g, err := newGrid(r, from, to)
	require.NoError(t, err)
	require.Equal(t, g.len(), p.Slots, "the plan counts the slots the backfill runs")
}

func TestEstimate(t *testing.T) {
	_, ok := EstimateFrom(Progress{SlotsDone: 10, SlotsTotal: 100, SkippedSlots: 10}, time.Second, Estimate{})
	require.False(t, ok, "nothing measured in this run")
	e, ok := EstimateFrom(Progress{SlotsDone: 20, SlotsTotal: 100, SkippedSlots: 10, Requests: 30}, 2*time.Second, Estimate{})
	require.True(t, ok)
	require.Equal(t, Estimate{Requests: 270, Duration: 18 * time.Second}, e)
	// A scan of 10 requests and 1s is paid once: 20 requests and 1s for 10 of 90 slots.
	e, ok = EstimateFrom(Progress{SlotsDone: 20, SlotsTotal: 100, SkippedSlots: 10, Requests: 30}, 2*time.Second,
		Estimate{Requests: 10, Duration: time.Second})
	require.True(t, ok)
	require.Equal(t, Estimate{Requests: 190, Duration: 10 * time.Second}, e)
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		1234567 * time.Millisecond:           "20m35s",
		4*time.Second + 240*time.Millisecond: "4.2s",
		125 * time.Minute:                    "2h5m0s",
		120*time.Millisecond + 400:           "120ms",
	} {
		require.Equal(t, want, HumanDuration(d))
	}
}

// TestLogDisplayHumanUnits checks the progress line: slots, alerts, rate and
// ETA in words, and the machine fields with units in their names.
func TestLogDisplayHumanUnits(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	log := zerolog.New(&buf)
	d := NewEstimateDisplay(NewLogDisplay(log, time.Second, clock), log, clock)
	now = now.Add(10 * time.Second)
	d.Update(Progress{RuleID: "r", Phase: "write", SlotsDone: 60, SlotsTotal: 1000, SkippedSlots: 10, AlertsCreated: 3, Requests: 100})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	var progress, estimate map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &progress))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &estimate))
	require.Equal(t, "60/1000 slots (6.0%), 3 alerts, 5.0 slots/s, ETA 3m8s", progress["progress"])
	require.EqualValues(t, 188000, progress["eta_ms"])
	require.Equal(t, 5.0, progress["slots_per_second"])
	require.Equal(t, "backfill estimate from the first 50 slots: about 1980 requests and 3m18s in all", estimate["message"])
	now = now.Add(10 * time.Second)
	d.Update(Progress{RuleID: "r", Phase: "write", SlotsDone: 80, SlotsTotal: 1000, SkippedSlots: 10})
	require.Len(t, strings.Split(strings.TrimSpace(buf.String()), "\n"), 3, "the estimate once")
}

// TestEstimateWaitsForAStep: one slot of many after a moment is not yet a
// step to extrapolate; 1% of the slots, or two seconds of writing, is.
func TestEstimateWaitsForAStep(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	d := NewEstimateDisplay(NoDisplay{}, zerolog.New(&buf), clock)
	now = now.Add(100 * time.Millisecond)
	d.Update(Progress{Phase: "write", SlotsDone: 1, SlotsTotal: 1000, Requests: 2})
	require.Empty(t, buf.String())
	now = now.Add(2 * time.Second)
	d.Update(Progress{Phase: "write", SlotsDone: 5, SlotsTotal: 1000, Requests: 10})
	require.Contains(t, buf.String(), "backfill estimate from the first 5 slots: about 2000 requests and 7m0s in all")
}
