package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/rule"
)

func TestRunRejectsUnalignedSlot(t *testing.T) {
	code, _, stderr := runCLI(t, "run", "--at", "2024-05-01T10:03:00Z")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "nearest slots are 2024-05-01T10:00:00Z and 2024-05-01T10:05:00Z")

	code, _, stderr = runCLI(t, "run", "--at", "yesterday")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "want an RFC 3339 time (2026-05-01T10:05:00Z), a date")
}

func TestSlotsFor(t *testing.T) {
	five := &rule.Rule{RuleID: "five", Interval: "5m", HistoryWindowStart: "now-7d"}
	hour := &rule.Rule{RuleID: "hour", Interval: "1h", HistoryWindowStart: "now-7d"}
	require.NoError(t, five.Normalize())
	require.NoError(t, hour.Normalize())
	now := time.Date(2024, 5, 1, 10, 7, 30, 0, time.UTC)

	slots, err := slotsFor([]*rule.Rule{five, hour}, "", now)
	require.NoError(t, err)
	require.Equal(t, []time.Time{time.Date(2024, 5, 1, 10, 5, 0, 0, time.UTC), time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)}, slots)

	slots, err = slotsFor([]*rule.Rule{five, hour}, "2024-05-01T12:00:00+02:00", now)
	require.NoError(t, err)
	require.Equal(t, time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), slots[1])

	slots, err = slotsFor([]*rule.Rule{five, hour}, "now-1h/h", now)
	require.NoError(t, err)
	require.Equal(t, time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC), slots[1])
	slots, err = slotsFor([]*rule.Rule{five, hour}, "2024-05-01", now)
	require.NoError(t, err)
	require.Equal(t, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), slots[0])

	_, err = slotsFor([]*rule.Rule{five, hour}, "2024-05-01T10:05:00Z", now)
	require.ErrorContains(t, err, "not a slot of rule hour")
}
