package backfill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"

	"github.com/esrule/esrule/esquery"
)

// bucketSource is the composite source name of the date histogram.
const bucketSource = "esrule_bucket"

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
// over the new-terms fields plus a fixed-width date histogram, with min and
// max of the timestamp per bucket (SPEC §7), and returns the first occurrences.
// With a timestamp override and fallback (D1, scriptless), the histogram
// source is the primary field with a missing bucket (sorted first), and the
// documents without the primary field are bucketed by a date_histogram on
// @timestamp under that missing bucket; both sides are merged per term. The
// composite sorts by the term keys first, so each term's buckets arrive
// together and only one term is held at a time.
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

	terms atomic.Int64
}

// partition is a range [lo, hi) of the first new-terms field's values; a nil
// bound is open.
type partition struct {
	index  int
	lo, hi any
}

// Response paths the scan reads (filter_path), for smaller responses.
var (
	scanPaths = []string{
		"aggregations." + esquery.AggName + ".after_key",
		"aggregations." + esquery.AggName + ".buckets.key",
		"aggregations." + esquery.AggName + ".buckets.t_min.value",
		"aggregations." + esquery.AggName + ".buckets.t_max.value",
		"aggregations." + esquery.AggName + ".buckets.fallback.h.buckets.key",
		"aggregations." + esquery.AggName + ".buckets.fallback.h.buckets.t_min.value",
		"aggregations." + esquery.AggName + ".buckets.fallback.h.buckets.t_max.value",
	}
	termPaths = []string{
		"aggregations." + esquery.AggName + ".after_key",
		"aggregations." + esquery.AggName + ".buckets.key",
		"aggregations." + esquery.AggName + ".buckets.doc_count",
	}
)

