package backfill

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/esquery"
)

// Defaults of Options.
const (
	DefaultFetchBatch = 250
	// DefaultScanPageSize is the buckets of one scan page (terms and their
	// histogram buckets). Every page reads all matching documents of its
	// partition again, so pages are larger than Kibana's 10,000; they stay
	// under search.max_buckets (65,536), and a too-large page is halved.
	DefaultScanPageSize = 30000
	// DefaultScanWorkers is the number of scan partitions in flight: two
	// keep Elasticsearch busy while esrule decodes a page.
	DefaultScanWorkers = 2
)

// width picks the scan's histogram width: o.Width if set (checked), else the
// rule's smallest history-to-window-start distance rounded down to a whole
// minute (second, millisecond for tiny windows).
func (b *run) width() (time.Duration, error) {
	gap := time.Duration(b.g.minGap()) * time.Millisecond
	if b.o.Width > 0 {
		if b.o.Width > gap {
			return 0, fmt.Errorf("histogram width %s exceeds the history-to-window distance %s", b.o.Width, gap)
		}
		return b.o.Width.Truncate(time.Millisecond), nil
	}
	for _, unit := range []time.Duration{time.Minute, time.Second, time.Millisecond} {
		if w := gap.Truncate(unit); w > 0 {
			return w, nil
		}
	}
	return 0, fmt.Errorf("history window ends %s before the rule interval starts; no histogram width fits", gap)
}

func (b *run) maxSignals() int {
	if b.r.MaxSignals > 0 {
		return b.r.MaxSignals
	}
	return 100
}

// fast is the streaming backfill (docs/backfill.md): scan once, then write the first
// occurrences slot by slot, executing exactly the slots where max_signals may
// cut alerts and the slots overlapping a cut one.
func (b *run) fast(ctx context.Context) error {
	filter, err := detect.QueryFilter(ctx, b.d.Executor.FieldCaps, b.r)
	if err != nil {
		return err
	}
	q := esquery.Query{Fields: b.r.NewTermsFields, Timestamps: b.r.Timestamps, Filter: filter}
	w, err := b.width()
	if err != nil {
		return err
	}
	b.s.Width = w.String()
	n := b.g.len()
	// On resume, scan from the earliest slot overlapping the first remaining
	// one: their first occurrences decide whether max_signals may have cut
	// alerts that the remaining slots could create.
	scanFrom := b.doneIdx
	for scanFrom > 0 && b.g.to[scanFrom-1] > b.g.from[b.doneIdx] {
		scanFrom--
	}
	pageSize := b.o.PageSize
	if pageSize <= 0 {
		pageSize = DefaultScanPageSize
	}
	workers := b.o.ScanWorkers
	if workers <= 0 {
		workers = DefaultScanWorkers
	}
	var order valueOrder
	if workers > 1 {
		if order, err = b.termOrder(ctx, q.Fields[0]); err != nil {
			return err
		}
	}
	sink := newSorter(b.o.TempDir, 0)
	defer sink.close()
	sc := &scan{
		q: q, g: b.g, width: w, pageSize: pageSize, workers: workers, order: order,
		search:   b.searchPaths,
		progress: func(terms int) { b.progress("scan", terms) },
		sink:     sink,
	}
	start := time.UnixMilli(b.g.history[scanFrom]).UTC()
	end := time.UnixMilli(b.g.to[n-1]).UTC()
	t0 := b.d.now(end)
	if err := sc.run(ctx, start, end); err != nil {
		return err
	}
	b.s.ScanMS = b.d.now(end).Sub(t0).Milliseconds()
	b.s.Terms = int(sc.terms.Load())
	recs, err := sink.records()
	if err != nil {
		return err
	}
	b.log.Info().Int("terms", b.s.Terms).Int64("first_occurrences", sink.len()).Str("width", w.String()).
		Int("spilled_runs", len(sink.runs)).Int("requests", b.s.Requests).Msg("backfill scan done")

	p, err := newPipeline(ctx, b, newFetcher(q, b.g, b.search))
	if err != nil {
		return err
	}
	return p.close(b.plan(p, recs, scanFrom))
}

// termOrder is the order of field's values for partitioning the scan, from
// field caps over the rule's indices; nil (one partition) when it cannot be
// known.
func (b *run) termOrder(ctx context.Context, field string) (valueOrder, error) {
	if b.d.Executor.FieldCaps == nil {
		return nil, nil
	}
	specs, err := b.d.Executor.FieldCaps(ctx, b.r.Index, []string{field})
	if err != nil {
		return nil, fmt.Errorf("read the type of %s: %w", field, err)
	}
	for _, sp := range specs {
		if sp.Name == field {
			return orderFor(sp.ESTypes), nil
		}
	}
	return nil, nil
}

// plan walks the remaining slots in order: first occurrences go to the
// pipeline in batches; a slot with max_signals or more first occurrences, or
// overlapping a slot where max_signals cut alerts, is executed exactly. It
// holds at most one batch and max_signals records of one slot.
func (b *run) plan(p *pipeline, recs recordSource, scanFrom int) error {
	n := b.g.len()
	maxSignals := b.maxSignals()
	exactUntil := int64(math.MinInt64) // window end of the latest slot max_signals cut
	sr := &slotReader{src: recs}
	// Done slots (resume): assume max_signals cut the saturated ones.
	for j := scanFrom; j < b.doneIdx; j++ {
		_, count, err := sr.slot(j, 0)
		if err != nil {
			return err
		}
		if count >= maxSignals {
			exactUntil = max(exactUntil, b.g.to[j])
		}
	}
	batch := b.o.FetchBatch
	if batch <= 0 {
		batch = DefaultFetchBatch
	}
	var pending []record
	for j := b.doneIdx; j < n; j++ {
		slotRecs, count, err := sr.slot(j, maxSignals)
		if err != nil {
			return err
		}
		if count >= maxSignals || b.g.from[j] < exactUntil {
			if err := p.flush(pending, j); err != nil {
				return err
			}
			pending = nil
			res, err := p.exact(j)
			if err != nil {
				return err
			}
			if res.AlertsTruncated > 0 {
				exactUntil = max(exactUntil, b.g.to[j])
			}
			continue
		}
		pending = append(pending, slotRecs...)
		if len(pending) >= batch {
			if err := p.flush(pending, j+1); err != nil {
				return err
			}
			pending = nil
		}
	}
	return p.flush(pending, n)
}

// slotReader reads a record source slot by slot.
type slotReader struct {
	src    recordSource
	peeked *record
	end    bool
}

// slot returns the records of slot j (skipping those of earlier slots),
// keeping at most keep of them, and their count.
func (sr *slotReader) slot(j, keep int) ([]record, int, error) {
	var out []record
	count := 0
	for {
		if sr.peeked == nil && !sr.end {
			rc, ok, err := sr.src.next()
			if err != nil {
				return nil, 0, err
			}
			if !ok {
				sr.end = true
			} else {
				sr.peeked = &rc
			}
		}
		if sr.end || int(sr.peeked.slot) > j {
			return out, count, nil
		}
		if int(sr.peeked.slot) == j {
			if count < keep {
				out = append(out, *sr.peeked)
			}
			count++
		}
		sr.peeked = nil
	}
}
