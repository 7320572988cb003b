package backfill

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"

	"github.com/esrule/esrule/esquery"
)

// record is one first occurrence: the term (key) is new in slot Slot with its
// earliest document at X (epoch ms).
type record struct {
	slot int32
	x    int64
	key  esquery.Key
}

// searchFunc runs one search; paths, when set, cut the response to those
// paths (filter_path) besides the envelope the fail-closed checks read.
type searchFunc func(ctx context.Context, body []byte, paths []string) (esquery.Response, error)

// scan streams the rule's matches in [start, end] as a composite aggregation
// over the new-terms fields, one bucket per term, with a fixed-width date
// histogram below each term and the min and max of the timestamp per
// histogram bucket (docs/backfill.md), and returns the first occurrences. With a
// timestamp override and fallback (docs/semantics.md D1, scriptless), the documents without
// the primary field are bucketed by a date_histogram on @timestamp under a
// missing bucket; both sides of a term are merged before deciding.
//
// With workers > 1 the term space is cut into partitions, ranges of the first
// field's values each about one page of buckets, found by a light composite
// over that field alone (values and document counts); the partitions are
// scanned concurrently, each reading only its own documents, and their
// records are joined in partition order, which is the sequential scan's order.
type scan struct {
	q        esquery.Query
	search   searchFunc
	g        *grid
	width    time.Duration
	pageSize int
	// workers > 1 scans partitions concurrently; order (nil: one partition)
	// is the composite's order of the first field's values.
	workers  int
	order    valueOrder
	progress func(terms int)
	// sink receives the first occurrences, each partition's in its order.
	sink *sorter

	terms atomic.Int64
}

// partition is a range of the first new-terms field's values, the index-th.
type partition struct {
	index int
	esquery.Partition
}

