package backfill

import (
	"context"
	"errors"
	"time"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/schedule"
)

// DefaultFastCatchupSlots is the number of missed slots from which
// ExecuteFunc uses the fast path.
const DefaultFastCatchupSlots = 12

// ExecuteFunc returns a schedule.ExecuteFunc for serve and run's catch-up:
// fewer than minSlots consecutive slots (0: DefaultFastCatchupSlots) run one
// by one with perSlot; more run through the fast path as scheduled
// executions (same alerts, one scan). d.Checkpoints is not used: the
// scheduler's done callback records progress.
func ExecuteFunc(d Deps, perSlot schedule.ExecuteFunc, minSlots int) schedule.ExecuteFunc {
	if minSlots <= 0 {
		minSlots = DefaultFastCatchupSlots
	}
	return func(ctx context.Context, r *rule.Rule, slots []time.Time, done func(schedule.SlotDone) error) error {
		if len(slots) < minSlots || !consecutive(r, slots) {
			return perSlot(ctx, r, slots, done)
		}
		iv, _ := r.ScheduleInterval()
		d := d
		d.Checkpoints = nil
		last := slots[0].Add(-iv)
		_, err := Run(ctx, d, r, Options{
			From: slots[0].Add(-iv), To: slots[len(slots)-1], ExecutionType: alerts.ExecutionScheduled,
			Done: func(through time.Time, n int) error {
				last = through
				return done(schedule.SlotDone{Through: through, Slots: n, Result: detect.Result{RuleID: r.RuleID, Slot: through}})
			},
		})
		if err != nil {
			var se *schedule.SlotError
			if errors.As(err, &se) {
				return err
			}
			return &schedule.SlotError{Slot: last.Add(iv), Result: detect.Result{RuleID: r.RuleID, Slot: last.Add(iv)}, Err: err}
		}
		return nil
	}
}

// consecutive reports whether slots are aligned, one interval apart, oldest first.
func consecutive(r *rule.Rule, slots []time.Time) bool {
	iv, err := r.ScheduleInterval()
	if err != nil {
		return false
	}
	for i, s := range slots {
		if detect.CheckSlot(r, s) != nil || (i > 0 && !s.Equal(slots[i-1].Add(iv))) {
			return false
		}
	}
	return true
}
