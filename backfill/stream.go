package backfill

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

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

// scan streams the rule's matches in [start, end] as a composite aggregation
// over the new-terms fields plus a fixed-width date histogram, with min and
// max of the timestamp per bucket (SPEC §7), and returns the first occurrences.
// With a timestamp override and fallback (D1, scriptless), the histogram
// source is the primary field with a missing bucket (sorted first), and the
// documents without the primary field are bucketed by a date_histogram on
// @timestamp under that missing bucket; both sides are merged per term. The
// composite sorts by the term keys first, so each term's buckets arrive
// together and only one term is held at a time.
type scan struct {
	q        esquery.Query
	search   func(ctx context.Context, body []byte) (esquery.Response, error)
	g        *grid
	width    time.Duration
	pageSize int
	progress func(terms int)

	terms   int
	curID   string
	curKey  esquery.Key
	spans   []span
	records []record
}

func (s *scan) run(ctx context.Context, start, end time.Time) ([]record, error) {
	var after json.RawMessage
	for {
		body, err := s.body(start, end, after)
		if err != nil {
			return nil, err
		}
		resp, err := s.search(ctx, body)
		if err != nil && esquery.IsTooLarge(err) && s.pageSize > 1 {
			s.pageSize /= 2
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("scan matches: %w", err)
		}
		next, err := s.page(resp)
		if err != nil {
			return nil, fmt.Errorf("scan matches: %w", err)
		}
		if s.progress != nil {
			s.progress(s.terms)
		}
		if next == nil {
			s.endTerm()
			return s.records, nil
		}
		after = next
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

func (s *scan) body(start, end time.Time, after json.RawMessage) ([]byte, error) {
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
	composite := map[string]any{"sources": sources, "size": s.pageSize}
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
	filter := []any{}
	if s.q.Filter != nil {
		filter = append(filter, s.q.Filter)
	}
	filter = append(filter, s.q.RangeFilter(esquery.TimeRange{From: start, To: end}))
	if skip, ok := s.skipBefore(after); ok {
		filter = append(filter, skip)
	}
	b, err := json.Marshal(map[string]any{
		"size":             0,
		"track_total_hits": false,
		"query":            map[string]any{"bool": map[string]any{"filter": filter}},
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
	raw := key[s.q.Fields[0]]
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
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

// page consumes one composite page and returns its after_key (nil at the end).
func (s *scan) page(resp esquery.Response) (json.RawMessage, error) {
	if len(resp.Aggregations) == 0 {
		if resp.Shards == 0 {
			return nil, nil // no index matches
		}
		return nil, esquery.ErrMissingAggregations
	}
	var aggs map[string]struct {
		AfterKey json.RawMessage `json:"after_key"`
		Buckets  []scanBucket    `json:"buckets"`
	}
	if err := json.Unmarshal(resp.Aggregations, &aggs); err != nil {
		return nil, fmt.Errorf("decode aggregations: %w", err)
	}
	a, ok := aggs[esquery.AggName]
	if !ok || a.Buckets == nil {
		return nil, esquery.ErrMissingAggregations
	}
	for _, b := range a.Buckets {
		if err := s.bucket(b); err != nil {
			return nil, err
		}
	}
	// A page with fewer buckets than asked for is the last one: stopping
	// there saves the final empty page, which reads every document again.
	if len(a.Buckets) < s.pageSize || len(a.AfterKey) == 0 || string(a.AfterKey) == "null" {
		return nil, nil
	}
	return a.AfterKey, nil
}

func (s *scan) bucket(b scanBucket) error {
	key := make(esquery.Key, len(s.q.Fields))
	for i, f := range s.q.Fields {
		raw, ok := b.Key[f]
		if !ok {
			return fmt.Errorf("composite key lacks field %q", f)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&key[i]); err != nil {
			return fmt.Errorf("decode composite key: %w", err)
		}
	}
	id := esquery.KeyID(key)
	if id != s.curID {
		s.endTerm()
		s.curID, s.curKey, s.terms = id, key, s.terms+1
	}
	var start *int64
	if raw, ok := b.Key[bucketSource]; ok && string(raw) != "null" {
		var v int64
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("decode histogram key %s: %w", raw, err)
		}
		start = &v
	}
	if start != nil && b.Min.Value != nil && b.Max.Value != nil {
		s.spans = append(s.spans, span{start: *start, min: millis(*b.Min.Value), max: millis(*b.Max.Value)})
	}
	if b.Fallback != nil {
		for _, h := range b.Fallback.H.Buckets {
			if h.Min.Value != nil && h.Max.Value != nil {
				s.spans = append(s.spans, span{start: h.Key, min: millis(*h.Min.Value), max: millis(*h.Max.Value)})
			}
		}
	}
	return nil
}

func millis(v float64) int64 { return int64(math.Round(v)) }

// endTerm decides the term collected so far.
func (s *scan) endTerm() {
	if s.curKey == nil || len(s.spans) == 0 {
		s.spans = s.spans[:0]
		return
	}
	key := s.curKey
	firstOccurrences(s.g, mergeSpans(s.spans), func(slot int, x int64) {
		s.records = append(s.records, record{slot: int32(slot), x: x, key: key})
	})
	s.spans = s.spans[:0]
}
