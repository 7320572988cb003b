package output

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/esrule/esrule/backfill"
	"github.com/esrule/esrule/detect"
)

// BackfillSummary is backfill's summary line: the backfill's counters with
// run's status and error keys (docs/output.md).
type BackfillSummary struct {
	backfill.Summary
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// NewBackfillSummary is the summary of a backfill that ended with err:
// status "succeeded", "interrupted" (a backfill.InterruptedError) or
// "failed".
func NewBackfillSummary(s backfill.Summary, err error) BackfillSummary {
	var interrupted *backfill.InterruptedError
	switch {
	case err == nil:
		return BackfillSummary{Summary: s, Status: "succeeded"}
	case errors.As(err, &interrupted):
		return BackfillSummary{Summary: s, Status: "interrupted", Error: err.Error()}
	}
	return BackfillSummary{Summary: s, Status: "failed", Error: err.Error()}
}

// Summaries prints run's and backfill's summaries, as JSON lines or as table
// rows (a header before the first). Safe for concurrent use.
type Summaries struct {
	mu     sync.Mutex
	format string
	w      io.Writer
	lines  *Lines
	header bool
	// err is the first write error.
	err error
}

// NewSummaries prints summaries on w in format (Table or JSON).
func NewSummaries(w io.Writer, format string) *Summaries {
	return &Summaries{w: w, format: format, lines: NewLines(w)}
}

const (
	runRowFormat      = "%-36s  %-20s  %-9s  %9s  %6s  %10s  %8s  %s\n"
	backfillRowFormat = "%-36s  %-20s  %-20s  %-6s  %11s  %6s  %10s  %8s  %8s  %-9s  %s\n"
)

// Err returns the first error writing a summary met.
func (p *Summaries) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Run prints the summary of one executed slot.
func (p *Summaries) Run(s detect.Summary) error {
	return p.print(s, runRowFormat,
		[]any{"RULE ID", "SLOT", "STATUS", "NEW TERMS", "ALERTS", "DUPLICATES", "TOOK", "ERROR"},
		func() []any {
			return []any{Printable(s.RuleID), s.Slot.Format(time.RFC3339), s.Status, itoa(s.NewTerms),
				itoa(s.AlertsCreated), itoa(s.AlertsDuplicate), millis(s.TookMs), oneLine(s.Error)}
		})
}

// Backfill prints the summary of one rule's backfill.
func (p *Summaries) Backfill(s BackfillSummary) error {
	return p.print(s, backfillRowFormat,
		[]any{"RULE ID", "FROM", "TO", "MODE", "SLOTS DONE", "ALERTS", "DUPLICATES", "REPLAYED", "TOOK", "STATUS", "ERROR"},
		func() []any {
			return []any{Printable(s.RuleID), s.From.Format(time.RFC3339), s.To.Format(time.RFC3339), s.Mode,
				fmt.Sprintf("%d/%d", s.SlotsDone, s.Slots), itoa(s.AlertsCreated), itoa(s.AlertsDuplicate), itoa(s.ReplayedSlots),
				millis(s.TookMS), s.Status, oneLine(s.Error)}
		})
}

// print writes one summary: v as a JSON line, or a table row of format
// (the header before the first row), and keeps the first error.
func (p *Summaries) print(v any, format string, header []any, row func() []any) (err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	defer func() { p.err = cmp.Or(p.err, err) }()
	if p.format == JSON {
		return p.lines.Write(v)
	}
	if !p.header {
		p.header = true
		fmt.Fprintf(p.w, format, header...)
	}
	if _, err := fmt.Fprintf(p.w, format, row()...); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

func itoa(n int) string { return fmt.Sprint(n) }

// millis prints a duration in milliseconds in human units (1.2s, 3m4s).
func millis(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	if d >= time.Second {
		d = d.Round(100 * time.Millisecond)
	}
	return d.String()
}