func (s *scan) run(ctx context.Context, start, end time.Time) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	parts := make(chan partition)
	var wg sync.WaitGroup
	for range max(s.workers, 1) {
		wg.Go(func() {
			for p := range parts {
				if err := s.scanPartition(ctx, start, end, p); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	err := s.partitions(ctx, start, end, func(p partition) error {
		select {
		case parts <- p:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	close(parts)
	wg.Wait()
	if err == nil {
		err = context.Cause(ctx)
	}
	return err
}

// partitions emits the partitions of [start, end] in order: one open
// partition with one worker, else ranges found by enumerating the first
// field's values.
func (s *scan) partitions(ctx context.Context, start, end time.Time, emit func(partition) error) error {
	if s.workers <= 1 || s.order == nil {
		return emit(partition{})
	}
	field := s.q.Fields[0]
	// The most histogram buckets one value can fill in a partition's page:
	// every histogram bucket of the range (on each side with a fallback);
	// with several fields, one per document at most. Each term adds its own
	// bucket (and the fallback's missing bucket).
	perValue := int64(math.MaxInt64)
	if len(s.q.Fields) == 1 {
		perValue = s.histogramBuckets(start, end)
	}
	overhead := s.termBuckets()
	cur := partition{}
	var weight int64
	size := 2 * s.pageSize
	var after json.RawMessage
	for {
		body, err := s.q.ScanTermsBody(esquery.TimeRange{From: start, To: end}, after, size)
		if err != nil {
			return err
		}
		resp, err := s.search(ctx, body, esquery.ScanTermPaths)
		if err != nil && errors.Is(err, esquery.ErrTooLarge) && size > 1 {
			size /= 2
			continue
		}
		if err != nil {
			return fmt.Errorf("partition matches: %w", err)
		}
		page, err := esquery.DecodeScanTerms(resp)
		if err != nil {
			return fmt.Errorf("partition matches: %w", err)
		}
		for _, b := range page.Buckets {
			n := min(b.DocCount, perValue) + overhead
			if weight > 0 && weight+n > int64(s.pageSize) {
				v, err := b.FirstValue(field)
				if err != nil {
					return fmt.Errorf("partition matches: %w", err)
				}
				if _, isBool := v.(bool); !isBool { // no range on booleans: never a boundary
					cur.Hi = v
					if err := emit(cur); err != nil {
						return err
					}
					cur, weight = partition{index: cur.index + 1, Partition: esquery.Partition{Lo: v}}, 0
				}
			}
			weight += n
		}
		if page.Last(size) {
			return emit(cur)
		}
		after = page.AfterKey
	}
}

// histogramBuckets is the most histogram buckets one term can have over
// [start, end]: one per histogram bucket of the range, on each side with a
// fallback.
func (s *scan) histogramBuckets(start, end time.Time) int64 {
	w := s.width.Milliseconds()
	n := end.UnixMilli()/w - start.UnixMilli()/w + 1
	if s.q.Timestamps.Secondary != "" {
		n *= 2
	}
	return n
}

// termBuckets is the buckets every term has besides its histogram buckets:
// its own and, with a fallback, the missing bucket.
func (s *scan) termBuckets() int64 {
	if s.q.Timestamps.Secondary != "" {
		return 2
	}
	return 1
}

// typicalHistogramBuckets bounds the histogram buckets per term assumed when
// sizing an unpartitioned page; a term with more makes the page too large
// for search.max_buckets, and the page is halved.
const typicalHistogramBuckets = 8

// termsPerPage is the composite size, in terms, of partition p's pages: a
// partition holds about pageSize buckets, so one page of pageSize terms
// reads it whole; the one open partition (no partitioning) gets pages of
// about pageSize buckets.
func (s *scan) termsPerPage(start, end time.Time, p partition) int {
	if p.Lo != nil || p.Hi != nil {
		return s.pageSize
	}
	per := s.termBuckets() + min(s.histogramBuckets(start, end), typicalHistogramBuckets)
	return max(1, s.pageSize/int(per))
}

// scanPartition pages through the composite over partition p and passes
// its records to the sink page by page.
func (s *scan) scanPartition(ctx context.Context, start, end time.Time, p partition) error {
	c := &collector{g: s.g, fields: s.q.Fields, part: p, order: s.order}
	pageSize := s.termsPerPage(start, end, p)
	var after json.RawMessage
	var seq int64 // of the partition's next record
	for {
		body, err := s.q.ScanBody(esquery.ScanPage{
			Range: esquery.TimeRange{From: start, To: end}, Width: s.width, Partition: p.Partition, After: after, Size: pageSize,
		})
		if err != nil {
			return err
		}
		resp, err := s.search(ctx, body, esquery.ScanPaths)
		if err != nil && errors.Is(err, esquery.ErrTooLarge) && pageSize > 1 {
			pageSize /= 2
			continue
		}
		if err != nil {
			return fmt.Errorf("scan matches: %w", err)
		}
		page, err := esquery.DecodeScan(resp)
		if err != nil {
			return fmt.Errorf("scan matches: %w", err)
		}
		terms := c.terms
		for _, b := range page.Buckets {
			if err := c.bucket(b); err != nil {
				return fmt.Errorf("scan matches: %w", err)
			}
			if c.beyond {
				break
			}
		}
		total := s.terms.Add(int64(c.terms - terms))
		if s.progress != nil {
			s.progress(int(total))
		}
		// A page with fewer buckets than asked for is the last one: stopping
		// there saves the final empty page.
		last := c.beyond || page.Last(pageSize)
		if last {
			c.endTerm()
		}
		if err := s.sink.add(p.index, seq, c.records); err != nil {
			return err
		}
		seq += int64(len(c.records))
		clear(c.records)
		c.records = c.records[:0]
		if last {
			return nil
		}
		after = page.AfterKey
	}
}

// collector turns one partition's composite buckets, in composite order,
// into first-occurrence records, holding one term at a time. A document
// with several values of the first field matches the range of every
// partition holding one of them, so the composite also returns terms of
// other partitions: those below the range are skipped (their own partition
// sees all their documents), and the first one above it ends the partition.
type collector struct {
	g      *grid
	fields []string
	part   partition
	order  valueOrder

	terms   int
	curID   string
	curKey  esquery.Key
	skip    bool // the current term is below the partition
	beyond  bool // a term above the partition was reached
	spans   []span
	records []record
}

// place reports where v, a first-field value, falls: below, in or above
// the partition.
func (c *collector) place(v any) (int, error) {
	if c.order == nil {
		return 0, nil
	}
	if c.part.Lo != nil {
		n, ok := c.order(v, c.part.Lo)
		if !ok {
			return 0, fmt.Errorf("composite key %v does not compare with partition bound %v", v, c.part.Lo)
		}
		if n < 0 {
			return -1, nil
		}
	}
	if c.part.Hi != nil {
		n, ok := c.order(v, c.part.Hi)
		if !ok {
			return 0, fmt.Errorf("composite key %v does not compare with partition bound %v", v, c.part.Hi)
		}
		if n >= 0 {
			return 1, nil
		}
	}
	return 0, nil
}

func (c *collector) bucket(b esquery.ScanBucket) error {
	var id []byte
	for _, f := range c.fields {
		raw, ok := b.Key[f]
		if !ok {
			return fmt.Errorf("composite key lacks field %q", f)
		}
		id = append(append(id, raw...), 0)
	}
	if string(id) != c.curID {
		key := make(esquery.Key, len(c.fields))
		for i, f := range c.fields {
			v, err := esquery.KeyValue(b.Key[f])
			if err != nil {
				return err
			}
			key[i] = v
		}
		c.endTerm()
		where, err := c.place(key[0])
		if err != nil {
			return err
		}
		if where > 0 {
			c.beyond = true
			return nil
		}
		c.curID, c.curKey, c.skip = string(id), key, where < 0
		if !c.skip {
			c.terms++
		}
	}
	if c.skip {
		return nil
	}
	c.histogram(b.H)
	if b.Fallback != nil {
		c.histogram(b.Fallback.H)
	}
	return nil
}

// histogram adds the spans of h's buckets to the current term.
func (c *collector) histogram(h esquery.Histogram) {
	for _, hb := range h.Buckets {
		if hb.Min.Value != nil && hb.Max.Value != nil {
			c.spans = append(c.spans, span{start: hb.Key, min: millis(*hb.Min.Value), max: millis(*hb.Max.Value)})
		}
	}
}

func millis(v float64) int64 { return int64(math.Round(v)) }

// endTerm decides the term collected so far.
func (c *collector) endTerm() {
	if c.curKey == nil || c.skip || len(c.spans) == 0 {
		c.spans = c.spans[:0]
		return
	}
	key := c.curKey
	firstOccurrences(c.g, mergeSpans(c.spans), func(slot int, x int64) {
		c.records = append(c.records, record{slot: int32(slot), x: x, key: key})
	})
	c.spans = c.spans[:0]
}
