package schedule

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPlanSlots(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	iv := 5 * time.Minute
	at := func(n int) time.Time { return t0.Add(time.Duration(n) * iv) }
	ptr := func(t time.Time) *time.Time { return &t }
	slots := func(from, to int) []time.Time {
		var out []time.Time
		for i := from; i <= to; i++ {
			out = append(out, at(i))
		}
		return out
	}
	tests := []struct {
		name string
		in   PlanInput
		want Plan
	}{
		{"first start runs the latest slot", PlanInput{Interval: iv, Latest: at(10), MaxCatchup: time.Hour},
			Plan{Slots: slots(10, 10)}},
		{"up to date", PlanInput{Interval: iv, Latest: at(10), Checkpoint: ptr(at(10)), MaxCatchup: time.Hour},
			Plan{}},
		{"next slot", PlanInput{Interval: iv, Latest: at(10), Checkpoint: ptr(at(9)), MaxCatchup: time.Hour},
			Plan{Slots: slots(10, 10)}},
		{"catch-up oldest first", PlanInput{Interval: iv, Latest: at(10), Checkpoint: ptr(at(6)), MaxCatchup: time.Hour},
			Plan{Slots: slots(7, 10)}},
		{"catch-up at the limit has no gap", PlanInput{Interval: iv, Latest: at(12), Checkpoint: ptr(at(-1)), MaxCatchup: time.Hour},
			Plan{Slots: slots(0, 12)}},
		{"older slots are a gap", PlanInput{Interval: iv, Latest: at(12), Checkpoint: ptr(at(-4)), MaxCatchup: time.Hour},
			Plan{Slots: slots(0, 12), Gap: &GapRange{From: at(-4), To: at(-1)}}},
		{"start from a time rounds up to a slot", PlanInput{Interval: iv, Latest: at(10), StartFrom: at(7).Add(-time.Minute), MaxCatchup: time.Hour},
			Plan{Slots: slots(7, 10)}},
		{"start from an old time leaves a gap", PlanInput{Interval: iv, Latest: at(20), StartFrom: at(0), MaxCatchup: time.Hour},
			Plan{Slots: slots(8, 20), Gap: &GapRange{From: at(-1), To: at(7)}}},
		{"no limit", PlanInput{Interval: iv, Latest: at(3), Checkpoint: ptr(at(-2))},
			Plan{Slots: slots(-1, 3)}},
		{"24h of 5m slots", PlanInput{Interval: iv, Latest: at(288), Checkpoint: ptr(at(0)), MaxCatchup: 24 * time.Hour},
			Plan{Slots: slots(1, 288)}},
		{"no catch-up limit", PlanInput{Interval: iv, Latest: at(300), Checkpoint: ptr(at(0)), MaxCatchup: NoCatchupLimit},
			Plan{Slots: slots(1, 300)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, PlanSlots(tt.in))
		})
	}
}

func TestSlotSchedule(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		sched SlotSchedule
		now   time.Time
		want  time.Time
	}{
		{"inside a slot", SlotSchedule{Interval: 5 * time.Minute}, t0.Add(2 * time.Minute), t0.Add(5 * time.Minute)},
		{"on a boundary goes to the next", SlotSchedule{Interval: 5 * time.Minute}, t0, t0.Add(5 * time.Minute)},
		{"delay", SlotSchedule{Interval: 5 * time.Minute, Delay: 30 * time.Second}, t0.Add(10 * time.Second), t0.Add(30 * time.Second)},
		{"delay passed", SlotSchedule{Interval: 5 * time.Minute, Delay: 30 * time.Second}, t0.Add(30 * time.Second), t0.Add(5*time.Minute + 30*time.Second)},
		{"odd interval is epoch aligned", SlotSchedule{Interval: 7 * time.Minute}, t0, time.Unix(0, 0).Add(time.Duration(t0.Unix()/420+1) * 7 * time.Minute).UTC()},
		{"local time in, same instant out", SlotSchedule{Interval: time.Hour}, t0.In(time.FixedZone("X", 1800)), t0.Add(time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.sched.Next(tt.now)
			require.True(t, got.Equal(tt.want), "got %s want %s", got, tt.want)
		})
	}
}

func TestParseCron(t *testing.T) {
	s, err := ParseCron("*/5 * * * *")
	require.NoError(t, err)
	t0 := time.Date(2026, 1, 2, 3, 1, 0, 0, time.UTC)
	require.True(t, s.Next(t0).Equal(time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC)))
	_, err = ParseCron("@every 30s")
	require.NoError(t, err)
	_, err = ParseCron("61 * * * *")
	require.ErrorContains(t, err, "parse cron expression")
}
