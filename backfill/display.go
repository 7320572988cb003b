package backfill

import (
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"
)

// Display shows the progress of a backfill of one rule: Update receives
// every Progress, Finish is called once at the end.
type Display interface {
	Update(Progress)
	Finish()
}

// NewBarDisplay returns a progress bar on w (a terminal) for rule ruleID.
func NewBarDisplay(w io.Writer, ruleID string) Display {
	return &barDisplay{w: w, ruleID: ruleID, bar: progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(ruleID+": scanning"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetItsString("slots"),
		progressbar.OptionShowIts(),
		progressbar.OptionFullWidth(),
	)}
}

type barDisplay struct {
	w      io.Writer
	ruleID string
	bar    *progressbar.ProgressBar
}

func (d *barDisplay) Update(p Progress) {
	if p.Phase == "scan" {
		d.bar.Describe(fmt.Sprintf("%s: scanning, %d terms", d.ruleID, p.Terms))
		return
	}
	if d.bar.GetMax() != p.SlotsTotal {
		d.bar.ChangeMax(p.SlotsTotal)
	}
	d.bar.Describe(fmt.Sprintf("%s: %d alerts (%d duplicate), %d replayed;", d.ruleID, p.AlertsCreated, p.AlertsDuplicate, p.ReplayedSlots))
	_ = d.bar.Set(p.SlotsDone)
}

func (d *barDisplay) Finish() {
	_ = d.bar.Finish()
	fmt.Fprintln(d.w)
}

// NewLogDisplay returns a display writing an Info line to log at most every
// interval, with an estimate of the time left while alerts are written.
func NewLogDisplay(log zerolog.Logger, every time.Duration, clock func() time.Time) Display {
	return &logDisplay{log: log, every: every, clock: clock, started: clock()}
}

type logDisplay struct {
	log           zerolog.Logger
	every         time.Duration
	clock         func() time.Time
	last, started time.Time
}

func (d *logDisplay) Update(p Progress) {
	now := d.clock()
	if now.Sub(d.last) < d.every {
		return
	}
	d.last = now
	ev := d.log.Info().Str("rule_id", p.RuleID).Str("phase", p.Phase).Int("terms", p.Terms).
		Int("slots_done", p.SlotsDone).Int("slots", p.SlotsTotal).Int("alerts_created", p.AlertsCreated).
		Int("alerts_duplicate", p.AlertsDuplicate).Int("replayed_slots", p.ReplayedSlots)
	if p.Phase == "scan" {
		ev.Str("progress", fmt.Sprintf("scanning, %d terms", p.Terms)).Msg("backfill progress")
		return
	}
	text := fmt.Sprintf("%d/%d slots (%.1f%%), %d alerts", p.SlotsDone, p.SlotsTotal, percent(p.SlotsDone, p.SlotsTotal), p.AlertsCreated)
	if rate, eta, ok := rateAndETA(p, now.Sub(d.started)); ok {
		ev = ev.Float64("slots_per_second", rate).Int64("eta_ms", eta.Milliseconds())
		text += fmt.Sprintf(", %.1f slots/s, ETA %s", rate, HumanDuration(eta))
	}
	ev.Str("progress", text).Msg("backfill progress")
}

func percent(n, total int) float64 {
	if total == 0 {
		return 100
	}
	return 100 * float64(n) / float64(total)
}

// rateAndETA is the rate of this run's slots and the time left at it.
func rateAndETA(p Progress, elapsed time.Duration) (float64, time.Duration, bool) {
	done := p.SlotsDone - p.SkippedSlots
	if done <= 0 || elapsed <= 0 {
		return 0, 0, false
	}
	rate := float64(done) / elapsed.Seconds()
	return rate, time.Duration(float64(p.SlotsTotal-p.SlotsDone) / rate * float64(time.Second)), true
}

func (d *logDisplay) Finish() {}

// NoDisplay shows nothing.
type NoDisplay struct{}

// Update does nothing.
func (NoDisplay) Update(Progress) {}

// Finish does nothing.
func (NoDisplay) Finish() {}
