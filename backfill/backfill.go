// Package backfill executes a new_terms rule for every slot whose end falls in
// a range (docs/backfill.md) with exactly the alerts slot-by-slot execution would
// write, but with one streaming pass over the rule's matches instead of one
// history scan per slot. Slots whose new terms may exceed max_signals, and the
// slots overlapping a truncated one, run through the normal executor. Progress
// is checkpointed in the state index, so an interrupted backfill resumes.
package backfill

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/esquery"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/state"
)

// Modes of a backfill.
const (
	ModeFast   = "fast"
	ModeReplay = "replay"
)

// Checkpoints stores backfill checkpoints with optimistic concurrency
// (*state.Store).
type Checkpoints interface {
	Get(ctx context.Context, id string, dst any) (state.Version, error)
	Put(ctx context.Context, id string, doc any, v state.Version) (state.Version, error)
}

// Deps are what a backfill talks to.
type Deps struct {
	// Searcher runs the scan and the document fetches (esclient.Client).
	Searcher detect.Searcher
	// Alerts receives the fast path's alerts (alerts.Writer; no refresh needed).
	Alerts detect.AlertStore
	// Executor runs the exactly executed slots (and every slot in replay
	// mode). Its AlertStore must make written alerts visible to Existing
	// before the next slot (an alerts.Writer does: without a bulk refresh,
	// it refreshes before a pre-check that follows a write).
	Executor *detect.Executor
	// Refresh makes the fast path's alerts visible to Existing before an
	// exactly executed slot (refresh of the alerts alias); nil: nothing to do.
	Refresh func(ctx context.Context) error
	// Checkpoints holds progress; nil: no checkpoint (not resumable).
	Checkpoints Checkpoints
	Logger      zerolog.Logger
	// Clock gives the alert write time and durations; nil uses the slot time.
	Clock func() time.Time
}

// Options vary one backfill.
type Options struct {
	// From and To bound the range: every slot T with From < T <= To.
	From, To time.Time
	// Replay executes every slot with the executor (the reference mode).
	Replay bool
	// DryRun writes nothing (no alerts, no checkpoint) and passes the
	// would-be alerts to OnAlerts; the checkpoint is ignored.
	DryRun bool
	// Force re-runs a range the checkpoint says is done (or partly done).
	Force bool
	// ExecutionType of the alerts: "manual" (default, a backfill) or
	// "scheduled" (catch-up of missed scheduled slots by serve).
	ExecutionType string
	// OnAlerts receives the would-be alerts of a dry run, in slot order.
	OnAlerts func([]alerts.Alert) error
	// Progress is called after each group of slots (and during the scan).
	Progress func(Progress)
	// Done is called after each completed group of slots, after the
	// checkpoint: every slot up to through is written. An error stops the run.
	Done func(through time.Time, slots int) error
	// PageSize is the scan's composite page size (default DefaultScanPageSize).
	PageSize int
	// ScanWorkers is the number of partitions of the term space scanned at
	// once (default DefaultScanWorkers; 1 scans with one composite).
	ScanWorkers int
	// FetchBatch is the number of first occurrences per document fetch and
	// alert write (default DefaultFetchBatch).
	FetchBatch int
	// TempDir holds the scan's spilled first occurrences when they do not
	// fit in memory (docs/backfill.md); "" is the system's temporary
	// directory.
	TempDir string
	// Width forces the scan's histogram width (tests); 0 picks the widest
	// whole-minute width the rule allows. It must not exceed any slot's
	// history-start-to-window-start distance.
	Width time.Duration
}

// Progress is a snapshot of a running backfill.
type Progress struct {
	RuleID           string
	Phase            string // "scan" or "write"
	Terms            int    // terms seen by the scan so far
	SlotsDone        int
	SlotsTotal       int
	SkippedSlots     int // done by an earlier run (checkpoint)
	Requests         int // Elasticsearch requests so far
	AlertsCreated    int
	AlertsDuplicate  int
	ReplayedSlots    int
	FirstOccurrences int
}

// InterruptedError is returned when the context ends during a backfill:
// slots before Slot are done (and checkpointed, unless a dry run), so
// running the same backfill again resumes at Slot.
type InterruptedError struct {
	Slot      time.Time // the first slot not done
	SlotsDone int       // done in all, earlier runs included
	Slots     int
	DryRun    bool
	Err       error
}

