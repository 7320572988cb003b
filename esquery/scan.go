package esquery

import (
	"bytes"
	"fmt"
	"time"

	json "github.com/goccy/go-json"
)

// The requests and responses of backfill's streaming scan
// (docs/backfill.md): a composite over the new-terms fields, one bucket per
// term, with a fixed-width date_histogram of the primary timestamp below it
// and the min and max of the timestamp per histogram bucket; with a
// timestamp fallback, the documents without the primary field are bucketed
// by a date_histogram on the secondary field under a missing bucket of the
// primary field (scriptless, docs/semantics.md D1). The histogram is a sub-aggregation,
// not a composite source: the composite then has one bucket per term instead
// of one per term and histogram bucket, which Elasticsearch collects several
// times faster. And the light composite over the first field (values and
// document counts) that cuts the term space into partitions.

// Response paths the scan requests read (filter_path), for smaller responses.
var (
	ScanPaths = []string{
		"aggregations." + AggName + ".after_key",
		"aggregations." + AggName + ".buckets.key",
		"aggregations." + AggName + ".buckets.h.buckets.key",
		"aggregations." + AggName + ".buckets.h.buckets.t_min.value",
		"aggregations." + AggName + ".buckets.h.buckets.t_max.value",
		"aggregations." + AggName + ".buckets.fallback.h.buckets.key",
		"aggregations." + AggName + ".buckets.fallback.h.buckets.t_min.value",
		"aggregations." + AggName + ".buckets.fallback.h.buckets.t_max.value",
	}
	ScanTermPaths = []string{
		"aggregations." + AggName + ".after_key",
		"aggregations." + AggName + ".buckets.key",
		"aggregations." + AggName + ".buckets.doc_count",
	}
)

// Partition is a range [Lo, Hi) of the first new-terms field's values; a
// nil bound is open.
type Partition struct {
	Lo, Hi any
}

// ScanPage describes one page of a scan request.
type ScanPage struct {
	// Range is the time range scanned, inclusive.
	Range TimeRange
	// Width is the date histogram's bucket width.
	Width time.Duration
	// Partition bounds the first field's values (zero: all).
	Partition Partition
	// After is the previous page's after_key (nil: the first page).
	After json.RawMessage
	// Size is the composite page size, in terms.
	Size int
}

// ScanBody is one page of the scan.
func (q Query) ScanBody(p ScanPage) ([]byte, error) {
	ts := q.Timestamps
	sources := make([]any, 0, len(q.Fields))
	for _, f := range q.Fields {
		sources = append(sources, map[string]any{f: map[string]any{"terms": map[string]any{"field": f}}})
	}
	composite := map[string]any{"sources": sources, "size": p.Size}
	if p.After != nil {
		composite["after"] = p.After
	}
	histogram := func(field string) map[string]any {
		return map[string]any{
			"date_histogram": map[string]any{"field": field, "fixed_interval": fixedInterval(p.Width), "min_doc_count": 1},
			"aggs":           minMax(field),
		}
	}
	sub := map[string]any{"h": histogram(ts.Primary)}
	if ts.Secondary != "" {
		sub["fallback"] = missingBucket(ts.Primary, map[string]any{"h": histogram(ts.Secondary)})
	}
	b, err := json.Marshal(map[string]any{
		"size":             0,
		"track_total_hits": false,
		"query":            q.scanQuery(p.Range, p.Partition, p.After),
		"aggregations":     map[string]any{AggName: map[string]any{"composite": composite, "aggs": sub}},
	})
	if err != nil {
		return nil, fmt.Errorf("encode scan request: %w", err)
	}
	return b, nil
}

