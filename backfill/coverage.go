package backfill

import (
	"context"
	"fmt"
	"time"

	"github.com/esrule/esrule/detect"
)

// coverage runs the coverage check (docs/semantics.md D5) once for the whole range: the
// documents matching the rule from the first slot's history start to the
// last slot's end, and how many hold each new-terms field. Its warnings go
// to the log and the summary, as an execution's do; the per-slot check of
// exactly executed slots is off (Deps.Executor has SkipCoverage), so every
// mode warns once per backfill.
func (b *run) coverage(ctx context.Context) error {
	first, err := detect.WindowAt(b.r, b.g.slot(b.doneIdx))
	if err != nil {
		return err
	}
	last, err := detect.WindowAt(b.r, b.g.slot(b.g.len()-1))
	if err != nil {
		return err
	}
	w := detect.Window{Slot: last.Slot, From: last.From, To: last.To, HistoryStart: first.HistoryStart}
	filter, err := detect.QueryFilter(ctx, b.d.Executor.FieldCaps, b.r)
	if err != nil {
		return err
	}
	c, err := detect.CheckCoverage(ctx, b.d.Searcher, b.r, w, filter)
	b.mu.Lock()
	b.s.Requests++
	b.mu.Unlock()
	if err != nil {
		return fmt.Errorf("check coverage over [%s, %s]: %w", w.HistoryStart.Format(time.RFC3339), w.To.Format(time.RFC3339), err)
	}
	b.s.Coverage = &c
	for _, msg := range c.Warnings() {
		b.warn(msg)
	}
	return nil
}