func (e *InterruptedError) Error() string {
	if e.DryRun {
		return fmt.Sprintf("interrupted at slot %s; %d of %d slots done; dry run: nothing was checkpointed",
			e.Slot.UTC().Format(time.RFC3339), e.SlotsDone, e.Slots)
	}
	return fmt.Sprintf("interrupted at slot %s; %d of %d slots done and checkpointed; run the same command to resume",
		e.Slot.UTC().Format(time.RFC3339), e.SlotsDone, e.Slots)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

// Summary is the outcome of one backfill of one rule.
type Summary struct {
	RuleID       string    `json:"rule_id"`
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	Slots        int       `json:"slots"`
	SkippedSlots int       `json:"skipped_slots"` // done by an earlier run (checkpoint)
	// SlotsDone counts the slots done when Run returned, earlier runs
	// included: written and, unless a dry run, checkpointed.
	SlotsDone        int    `json:"slots_done"`
	Mode             string `json:"mode"`
	AlertsCreated    int    `json:"alerts_created"`
	AlertsDuplicate  int    `json:"alerts_duplicate"`
	AlertsTruncated  int    `json:"alerts_truncated"`
	ReplayedSlots    int    `json:"replayed_slots"`
	FirstOccurrences int    `json:"first_occurrences"`
	Terms            int    `json:"terms"`
	Width            string `json:"histogram_width,omitempty"`
	AlreadyDone      bool   `json:"already_done,omitempty"`
	DryRun           bool   `json:"dry_run,omitempty"`
	// Time spent scanning, fetching alert documents, writing alerts and in
	// exactly executed slots (wall clock, milliseconds).
	ScanMS   int64         `json:"scan_ms"`
	FetchMS  int64         `json:"fetch_ms"`
	WriteMS  int64         `json:"write_ms"`
	ExactMS  int64         `json:"exact_ms"`
	Took     time.Duration `json:"-"`
	ESTook   time.Duration `json:"-"`
	Requests int           `json:"requests"`
	TookMS   int64         `json:"took_ms"`
	ESTookMS int64         `json:"es_took_ms"`
	Warnings []string      `json:"warnings,omitempty"`
	// Coverage is the coverage check (docs/semantics.md D5) over the whole range.
	Coverage *detect.Coverage `json:"coverage,omitempty"`
}

func (d Deps) now(fallback time.Time) time.Time {
	if d.Clock == nil {
		return fallback
	}
	return d.Clock().UTC()
}

// Run backfills r over (o.From, o.To]: fast path by default, every slot with
// the executor with o.Replay. It resumes after the checkpoint of the same
// range unless o.Force; a range already done returns at once with
// Summary.AlreadyDone.
func Run(ctx context.Context, d Deps, r *rule.Rule, o Options) (Summary, error) {
	start := d.now(o.To)
	s := Summary{RuleID: r.RuleID, From: o.From.UTC(), To: o.To.UTC(), Mode: ModeFast, DryRun: o.DryRun}
	if o.Replay {
		s.Mode = ModeReplay
	}
	err := execute(ctx, d, r, o, &s)
	s.Took = d.now(o.To).Sub(start)
	s.TookMS, s.ESTookMS = s.Took.Milliseconds(), s.ESTook.Milliseconds()
	return s, err
}

func execute(ctx context.Context, d Deps, r *rule.Rule, o Options, s *Summary) error {
	if !o.To.After(o.From) {
		return fmt.Errorf("backfill rule %s: --to %s is not after --from %s", r.RuleID,
			o.To.UTC().Format(time.RFC3339), o.From.UTC().Format(time.RFC3339))
	}
	if d.Executor == nil || d.Searcher == nil {
		return errors.New("backfill: Deps need an Executor and a Searcher")
	}
	if d.Alerts == nil && !o.DryRun {
		return errors.New("backfill: Deps need an AlertStore")
	}
	// The range names slots: (From, To] holds the same slots as
	// (AlignSlot(From), AlignSlot(To)], which also names the checkpoint.
	if !r.Normalized() {
		return fmt.Errorf("backfill rule %s: %w", r.RuleID, rule.ErrNotNormalized)
	}
	iv := r.Timing.Interval
	s.From, s.To = rule.AlignSlot(s.From, iv), rule.AlignSlot(s.To, iv)
	g, err := newGrid(r, s.From, s.To)
	if err != nil {
		return fmt.Errorf("backfill rule %s: %w", r.RuleID, err)
	}
	s.Slots = g.len()
	b := &run{d: d, r: r, o: o, g: g, s: s, log: d.Logger.With().Str("rule_id", r.RuleID).Str("mode", s.Mode).Logger()}
	if err := b.loadCheckpoint(ctx); err != nil {
		return err
	}
	if b.doneIdx >= g.len() && g.len() > 0 {
		s.AlreadyDone, s.SkippedSlots, s.SlotsDone = true, g.len(), g.len()
		return nil
	}
	s.SkippedSlots = b.doneIdx
	if g.len() == 0 {
		return b.checkpoint(ctx, 0)
	}
	if d.Executor.CheckRead != nil { // the fast path searches without the executor
		if err := d.Executor.CheckRead(ctx, r.Index); err != nil {
			return fmt.Errorf("backfill rule %s: %w", r.RuleID, err)
		}
	}
	if err := b.coverage(ctx); err != nil {
		return fmt.Errorf("backfill rule %s: %w", r.RuleID, err)
	}
	if o.Replay {
		err = b.replay(ctx)
	} else {
		err = b.fast(ctx)
	}
	s.SlotsDone = b.doneIdx
	if err != nil {
		if ctx.Err() != nil && b.doneIdx < g.len() {
			return &InterruptedError{Slot: g.slot(b.doneIdx), SlotsDone: b.doneIdx, Slots: g.len(), DryRun: o.DryRun, Err: err}
		}
		return fmt.Errorf("backfill rule %s over (%s, %s]: %w", r.RuleID,
			s.From.Format(time.RFC3339), s.To.Format(time.RFC3339), err)
	}
	return nil
}

// run is the state of one backfill.
type run struct {
	d   Deps
	r   *rule.Rule
	o   Options
	g   *grid
	s   *Summary
	log zerolog.Logger

	mu sync.Mutex // guards the Summary counters shared by the fetching and writing goroutines

	ckptID      string
	ckpt        state.Backfill
	ckptVersion state.Version
	doneIdx     int // slots [0, doneIdx) are done
	dryRunIDs   map[string]string
}

func (b *run) executionType() string {
	if b.o.ExecutionType != "" {
		return b.o.ExecutionType
	}
	return alerts.ExecutionManual
}

// search runs one request over the rule's indices and accounts for it.
func (b *run) search(ctx context.Context, body []byte) (esquery.Response, error) {
	return b.searchPaths(ctx, body, nil)
}

// searchPaths is search with the response cut to paths (filter_path).
func (b *run) searchPaths(ctx context.Context, body []byte, paths []string) (esquery.Response, error) {
	resp, err := b.d.Searcher.Search(ctx, b.r.Index, body, paths)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.s.Requests++
	if err != nil {
		return resp, err
	}
	b.s.ESTook += time.Duration(resp.Took) * time.Millisecond
	return resp, nil
}

func (b *run) warn(msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, w := range b.s.Warnings {
		if w == msg {
			return
		}
	}
	b.s.Warnings = append(b.s.Warnings, msg)
	b.log.Warn().Msg(msg)
}

func (b *run) progress(phase string, terms int) {
	if b.o.Progress == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.o.Progress(Progress{
		RuleID: b.r.RuleID, Phase: phase, Terms: terms, SlotsDone: b.doneIdx, SlotsTotal: b.g.len(),
		SkippedSlots: b.s.SkippedSlots, Requests: b.s.Requests,
		AlertsCreated: b.s.AlertsCreated, AlertsDuplicate: b.s.AlertsDuplicate, ReplayedSlots: b.s.ReplayedSlots,
		FirstOccurrences: b.s.FirstOccurrences,
	})
}

// exact runs slot j with the executor and accounts for it.
func (b *run) exact(ctx context.Context, j int) (detect.Result, error) {
	ex := *b.d.Executor
	if b.o.DryRun {
		ex.Alerts = &overlay{base: b.d.Executor.Alerts, written: b.dryRunIDs}
	}
	t0 := b.d.now(b.g.slot(j))
	res, err := ex.Run(ctx, b.r, b.g.slot(j), detect.RunOptions{ExecutionType: b.executionType(), DryRun: b.o.DryRun})
	b.mu.Lock()
	b.s.ExactMS += b.d.now(b.g.slot(j)).Sub(t0).Milliseconds()
	b.s.Requests += res.Requests
	b.s.ESTook += res.ESTook
	if err == nil {
		b.s.ReplayedSlots++
		b.s.AlertsCreated += res.AlertsCreated
		b.s.AlertsDuplicate += res.AlertsDuplicate
		b.s.AlertsTruncated += res.AlertsTruncated
	}
	b.mu.Unlock()
	if err != nil {
		return res, err
	}
	for _, w := range res.Warnings {
		if w != detect.MaxSignalsWarning {
			b.warn(w)
		}
	}
	if b.o.DryRun {
		for _, a := range res.Alerts {
			b.dryRunIDs[a.ID] = res.ExecutionUUID
		}
		if b.o.OnAlerts != nil && len(res.Alerts) > 0 {
			if err := b.o.OnAlerts(res.Alerts); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// replay executes every remaining slot with the executor, in order.
func (b *run) replay(ctx context.Context) error {
	for j := b.doneIdx; j < b.g.len(); j++ {
		if _, err := b.exact(ctx, j); err != nil {
			return err
		}
		if err := b.checkpoint(ctx, j+1); err != nil {
			return err
		}
		b.progress("write", 0)
	}
	return nil
}