// ScanTermsBody is a page of the first field's values with their document
// counts over tr, for cutting the scan into partitions.
func (q Query) ScanTermsBody(tr TimeRange, after json.RawMessage, size int) ([]byte, error) {
	f := q.Fields[0]
	composite := map[string]any{"sources": []any{map[string]any{f: map[string]any{"terms": map[string]any{"field": f}}}}, "size": size}
	if after != nil {
		composite["after"] = after
	}
	b, err := json.Marshal(map[string]any{
		"size":             0,
		"track_total_hits": false,
		"query":            q.scanQuery(tr, Partition{}, after),
		"aggregations":     map[string]any{AggName: map[string]any{"composite": composite}},
	})
	if err != nil {
		return nil, fmt.Errorf("encode partition request: %w", err)
	}
	return b, nil
}

// scanQuery is the filter of the scan's requests: the rule's query, the time
// range, the partition's bounds and the after key's lower bound.
func (q Query) scanQuery(tr TimeRange, p Partition, after json.RawMessage) map[string]any {
	filter := []any{}
	if q.Filter != nil {
		filter = append(filter, q.Filter)
	}
	filter = append(filter, q.RangeFilter(tr))
	bounds := map[string]any{}
	if p.Lo != nil {
		bounds["gte"] = p.Lo
	}
	if p.Hi != nil {
		bounds["lt"] = p.Hi
	}
	if len(bounds) > 0 {
		filter = append(filter, map[string]any{"range": map[string]any{q.Fields[0]: bounds}})
	}
	if skip, ok := q.skipBefore(after); ok {
		filter = append(filter, skip)
	}
	return map[string]any{"bool": map[string]any{"filter": filter}}
}

// skipBefore restricts a page after the first to documents whose first
// new-terms field has a value at or after the after key's: earlier values
// cannot produce buckets after the key, and the inverted index lets
// Elasticsearch skip their documents (every composite page otherwise reads
// every matching document). A range on a keyword orders values as the
// composite does (by bytes); numbers and ips compare as values. Booleans are
// left alone.
func (q Query) skipBefore(after json.RawMessage) (map[string]any, bool) {
	if after == nil {
		return nil, false
	}
	var key map[string]json.RawMessage
	if err := json.Unmarshal(after, &key); err != nil {
		return nil, false
	}
	v, err := KeyValue(key[q.Fields[0]])
	if err != nil {
		return nil, false
	}
	switch v.(type) {
	case string, json.Number:
		return map[string]any{"range": map[string]any{q.Fields[0]: map[string]any{"gte": v}}}, true
	}
	return nil, false
}

// fixedInterval spells a histogram width for Elasticsearch.
func fixedInterval(w time.Duration) string {
	switch {
	case w%time.Minute == 0:
		return fmt.Sprintf("%dm", w/time.Minute)
	case w%time.Second == 0:
		return fmt.Sprintf("%ds", w/time.Second)
	default:
		return fmt.Sprintf("%dms", w.Milliseconds())
	}
}

func minMax(field string) map[string]any {
	return map[string]any{
		"t_min": map[string]any{"min": map[string]any{"field": field}},
		"t_max": map[string]any{"max": map[string]any{"field": field}},
	}
}

// ValueAgg is a min or max sub-aggregation's value (nil when no document).
type ValueAgg struct {
	Value *float64 `json:"value"`
}

// HistogramBucket is one date_histogram bucket of a scan page: its start
// and the min and max of the timestamp in it (epoch ms).
type HistogramBucket struct {
	Key int64    `json:"key"`
	Min ValueAgg `json:"t_min"`
	Max ValueAgg `json:"t_max"`
}

// Histogram is a scan page's date_histogram below a term.
type Histogram struct {
	Buckets []HistogramBucket `json:"buckets"`
}

// ScanBucket is one term of a scan page: its histogram on the primary
// timestamp and, with a fallback, on the secondary one for the documents
// without the primary field.
type ScanBucket struct {
	Key      map[string]json.RawMessage `json:"key"`
	H        Histogram                  `json:"h"`
	Fallback *struct {
		H Histogram `json:"h"`
	} `json:"fallback"`
}

// ScanResult is a decoded scan page.
type ScanResult struct {
	AfterKey json.RawMessage `json:"after_key"`
	Buckets  []ScanBucket    `json:"buckets"`
}

