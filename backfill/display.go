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
	d.bar.Describe(fmt.Sprintf("%s: %d alerts (%d duplicate), %d replayed", d.ruleID, p.AlertsCreated, p.AlertsDuplicate, p.ReplayedSlots))
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
	if p.Phase == "write" && p.SlotsDone > 0 && p.SlotsDone < p.SlotsTotal {
		elapsed := now.Sub(d.started)
		ev = ev.Int64("eta_ms", (time.Duration(float64(elapsed) / float64(p.SlotsDone) * float64(p.SlotsTotal-p.SlotsDone))).Milliseconds())
	}
	ev.Msg("backfill progress")
}

func (d *logDisplay) Finish() {}

// NoDisplay shows nothing.
type NoDisplay struct{}

// Update does nothing.
func (NoDisplay) Update(Progress) {}

// Finish does nothing.
func (NoDisplay) Finish() {}
