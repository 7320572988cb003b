package schedule

import (
	"context"
	"fmt"
	"time"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/rule"
)

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
// It returns a *SlotError when a slot fails. engine.Engine.Execute is the
// one in use: one slot after the other, or the backfill fast path for a long
// catch-up.
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