// TermCount is one first-field value of a partitioning page. Its key is
// kept raw (FirstValue reads it): most values are only counted, and a page
// holds tens of thousands.
type TermCount struct {
	Key      json.RawMessage `json:"key"`
	DocCount int64           `json:"doc_count"`
}

// FirstValue decodes the value of field in the key object of a partitioning
// bucket.
func (t TermCount) FirstValue(field string) (any, error) {
	var key map[string]json.RawMessage
	if err := json.Unmarshal(t.Key, &key); err != nil {
		return nil, fmt.Errorf("decode composite key %s: %w", t.Key, err)
	}
	raw, ok := key[field]
	if !ok {
		return nil, fmt.Errorf("composite key %s lacks field %q", t.Key, field)
	}
	return KeyValue(raw)
}

// TermCounts is a decoded partitioning page.
type TermCounts struct {
	AfterKey json.RawMessage `json:"after_key"`
	Buckets  []TermCount     `json:"buckets"`
}

// Last reports whether a page of size asked buckets was the last one.
func lastPage(after json.RawMessage, n, size int) bool {
	return n < size || len(after) == 0 || string(after) == "null"
}

// Last reports whether the page is the last of a request of size buckets:
// fewer buckets than asked for, or no after key.
func (r ScanResult) Last(size int) bool { return lastPage(r.AfterKey, len(r.Buckets), size) }

// Last reports whether the page is the last of a request of size buckets.
func (r TermCounts) Last(size int) bool { return lastPage(r.AfterKey, len(r.Buckets), size) }

// DecodeScan decodes a (filtered) scan page; an absent aggregation
// (filter_path drops empty ones) is an empty page.
func DecodeScan(resp Response) (ScanResult, error) {
	var r ScanResult
	return r, decodeMainAgg(resp, &r)
}

// DecodeScanTerms decodes a (filtered) partitioning page.
func DecodeScanTerms(resp Response) (TermCounts, error) {
	var r TermCounts
	return r, decodeMainAgg(resp, &r)
}

func decodeMainAgg(resp Response, v any) error {
	if len(resp.Aggregations) == 0 {
		return nil
	}
	var aggs map[string]json.RawMessage
	if err := json.Unmarshal(resp.Aggregations, &aggs); err != nil {
		return fmt.Errorf("decode aggregations: %w", err)
	}
	raw, ok := aggs[AggName]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode aggregations: %w", err)
	}
	return nil
}

// KeyValue decodes one composite key value: a string, a json.Number, a bool
// or nil. Plain strings and numbers, nearly all keys, skip the decoder.
func KeyValue(raw json.RawMessage) (any, error) {
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

// KeyWindow is a term and the time range its oldest document is looked
// for in.
type KeyWindow struct {
	Key    Key
	Window TimeRange
}

// DocFetchWindows is phase 3 for first occurrences of several slots at once
// (backfill): one filters bucket per item, each restricted to its own window,
// with the executor's document sub-aggregations, so that the same document
// is chosen; the query covers the union of the windows and the items' terms.
func (q Query) DocFetchWindows(items []KeyWindow) ([]byte, error) {
	filters := make([]any, len(items))
	keys := make([]Key, 0, len(items))
	seen := map[string]bool{}
	span := items[0].Window
	for i, it := range items {
		filters[i] = map[string]any{"bool": map[string]any{"filter": []any{
			q.KeysFilter([]Key{it.Key}),
			q.RangeFilter(it.Window),
		}}}
		if id := KeyID(it.Key); !seen[id] {
			seen[id] = true
			keys = append(keys, it.Key)
		}
		if it.Window.From.Before(span.From) {
			span.From = it.Window.From
		}
		if it.Window.To.After(span.To) {
			span.To = it.Window.To
		}
	}
	aggs := map[string]any{AggName: map[string]any{
		"filters": map[string]any{"filters": filters},
		"aggs":    q.docAggs(),
	}}
	return q.body(span, aggs, q.KeysFilter(keys))
}
