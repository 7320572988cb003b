package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/esrule/esrule/backfill"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/output"
)

// backfillSummary is backfill's summary line: the backfill's counters with
// run's status and error keys (docs/output.md).
type backfillSummary struct {
	backfill.Summary
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// summaries prints run's and backfill's summaries on stdout, as JSON lines
// or as table rows (a header before the first). Safe for concurrent use.
type summaries struct {
	mu     sync.Mutex
	format string
	w      io.Writer
	lines  *output.Lines
	header bool
}

func newSummaries(w io.Writer, format string) *summaries {
	return &summaries{w: w, format: format, lines: output.NewLines(w)}
}

const (
	runRowFormat      = "%-36s  %-20s  %-9s  %9s  %6s  %10s  %8s  %s\n"
	backfillRowFormat = "%-36s  %-20s  %-20s  %-6s  %11s  %6s  %10s  %8s  %8s  %-9s  %s\n"
)

// run prints the summary of one executed slot.
func (p *summaries) run(s detect.Summary) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.format == output.JSON {
		return p.lines.Write(s)
	}
	if !p.header {
		p.header = true
		fmt.Fprintf(p.w, runRowFormat, "RULE ID", "SLOT", "STATUS", "NEW TERMS", "ALERTS", "DUPLICATES", "TOOK", "ERROR")
	}
	_, err := fmt.Fprintf(p.w, runRowFormat, printable(s.RuleID), s.Slot.Format(time.RFC3339), s.Status, itoa(s.NewTerms),
		itoa(s.AlertsCreated), itoa(s.AlertsDuplicate), millis(s.TookMs), oneLine(s.Error))
	if err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// backfill prints the summary of one rule's backfill.
func (p *summaries) backfill(s backfillSummary) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.format == output.JSON {
		return p.lines.Write(s)
	}
	if !p.header {
		p.header = true
		fmt.Fprintf(p.w, backfillRowFormat, "RULE ID", "FROM", "TO", "MODE", "SLOTS DONE", "ALERTS", "DUPLICATES", "REPLAYED", "TOOK", "STATUS", "ERROR")
	}
	_, err := fmt.Fprintf(p.w, backfillRowFormat, printable(s.RuleID), s.From.Format(time.RFC3339), s.To.Format(time.RFC3339), s.Mode,
		fmt.Sprintf("%d/%d", s.SlotsDone, s.Slots), itoa(s.AlertsCreated), itoa(s.AlertsDuplicate), itoa(s.ReplayedSlots),
		millis(s.TookMS), s.Status, oneLine(s.Error))
	if err != nil {
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

// oneLine keeps an error message on its row, "-" when empty, with no
// control characters (printable).
func oneLine(s string) string {
	if s == "" {
		return "-"
	}
	return printable(strings.Join(strings.Fields(s), " "))
}

func status(err error) string {
	if err != nil {
		return "failed"
	}
	return "succeeded"
}

func errString(err error) string {
	if err != nil {
		return err.Error()
	}
	return ""
}
