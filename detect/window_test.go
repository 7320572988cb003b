package detect

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/rule"
)

// normalized returns r normalized, for tests.
func normalized(t *testing.T, r *rule.Rule) *rule.Rule {
	t.Helper()
	require.NoError(t, r.Normalize())
	return r
}

func TestWindowAt(t *testing.T) {
	slot := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name             string
		from, to, hist   string
		wantFrom, wantHS time.Time
		wantTo           time.Time
	}{
		{"okta rule", "now-6m", "now", "now-7d", slot.Add(-6 * time.Minute), slot.AddDate(0, 0, -7), slot},
		{"12h history", "now-6m", "", "now-12h", slot.Add(-6 * time.Minute), slot.Add(-12 * time.Hour), slot},
		{"30d history", "now-59m", "now", "now-30d", slot.Add(-59 * time.Minute), slot.AddDate(0, 0, -30), slot},
		{"history relative to to", "now-2h", "now-1h", "now-1d", slot.Add(-2 * time.Hour), slot.Add(-25 * time.Hour), slot.Add(-time.Hour)},
		{"default from", "", "", "now-7d", slot.Add(-6 * time.Minute), slot.AddDate(0, 0, -7), slot},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := normalized(t, &rule.Rule{RuleID: "r", From: tc.from, To: tc.to, HistoryWindowStart: tc.hist})
			w, err := WindowAt(r, slot)
			require.NoError(t, err)
			require.Equal(t, Window{Slot: slot, From: tc.wantFrom, To: tc.wantTo, HistoryStart: tc.wantHS}, w)
		})
	}
}

func TestWindowAtRejectsShortHistory(t *testing.T) {
	slot := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	for _, hist := range []string{"now-6m", "now-5m", "now"} {
		r := normalized(t, &rule.Rule{RuleID: "r", From: "now-6m", HistoryWindowStart: hist})
		_, err := WindowAt(r, slot)
		require.ErrorContains(t, err, "History window size is smaller than rule interval + additional lookback, 'historyWindowStart' must be earlier than 'from'", hist)
	}
	require.Error(t, (&rule.Rule{RuleID: "r", HistoryWindowStart: "yesterday"}).Normalize())
	_, err := WindowAt(&rule.Rule{RuleID: "r", HistoryWindowStart: "now-7d"}, slot)
	require.ErrorIs(t, err, rule.ErrNotNormalized)
}

func TestWindowISOStrings(t *testing.T) {
	slot := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	w, err := WindowAt(normalized(t, &rule.Rule{RuleID: "r", HistoryWindowStart: "now-7d"}), slot)
	require.NoError(t, err)
	require.Equal(t, "2024-05-01T09:54:00.000Z", w.From.Format("2006-01-02T15:04:05.000Z"))
	require.Equal(t, "2024-04-24T10:00:00.000Z", w.HistoryStart.Format("2006-01-02T15:04:05.000Z"))
}

func TestSlots(t *testing.T) {
	r := normalized(t, &rule.Rule{RuleID: "r", Interval: "5m", HistoryWindowStart: "now-7d"})
	at := time.Date(2024, 5, 1, 10, 7, 12, 0, time.UTC)
	slot, err := SlotAt(r, at)
	require.NoError(t, err)
	require.Equal(t, time.Date(2024, 5, 1, 10, 5, 0, 0, time.UTC), slot)
	require.NoError(t, CheckSlot(r, slot))
	err = CheckSlot(r, at)
	require.ErrorContains(t, err, "nearest slots are 2024-05-01T10:05:00Z and 2024-05-01T10:10:00Z")

	// Slots are UTC whatever the zone of the input.
	paris := time.FixedZone("CEST", 2*3600)
	slot, err = SlotAt(r, time.Date(2024, 5, 1, 12, 7, 0, 0, paris))
	require.NoError(t, err)
	require.Equal(t, time.Date(2024, 5, 1, 10, 5, 0, 0, time.UTC), slot)
}
