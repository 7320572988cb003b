package esquery

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/esrule/esrule/rule"
)

// PageSize is Kibana's composite page size and terms size (PAGE_SIZE).
const PageSize = 10000

// isoMillis is moment.toISOString(): UTC with milliseconds.
const isoMillis = "2006-01-02T15:04:05.000Z"

// TimeRange is an inclusive range [From, To].
type TimeRange struct {
	From, To time.Time
}

// Query holds what every phase request of one execution shares: the
// new-terms fields, the time fields and the rule's query filter (esFilter).
type Query struct {
	Fields     []string
	Timestamps rule.Timestamps
	// Filter is the rule query as one DSL clause (Kibana's esFilter).
	Filter map[string]any
	// PageSize is the phase-1 composite page size; 0 means PageSize (10,000).
	PageSize int
}

// Key is one composite key (or single term) as the values of Query.Fields in
// field order. Values keep their JSON types: string, json.Number or bool.
type Key []any

// RangeFilter is Kibana's time filter over tr (docs/semantics.md): a range on the primary
// timestamp, or, with a secondary timestamp, a should of the primary range and
// the secondary range on documents without the primary field.
func (q Query) RangeFilter(tr TimeRange) map[string]any {
	rng := func(field string) map[string]any {
		return map[string]any{"range": map[string]any{field: map[string]any{
			"gte":    tr.From.UTC().Format(isoMillis),
			"lte":    tr.To.UTC().Format(isoMillis),
			"format": "strict_date_optional_time",
		}}}
	}
	if q.Timestamps.Secondary == "" {
		return rng(q.Timestamps.Primary)
	}
	return map[string]any{"bool": map[string]any{
		"minimum_should_match": 1,
		"should": []any{
			rng(q.Timestamps.Primary),
			map[string]any{"bool": map[string]any{"filter": []any{
				rng(q.Timestamps.Secondary),
				missing(q.Timestamps.Primary),
			}}},
		},
	}}
}

func exists(field string) map[string]any {
	return map[string]any{"exists": map[string]any{"field": field}}
}

func missing(field string) map[string]any {
	return map[string]any{"bool": map[string]any{"must_not": exists(field)}}
}

// body is the base search request (docs/semantics.md) with the given aggregations; extra
// filters are added after the rule filter and the time filter.
func (q Query) body(tr TimeRange, aggs map[string]any, extra ...any) ([]byte, error) {
	filter := make([]any, 0, 2+len(extra))
	if q.Filter != nil {
		filter = append(filter, q.Filter)
	}
	filter = append(filter, q.RangeFilter(tr))
	filter = append(filter, extra...)
	b, err := json.Marshal(map[string]any{
		"size":             0,
		"track_total_hits": false,
		"query":            map[string]any{"bool": map[string]any{"filter": filter}},
		"aggregations":     aggs,
	})
	if err != nil {
		return nil, fmt.Errorf("encode search request: %w", err)
	}
	return b, nil
}

// afterKey turns k into a composite "after" object.
func (q Query) afterKey(k Key) map[string]any {
	m := make(map[string]any, len(q.Fields))
	for i, f := range q.Fields {
		m[f] = k[i]
	}
	return m
}

func (q Query) composite(size int, after Key, sub map[string]any) map[string]any {
	sources := make([]any, len(q.Fields))
	for i, f := range q.Fields {
		sources[i] = map[string]any{f: map[string]any{"terms": map[string]any{"field": f}}}
	}
	c := map[string]any{"sources": sources, "size": size}
	if after != nil {
		c["after"] = q.afterKey(after)
	}
	agg := map[string]any{"composite": c}
	if sub != nil {
		agg["aggs"] = sub
	}
	return map[string]any{AggName: agg}
}

// AggName is the name of the main aggregation in every phase, as in Kibana.
const AggName = "new_terms"

// RecentTerms is phase 1: one composite page of the new-terms fields over the
// rule interval, after the given key (nil for the first page).
func (q Query) RecentTerms(tr TimeRange, after Key) ([]byte, error) {
	size := q.PageSize
	if size <= 0 {
		size = PageSize
	}
	return q.body(tr, q.composite(size, after, nil))
}

