package schedule

import (
	"time"

	"github.com/esrule/esrule/rule"
)

// Plan is what one tick of a rule has to do: the slots to execute, oldest
// first, and the range of missed slots too old to catch up (nil if none).
type Plan struct {
	Slots []time.Time
	Gap   *GapRange
}

// GapRange is a range of missed slots that a tick does not execute because
// they are older than the catch-up limit. `esrule backfill --from From --to To`
// executes exactly these slots (every slot whose window end falls in (From, To]).
type GapRange struct {
	From, To time.Time
}

// Duration is the length of the gap.
func (g GapRange) Duration() time.Duration { return g.To.Sub(g.From) }

// PlanInput is what PlanSlots needs to know about a rule at one tick.
type PlanInput struct {
	// Interval is the rule's schedule interval.
	Interval time.Duration
	// Latest is the latest slot due (a multiple of Interval).
	Latest time.Time
	// Checkpoint is the last completed slot; nil when the rule never completed one.
	Checkpoint *time.Time
	// StartFrom is where a rule without checkpoint starts (the first slot at or
	// after it); the zero time means Latest.
	StartFrom time.Time
	// MaxCatchup bounds the age of missed slots executed: slots older than
	// Latest - MaxCatchup are reported as a gap. Zero or negative means no limit.
	MaxCatchup time.Duration
}

// PlanSlots returns the slots a tick executes: every slot after the checkpoint
// up to Latest, oldest first, except those older than the catch-up limit,
// which form the gap.
func PlanSlots(in PlanInput) Plan {
	iv := in.Interval
	first := in.Latest
	switch {
	case in.Checkpoint != nil:
		first = in.Checkpoint.UTC().Add(iv)
	case !in.StartFrom.IsZero():
		first = alignUp(in.StartFrom, iv)
	}
	var p Plan
	if in.MaxCatchup > 0 {
		oldest := alignUp(in.Latest.Add(-in.MaxCatchup), iv)
		if first.Before(oldest) {
			p.Gap = &GapRange{From: first.Add(-iv), To: oldest.Add(-iv)}
			first = oldest
		}
	}
	for t := first; !t.After(in.Latest); t = t.Add(iv) {
		p.Slots = append(p.Slots, t)
	}
	return p
}

// alignUp returns the first multiple of iv (since the Unix epoch) at or after t.
func alignUp(t time.Time, iv time.Duration) time.Time {
	s := rule.AlignSlot(t, iv)
	if s.Before(t) {
		s = s.Add(iv)
	}
	return s
}
