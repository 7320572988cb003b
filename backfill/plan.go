package backfill

import (
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/esrule/esrule/rule"
)

// Plan is what a backfill of one rule will do, known before it starts.
type Plan struct {
	RuleID   string
	From, To time.Time // aligned to the rule's interval: slots T with From < T <= To
	Interval time.Duration
	Slots    int
	Mode     string // ModeFast or ModeReplay
}

// PlanFor returns the plan of a backfill of r (normalized) over (from, to].
func PlanFor(r *rule.Rule, from, to time.Time, replay bool) (Plan, error) {
	if !r.Normalized() {
		return Plan{}, fmt.Errorf("plan backfill of rule %s: %w", r.RuleID, rule.ErrNotNormalized)
	}
	iv := r.Timing.Interval
	p := Plan{RuleID: r.RuleID, From: rule.AlignSlot(from.UTC(), iv), To: rule.AlignSlot(to.UTC(), iv), Interval: iv, Mode: ModeFast}
	if replay {
		p.Mode = ModeReplay
	}
	if p.To.After(p.From) {
		p.Slots = int(p.To.Sub(p.From) / iv)
	}
	return p, nil
}

// String describes the plan for people.
func (p Plan) String() string {
	return fmt.Sprintf("rule %s: %d slots of %s in (%s, %s], %s mode", p.RuleID, p.Slots, p.Interval,
		p.From.Format(time.RFC3339), p.To.Format(time.RFC3339), p.Mode)
}

// Estimate is the expected number of requests and time of a whole
// backfill.
type Estimate struct {
	Requests int
	Duration time.Duration
}

// EstimateFrom extrapolates from a measured step: p's slots done in this
// run (beyond p.SkippedSlots) took elapsed and p.Requests, of which fixed
// (the fast path's scan, paid once before any slot is written) does not
// grow with the slots. ok is false when nothing was measured yet.
func EstimateFrom(p Progress, elapsed time.Duration, fixed Estimate) (e Estimate, ok bool) {
	done := p.SlotsDone - p.SkippedSlots
	todo := p.SlotsTotal - p.SkippedSlots
	if done <= 0 || todo <= 0 {
		return Estimate{}, false
	}
	f := float64(todo) / float64(done)
	return Estimate{
		Requests: fixed.Requests + int(float64(p.Requests-fixed.Requests)*f+0.5),
		Duration: fixed.Duration + time.Duration(float64(elapsed-fixed.Duration)*f),
	}, true
}

// estimateAfter is how long slots are written before the estimate when
// fewer than 1% of them are done by then.
const estimateAfter = 2 * time.Second

// NewEstimateDisplay wraps d: once a first step is measured (1% of the
// slots, or estimateAfter of writing) it logs the estimate of the whole
// backfill, once.
func NewEstimateDisplay(d Display, log zerolog.Logger, clock func() time.Time) Display {
	return &estimateDisplay{Display: d, log: log, clock: clock, started: clock()}
}

type estimateDisplay struct {
	Display
	log     zerolog.Logger
	clock   func() time.Time
	started time.Time
	scan    Estimate // the scan's requests and time, once it is over
	logged  bool
}

func (d *estimateDisplay) Update(p Progress) {
	d.Display.Update(p)
	if d.logged {
		return
	}
	if p.Phase == "scan" {
		d.scan = Estimate{Requests: p.Requests, Duration: d.clock().Sub(d.started)}
		return
	}
	elapsed := d.clock().Sub(d.started)
	done, todo := p.SlotsDone-p.SkippedSlots, p.SlotsTotal-p.SkippedSlots
	if done*100 < todo && elapsed-d.scan.Duration < estimateAfter {
		return // the first slots (cold caches) are not a step to extrapolate yet
	}
	e, ok := EstimateFrom(p, elapsed, d.scan)
	if !ok {
		return
	}
	d.logged = true
	d.log.Info().Str("rule_id", p.RuleID).Int("estimated_requests", e.Requests).
		Int64("estimated_duration_ms", e.Duration.Milliseconds()).
		Msgf("backfill estimate from the first %d slots: about %d requests and %s in all", p.SlotsDone-p.SkippedSlots, e.Requests, HumanDuration(e.Duration))
}

// HumanDuration rounds d for people: 2h5m, 3m20s, 4.2s, 120ms.
func HumanDuration(d time.Duration) string {
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Millisecond).String()
}