// firstSeenAggs are the scriptless first_seen sub-aggregations (D1): the min
// of the primary timestamp, plus, with a secondary timestamp, the min of the
// secondary timestamp over documents without the primary one.
func (q Query) firstSeenAggs() map[string]any {
	aggs := map[string]any{
		"first_seen": map[string]any{"min": map[string]any{"field": q.Timestamps.Primary}},
	}
	if q.Timestamps.Secondary != "" {
		aggs["first_seen_fallback"] = missingBucket(q.Timestamps.Primary, map[string]any{
			"first_seen": map[string]any{"min": map[string]any{"field": q.Timestamps.Secondary}},
		})
	}
	return aggs
}

func topHits(sortField string) map[string]any {
	return map[string]any{"top_hits": map[string]any{
		"size": 1,
		"sort": []any{map[string]any{sortField: map[string]any{
			"order": "asc", "unmapped_type": "date", "numeric_type": "date",
		}}},
		"_source": true,
		"fields":  []any{"*"},
	}}
}

// docAggs fetch the oldest document of a bucket: a top_hits sorted by the
// primary timestamp, or, with a secondary timestamp, one top_hits per side of
// the primary-exists split, combined in Go (D1).
func (q Query) docAggs() map[string]any {
	if q.Timestamps.Secondary == "" {
		return map[string]any{"docs": topHits(q.Timestamps.Primary)}
	}
	return map[string]any{
		"with_primary": map[string]any{
			"filter": exists(q.Timestamps.Primary),
			"aggs":   map[string]any{"docs": topHits(q.Timestamps.Primary)},
		},
		"without_primary": map[string]any{
			"filter": missing(q.Timestamps.Primary),
			"aggs":   map[string]any{"docs": topHits(q.Timestamps.Secondary)},
		},
	}
}

func (q Query) terms(include []any, sub map[string]any) map[string]any {
	if include == nil {
		include = []any{}
	}
	return map[string]any{AggName: map[string]any{
		"terms": map[string]any{"field": q.Fields[0], "size": PageSize, "include": include},
		"aggs":  sub,
	}}
}

// NewTerms is phase 2 for one field: the first_seen of each included value
// over the history window. The first_seen > from test runs in Go (D1).
func (q Query) NewTerms(history TimeRange, include []any) ([]byte, error) {
	return q.body(history, q.terms(include, q.firstSeenAggs()))
}

// DocFetch is phase 3 for one field: the oldest document of each included
// (new) value in the rule interval.
func (q Query) DocFetch(tr TimeRange, include []any) ([]byte, error) {
	return q.body(tr, q.terms(include, q.docAggs()))
}

// KeysFilter matches documents holding any of the combinations in keys: a
// bool.should of one bool.must of term clauses per combination (docs/semantics.md).
func (q Query) KeysFilter(keys []Key) map[string]any {
	should := make([]any, len(keys))
	for i, k := range keys {
		should[i] = q.keyFilter(k)
	}
	return map[string]any{"bool": map[string]any{"should": should, "minimum_should_match": 1}}
}

// keyFilter matches documents holding the combination k.
func (q Query) keyFilter(k Key) map[string]any {
	must := make([]any, len(q.Fields))
	for j, f := range q.Fields {
		must[j] = map[string]any{"term": map[string]any{f: k[j]}}
	}
	return map[string]any{"bool": map[string]any{"must": must}}
}

// HistoryComposite is phase 2 for several fields: a composite page with
// first_seen over the history window, restricted to documents holding one of
// the batch's combinations, after the given key.
func (q Query) HistoryComposite(history TimeRange, batch []Key, after Key, size int) ([]byte, error) {
	return q.body(history, q.composite(size, after, q.firstSeenAggs()), q.KeysFilter(batch))
}

