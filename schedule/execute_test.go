package schedule

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/rule"
)

func TestPerSlotStopsAtFirstFailure(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	slots := []time.Time{t0, t0.Add(5 * time.Minute), t0.Add(10 * time.Minute)}
	run := &fakeRunner{fail: map[time.Time]bool{slots[1]: true}}
	var done []time.Time
	err := PerSlot(run, 0)(context.Background(), testRule(), slots, func(d SlotDone) error {
		done = append(done, d.Through)
		return nil
	})
	var se *SlotError
	require.ErrorAs(t, err, &se)
	require.Equal(t, slots[1], se.Slot)
	require.Equal(t, slots[:1], done)
	require.Equal(t, slots[:2], run.ran)
}

// slowRunner waits for its context.
type slowRunner struct{}

func (slowRunner) Run(ctx context.Context, _ *rule.Rule, _ time.Time, _ detect.RunOptions) (detect.Result, error) {
	<-ctx.Done()
	return detect.Result{}, ctx.Err()
}

func TestPerSlotTimeout(t *testing.T) {
	err := PerSlot(slowRunner{}, 10*time.Millisecond)(context.Background(), testRule(),
		[]time.Time{time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)}, func(SlotDone) error { return nil })
	require.ErrorIs(t, err, errSlotTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "execution timeout of 10ms")
}

func TestByCount(t *testing.T) {
	var used string
	few := func(context.Context, *rule.Rule, []time.Time, func(SlotDone) error) error { used = "few"; return nil }
	many := func(context.Context, *rule.Rule, []time.Time, func(SlotDone) error) error {
		used = "many"
		return errors.New("x")
	}
	ex := ByCount(2, few, many)
	require.NoError(t, ex(context.Background(), testRule(), make([]time.Time, 2), nil))
	require.Equal(t, "few", used)
	require.Error(t, ex(context.Background(), testRule(), make([]time.Time, 3), nil))
	require.Equal(t, "many", used)
}
