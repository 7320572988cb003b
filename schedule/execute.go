package schedule

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/rule"
)

// SlotRunner executes one slot of a rule; *detect.Executor is one.
type SlotRunner interface {
	Run(ctx context.Context, r *rule.Rule, slot time.Time, o detect.RunOptions) (detect.Result, error)
}

// SlotDone reports slots whose alerts are all written: every slot up to and
// including Through. Result is the execution of Through (or, for an engine
// that executes many slots at once, a summary of them).
type SlotDone struct {
	Through time.Time
	Slots   int
	Result  detect.Result
}

// ExecuteFunc executes slots of r, oldest first. After each slot (or run of
// slots) whose alerts are all written it calls done, which records the
// checkpoint; when done returns an error, ExecuteFunc stops and returns it.
// It returns a *SlotError when a slot fails. The scheduler uses PerSlot; a
// faster engine (backfill) can take its place for long catch-ups.
type ExecuteFunc func(ctx context.Context, r *rule.Rule, slots []time.Time, done func(SlotDone) error) error

// SlotError is a failed execution of one slot.
type SlotError struct {
	Slot   time.Time
	Result detect.Result
	Err    error
}

func (e *SlotError) Error() string {
	return fmt.Sprintf("execute slot %s: %v", e.Slot.Format(time.RFC3339), e.Err)
}

func (e *SlotError) Unwrap() error { return e.Err }

// PerSlot returns an ExecuteFunc that runs every slot with run, one after
// the other, each bounded by timeout (zero: the rule's interval).
func PerSlot(run SlotRunner, timeout time.Duration) ExecuteFunc {
	return func(ctx context.Context, r *rule.Rule, slots []time.Time, done func(SlotDone) error) error {
		limit := timeout
		if limit <= 0 {
			iv, err := r.ScheduleInterval()
			if err != nil {
				return fmt.Errorf("rule %s: %w", r.RuleID, err)
			}
			limit = iv
		}
		for _, slot := range slots {
			res, err := runBounded(ctx, run, r, slot, limit)
			if err != nil {
				return &SlotError{Slot: slot, Result: res, Err: err}
			}
			if err := done(SlotDone{Through: slot, Slots: 1, Result: res}); err != nil {
				return err
			}
		}
		return nil
	}
}

// errSlotTimeout is the cause of a slot cancelled by its timeout.
var errSlotTimeout = errors.New("execution timeout")

func runBounded(ctx context.Context, run SlotRunner, r *rule.Rule, slot time.Time, limit time.Duration) (detect.Result, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, limit, fmt.Errorf("%w of %s", errSlotTimeout, limit))
	defer cancel()
	res, err := run.Run(ctx, r, slot, detect.RunOptions{ExecutionType: "scheduled"})
	if err != nil && ctx.Err() != nil && errors.Is(context.Cause(ctx), errSlotTimeout) {
		err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
	}
	return res, err
}

// ByCount returns an ExecuteFunc that hands runs of more than threshold slots
// to many (a faster engine such as backfill) and shorter ones to few.
func ByCount(threshold int, few, many ExecuteFunc) ExecuteFunc {
	return func(ctx context.Context, r *rule.Rule, slots []time.Time, done func(SlotDone) error) error {
		if len(slots) > threshold {
			return many(ctx, r, slots, done)
		}
		return few(ctx, r, slots, done)
	}
}