// DocFetchFilters is phase 3 for several fields: the oldest document of each
// given combination in the rule interval, one filters bucket per combination
// (in the order of keys), restricted to documents holding one of them.
func (q Query) DocFetchFilters(tr TimeRange, keys []Key) ([]byte, error) {
	filters := make([]any, len(keys))
	for i, k := range keys {
		filters[i] = q.keyFilter(k)
	}
	aggs := map[string]any{AggName: map[string]any{
		"filters": map[string]any{"filters": filters},
		"aggs":    q.docAggs(),
	}}
	return q.body(tr, aggs, q.KeysFilter(keys))
}

// Coverage counts the documents matching the rule in the history window, and
// per new-terms field those that have it (D5). The counts come from nested
// missing aggregations, one per set of fields (the documents lacking all of
// them; ten times cheaper than filter aggregations on exists over millions
// of documents). DecodeCoverage turns them into the counts of
// documents holding each field and holding all fields.
func (q Query) Coverage(history TimeRange) ([]byte, error) {
	filter := []any{}
	if q.Filter != nil {
		filter = append(filter, q.Filter)
	}
	filter = append(filter, q.RangeFilter(history))
	b, err := json.Marshal(map[string]any{
		"size":             0,
		"track_total_hits": true,
		"query":            map[string]any{"bool": map[string]any{"filter": filter}},
		"aggregations":     q.missingAggs(0),
	})
	if err != nil {
		return nil, fmt.Errorf("encode coverage request: %w", err)
	}
	return b, nil
}

// missingAggs is a missing aggregation for each field from index first on,
// each with the same below it for the fields after its own: the path to a
// bucket names a set of fields, and its doc_count is the number of
// documents lacking all of them (2^n - 1 buckets for n fields, at most 7).
func (q Query) missingAggs(first int) map[string]any {
	aggs := map[string]any{}
	for i := first; i < len(q.Fields); i++ {
		aggs[missingAggName(i)] = missingBucket(q.Fields[i], q.missingAggs(i+1))
	}
	return aggs
}

// missingBucket is the bucket of the documents without field, with sub
// (if any) below it: a missing aggregation, which Elasticsearch answers from
// doc values, where a filter on must_not exists runs a query per document.
func missingBucket(field string, sub map[string]any) map[string]any {
	agg := map[string]any{"missing": map[string]any{"field": field}}
	if len(sub) > 0 {
		agg["aggs"] = sub
	}
	return agg
}

func missingAggName(i int) string { return fmt.Sprintf("missing_%d", i) }

// CoverageCounts is a decoded coverage response: of total matching
// documents, how many hold each field (in rule order) and how many hold all.
type CoverageCounts struct {
	Fields    []int64
	AllFields int64
}

// DecodeCoverage reads the missing aggregations of a Coverage response whose
// query matched total documents. A document lacks at least one field unless
// it holds all, and inclusion-exclusion over the sets of missing fields counts
// the documents lacking at least one.
func (q Query) DecodeCoverage(aggs json.RawMessage, total int64) (CoverageCounts, error) {
	out := CoverageCounts{Fields: make([]int64, len(q.Fields))}
	lackingAny := int64(0)
	var walk func(raw json.RawMessage, first, depth int) error
	walk = func(raw json.RawMessage, first, depth int) error {
		var level map[string]json.RawMessage
		if err := json.Unmarshal(raw, &level); err != nil {
			return fmt.Errorf("decode coverage aggregations: %w", err)
		}
		for i := first; i < len(q.Fields); i++ {
			name := missingAggName(i)
			var b struct {
				DocCount *int64 `json:"doc_count"`
			}
			if err := json.Unmarshal(level[name], &b); err != nil || b.DocCount == nil {
				return fmt.Errorf("%w (%s)", ErrMissingAggregations, name)
			}
			if depth == 0 {
				out.Fields[i] = total - *b.DocCount
			}
			if depth%2 == 0 {
				lackingAny += *b.DocCount
			} else {
				lackingAny -= *b.DocCount
			}
			if err := walk(level[name], i+1, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(aggs, 0, 0); err != nil {
		return CoverageCounts{}, err
	}
	out.AllFields = total - lackingAny
	return out, nil
}