func (s *scan) run(ctx context.Context, start, end time.Time) ([]record, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	parts := make(chan partition)
	var (
		mu      sync.Mutex
		results [][]record
		wg      sync.WaitGroup
	)
	fail := func(err error) { cancel(err) }
	for range max(s.workers, 1) {
		wg.Go(func() {
			for p := range parts {
				recs, err := s.scanPartition(ctx, start, end, p)
				if err != nil {
					fail(err)
					return
				}
				mu.Lock()
				for len(results) <= p.index {
					results = append(results, nil)
				}
				results[p.index] = recs
				mu.Unlock()
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
	if err != nil {
		return nil, err
	}
	var out []record
	for _, recs := range results {
		out = append(out, recs...)
	}
	return out, nil
}

// partitions emits the partitions of [start, end] in order: one open
// partition with one worker, else ranges found by enumerating the first
// field's values.
func (s *scan) partitions(ctx context.Context, start, end time.Time, emit func(partition) error) error {
	if s.workers <= 1 || s.order == nil {
		return emit(partition{})
	}
	field := s.q.Fields[0]
	// The most buckets one value can fill in a partition's page: one per
	// histogram bucket (and the missing bucket); with several fields, one per
	// document at most.
	w := s.width.Milliseconds()
	perValue := int64(math.MaxInt64)
	if len(s.q.Fields) == 1 {
		perValue = end.UnixMilli()/w - start.UnixMilli()/w + 2
	}
	cur := partition{}
	var weight int64
	size := 2 * s.pageSize
	var after json.RawMessage
	for {
		body, err := s.termsBody(start, end, after, size)
		if err != nil {
			return err
		}
		resp, err := s.search(ctx, body, termPaths)
		if err != nil && errors.Is(err, esquery.ErrTooLarge) && size > 1 {
			size /= 2
			continue
		}
		if err != nil {
			return fmt.Errorf("partition matches: %w", err)
		}
		var page struct {
			AfterKey json.RawMessage `json:"after_key"`
			Buckets  []struct {
				Key      map[string]json.RawMessage `json:"key"`
				DocCount int64                      `json:"doc_count"`
			} `json:"buckets"`
		}
		if err := decodeAgg(resp, &page); err != nil {
			return fmt.Errorf("partition matches: %w", err)
		}
		for _, b := range page.Buckets {
			v, err := decodeValue(b.Key[field])
			if err != nil {
				return fmt.Errorf("partition matches: %w", err)
			}
			if _, isBool := v.(bool); isBool {
				continue // no range on booleans: never a boundary
			}
			n := min(b.DocCount, perValue)
			if weight > 0 && weight+n > int64(s.pageSize) {
				cur.hi = v
				if err := emit(cur); err != nil {
					return err
				}
				cur, weight = partition{index: cur.index + 1, lo: v}, 0
			}
			weight += n
		}
		if len(page.Buckets) < size || len(page.AfterKey) == 0 || string(page.AfterKey) == "null" {
			return emit(cur)
		}
		after = page.AfterKey
	}
}

// decodeAgg decodes the scan aggregation of a filtered response into v; an
// absent aggregation (filter_path drops empty ones) leaves v empty.
func decodeAgg(resp esquery.Response, v any) error {
	if len(resp.Aggregations) == 0 {
		return nil
	}
	var aggs map[string]json.RawMessage
	if err := json.Unmarshal(resp.Aggregations, &aggs); err != nil {
		return fmt.Errorf("decode aggregations: %w", err)
	}
	raw, ok := aggs[esquery.AggName]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode aggregations: %w", err)
	}
	return nil
}

// scanPartition pages through the composite over partition p.
func (s *scan) scanPartition(ctx context.Context, start, end time.Time, p partition) ([]record, error) {
	c := &collector{g: s.g, fields: s.q.Fields, part: p, order: s.order}
	pageSize := s.pageSize
	var after json.RawMessage
	for {
		body, err := s.body(start, end, p, after, pageSize)
		if err != nil {
			return nil, err
		}
		resp, err := s.search(ctx, body, scanPaths)
		if err != nil && errors.Is(err, esquery.ErrTooLarge) && pageSize > 1 {
			pageSize /= 2
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("scan matches: %w", err)
		}
		var page struct {
			AfterKey json.RawMessage `json:"after_key"`
			Buckets  []scanBucket    `json:"buckets"`
		}
		if err := decodeAgg(resp, &page); err != nil {
			return nil, fmt.Errorf("scan matches: %w", err)
		}
		terms := c.terms
		for _, b := range page.Buckets {
			if err := c.bucket(b); err != nil {
				return nil, fmt.Errorf("scan matches: %w", err)
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
		if c.beyond || len(page.Buckets) < pageSize || len(page.AfterKey) == 0 || string(page.AfterKey) == "null" {
			c.endTerm()
			return c.records, nil
		}
		after = page.AfterKey
	}
}

func (s *scan) interval() string {
	switch w := s.width; {
	case w%time.Minute == 0:
		return fmt.Sprintf("%dm", w/time.Minute)
	case w%time.Second == 0:
		return fmt.Sprintf("%ds", w/time.Second)
	default:
		return fmt.Sprintf("%dms", w.Milliseconds())
	}
}

// query is the filter of the scan's requests: the rule's query, the time
// range, partition p's bounds and the after key's lower bound.
func (s *scan) query(start, end time.Time, p partition, after json.RawMessage) map[string]any {
	filter := []any{}
	if s.q.Filter != nil {
		filter = append(filter, s.q.Filter)
	}
	filter = append(filter, s.q.RangeFilter(esquery.TimeRange{From: start, To: end}))
	bounds := map[string]any{}
	if p.lo != nil {
		bounds["gte"] = p.lo
	}
	if p.hi != nil {
		bounds["lt"] = p.hi
	}
	if len(bounds) > 0 {
		filter = append(filter, map[string]any{"range": map[string]any{s.q.Fields[0]: bounds}})
	}
	if skip, ok := s.skipBefore(after); ok {
		filter = append(filter, skip)
	}
	return map[string]any{"bool": map[string]any{"filter": filter}}
}

// termsBody is a page of the first field's values with their document counts.
func (s *scan) termsBody(start, end time.Time, after json.RawMessage, size int) ([]byte, error) {
	f := s.q.Fields[0]
	composite := map[string]any{"sources": []any{map[string]any{f: map[string]any{"terms": map[string]any{"field": f}}}}, "size": size}
	if after != nil {
		composite["after"] = after
	}
	b, err := json.Marshal(map[string]any{
		"size":             0,
		"track_total_hits": false,
		"query":            s.query(start, end, partition{}, after),
		"aggregations":     map[string]any{esquery.AggName: map[string]any{"composite": composite}},
	})
	if err != nil {
		return nil, fmt.Errorf("encode partition request: %w", err)
	}
	return b, nil
}

func (s *scan) body(start, end time.Time, p partition, after json.RawMessage, size int) ([]byte, error) {
	ts := s.q.Timestamps
	sources := make([]any, 0, len(s.q.Fields)+1)
	for _, f := range s.q.Fields {
		sources = append(sources, map[string]any{f: map[string]any{"terms": map[string]any{"field": f}}})
	}
	hist := map[string]any{"field": ts.Primary, "fixed_interval": s.interval()}
	if ts.Secondary != "" {
		hist["missing_bucket"] = true
		hist["missing_order"] = "first"
	}
	sources = append(sources, map[string]any{bucketSource: map[string]any{"date_histogram": hist}})
	composite := map[string]any{"sources": sources, "size": size}
	if after != nil {
		composite["after"] = after
	}
	sub := minMax(ts.Primary)
	if ts.Secondary != "" {
		sub["fallback"] = map[string]any{
			"filter": map[string]any{"bool": map[string]any{"must_not": map[string]any{"exists": map[string]any{"field": ts.Primary}}}},
			"aggs": map[string]any{"h": map[string]any{
				"date_histogram": map[string]any{"field": ts.Secondary, "fixed_interval": s.interval(), "min_doc_count": 1},
				"aggs":           minMax(ts.Secondary),
			}},
		}
	}
	b, err := json.Marshal(map[string]any{
		"size":             0,
		"track_total_hits": false,
		"query":            s.query(start, end, p, after),
		"aggregations":     map[string]any{esquery.AggName: map[string]any{"composite": composite, "aggs": sub}},
	})
	if err != nil {
		return nil, fmt.Errorf("encode scan request: %w", err)
	}
	return b, nil
}

// skipBefore restricts a page after the first to documents whose first
// new-terms field has a value at or after the after key's: earlier values
// cannot produce buckets after the key, and the inverted index lets
// Elasticsearch skip their documents (every composite page otherwise reads
// every matching document). A range on a keyword orders values as the
// composite does (by bytes); numbers and ips compare as values. Booleans are
// left alone.
func (s *scan) skipBefore(after json.RawMessage) (map[string]any, bool) {
	if after == nil {
		return nil, false
	}
	var key map[string]json.RawMessage
	if err := json.Unmarshal(after, &key); err != nil {
		return nil, false
	}
	v, err := decodeValue(key[s.q.Fields[0]])
	if err != nil {
		return nil, false
	}
	switch v.(type) {
	case string, json.Number:
		return map[string]any{"range": map[string]any{s.q.Fields[0]: map[string]any{"gte": v}}}, true
	}
	return nil, false
}

func minMax(field string) map[string]any {
	return map[string]any{
		"t_min": map[string]any{"min": map[string]any{"field": field}},
		"t_max": map[string]any{"max": map[string]any{"field": field}},
	}
}

type valueAgg struct {
	Value *float64 `json:"value"`
}

type scanBucket struct {
	Key      map[string]json.RawMessage `json:"key"`
	Min      valueAgg                   `json:"t_min"`
	Max      valueAgg                   `json:"t_max"`
	Fallback *struct {
		H struct {
			Buckets []struct {
				Key int64    `json:"key"`
				Min valueAgg `json:"t_min"`
				Max valueAgg `json:"t_max"`
			} `json:"buckets"`
		} `json:"h"`
	} `json:"fallback"`
}

// decodeValue decodes one composite key value: a string, a json.Number, a
// bool or nil. Plain strings and numbers, nearly all keys, skip the decoder.
func decodeValue(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("decode composite key: empty value")
	}
	switch c := raw[0]; {
	case c == '"' && len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0:
		return string(raw[1 : len(raw)-1]), nil
	case c == '-' || c >= '0' && c <= '9':
		return json.Number(raw), nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode composite key %s: %w", raw, err)
	}
	return v, nil
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
	if c.part.lo != nil {
		n, ok := c.order(v, c.part.lo)
		if !ok {
			return 0, fmt.Errorf("composite key %v does not compare with partition bound %v", v, c.part.lo)
		}
		if n < 0 {
			return -1, nil
		}
	}
	if c.part.hi != nil {
		n, ok := c.order(v, c.part.hi)
		if !ok {
			return 0, fmt.Errorf("composite key %v does not compare with partition bound %v", v, c.part.hi)
		}
		if n >= 0 {
			return 1, nil
		}
	}
	return 0, nil
}

func (c *collector) bucket(b scanBucket) error {
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
			v, err := decodeValue(b.Key[f])
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
	if raw, ok := b.Key[bucketSource]; ok && string(raw) != "null" {
		start, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return fmt.Errorf("decode histogram key %s: %w", raw, err)
		}
		if b.Min.Value != nil && b.Max.Value != nil {
			c.spans = append(c.spans, span{start: start, min: millis(*b.Min.Value), max: millis(*b.Max.Value)})
		}
	}
	if b.Fallback != nil {
		for _, h := range b.Fallback.H.Buckets {
			if h.Min.Value != nil && h.Max.Value != nil {
				c.spans = append(c.spans, span{start: h.Key, min: millis(*h.Min.Value), max: millis(*h.Max.Value)})
			}
		}
	}
	return nil
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
