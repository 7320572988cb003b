package backfill

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/esrule/esrule/esquery"
)

// fetcher gets the alert document of first-occurrence records: for each, the
// oldest document holding its term in its slot's rule interval [from, to],
// with the executor's phase-3 sub-aggregations (one filters bucket per record,
// each restricted to its own slot's window), so records of several slots share
// one request.
type fetcher struct {
	q      esquery.Query
	g      *grid
	search func(ctx context.Context, body []byte) (esquery.Response, error)
}

func newFetcher(q esquery.Query, g *grid, search func(context.Context, []byte) (esquery.Response, error)) *fetcher {
	return &fetcher{q: q, g: g, search: search}
}

func (f *fetcher) window(j int) esquery.TimeRange {
	return esquery.TimeRange{From: time.UnixMilli(f.g.from[j]).UTC(), To: time.UnixMilli(f.g.to[j]).UTC()}
}

// fetch returns the document of each record (nil where none was found), in
// order, halving the request on too-large responses (docs/semantics.md D6).
// A single-field rule's records are fetched with the executor's own phase 3
// (a terms aggregation, docs/backfill.md); several fields need one filters
// bucket per record.
func (f *fetcher) fetch(ctx context.Context, recs []record) ([]*esquery.TopHit, error) {
	if len(f.q.Fields) == 1 {
		return f.fetchTerms(ctx, recs)
	}
	return f.fetchWindows(ctx, recs)
}

// fetchWindows fetches with one filters bucket per record, each restricted
// to its record's term and slot window.
func (f *fetcher) fetchWindows(ctx context.Context, recs []record) ([]*esquery.TopHit, error) {
	out := make([]*esquery.TopHit, 0, len(recs))
	size := len(recs)
	for i := 0; i < len(recs); {
		n := min(size, len(recs)-i)
		hits, err := f.fetchOnce(ctx, recs[i:i+n])
		if err != nil && n > 1 && errors.Is(err, esquery.ErrTooLarge) {
			size = n / 2
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, hits...)
		i += n
	}
	return out, nil
}

func (f *fetcher) fetchOnce(ctx context.Context, recs []record) ([]*esquery.TopHit, error) {
	items := make([]esquery.KeyWindow, len(recs))
	for i, rc := range recs {
		items[i] = esquery.KeyWindow{Key: rc.key, Window: f.window(int(rc.slot))}
	}
	body, err := f.q.DocFetchWindows(items)
	if err != nil {
		return nil, err
	}
	resp, err := f.search(ctx, body)
	if err != nil {
		return nil, fmt.Errorf("fetch alert documents: %w", err)
	}
	buckets, err := f.q.DecodeFilters(resp)
	if err != nil {
		return nil, fmt.Errorf("fetch alert documents: %w", err)
	}
	if len(buckets) != len(recs) {
		return nil, fmt.Errorf("fetch alert documents: %d buckets for %d first occurrences", len(buckets), len(recs))
	}
	out := make([]*esquery.TopHit, len(recs))
	for i, b := range buckets {
		out[i] = b.Doc
	}
	return out, nil
}

// A single-field record's document by the executor's phase 3 over a range
// shared by several records. For a record (term v, slot j, x), x is the
// earliest occurrence of v in slot j's window, and v does not occur in
// [historyStart_j, x) (docs/backfill.md, the first-occurrence rule). Over
// any range [lo, hi] with historyStart_j <= lo <= x <= to_j <= hi, the
// phase-3 sub-aggregations of v's terms bucket (the oldest document on each
// side of the timestamp fallback, the earlier winning) then choose the same
// document as over slot j's window: the side holding x has the same oldest
// document (the documents at x, in the same order), and the other side's
// oldest, if it differs, is later than x and loses in both. So the records
// of a batch are grouped into requests, each with distinct terms, over
// [min x - 1ms, max to] (the millisecond below x covers a rounded minimum of
// a date_nanos field), as long as no record's history start exceeds the
// range's start.

// termGroup is the records of one request: their indices and range.
type termGroup struct {
	idx    []int
	lo, hi int64
}

// termGroups splits recs (in slot order) into requests.
func (f *fetcher) termGroups(recs []record) []termGroup {
	var out []termGroup
	var cur termGroup
	var maxHistory int64
	seen := map[string]bool{}
	for i, rc := range recs {
		j := int(rc.slot)
		id := esquery.ValueID(rc.key[0])
		lo, hist := rc.x-1, f.g.history[j]
		if len(cur.idx) > 0 {
			lo, hist = min(lo, cur.lo), max(hist, maxHistory)
		}
		if len(cur.idx) > 0 && (seen[id] || hist > lo || len(cur.idx) >= esquery.PageSize) {
			out = append(out, cur)
			cur, seen = termGroup{}, map[string]bool{}
			lo, hist = rc.x-1, f.g.history[j]
		}
		seen[id] = true
		cur.idx = append(cur.idx, i)
		cur.lo, cur.hi, maxHistory = lo, max(cur.hi, f.g.to[j]), hist
	}
	if len(cur.idx) > 0 {
		out = append(out, cur)
	}
	return out
}

func (f *fetcher) fetchTerms(ctx context.Context, recs []record) ([]*esquery.TopHit, error) {
	out := make([]*esquery.TopHit, len(recs))
	for _, grp := range f.termGroups(recs) {
		if err := f.fetchGroup(ctx, recs, grp, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fetchGroup fetches one group's documents into out, halving the group on
// too-large responses (docs/semantics.md D6).
func (f *fetcher) fetchGroup(ctx context.Context, recs []record, grp termGroup, out []*esquery.TopHit) error {
	include := make([]any, len(grp.idx))
	byID := make(map[string]int, len(grp.idx))
	for k, i := range grp.idx {
		include[k] = recs[i].key[0]
		byID[esquery.ValueID(recs[i].key[0])] = i
	}
	tr := esquery.TimeRange{From: time.UnixMilli(grp.lo).UTC(), To: time.UnixMilli(grp.hi).UTC()}
	body, err := f.q.DocFetch(tr, include)
	if err != nil {
		return err
	}
	resp, err := f.search(ctx, body)
	if err != nil && len(grp.idx) > 1 && errors.Is(err, esquery.ErrTooLarge) {
		half := len(grp.idx) / 2
		for _, part := range [][]int{grp.idx[:half], grp.idx[half:]} {
			if err := f.fetchGroup(ctx, recs, termGroup{idx: part, lo: grp.lo, hi: grp.hi}, out); err != nil {
				return err
			}
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("fetch alert documents: %w", err)
	}
	buckets, err := f.q.DecodeTerms(resp)
	if err != nil {
		return fmt.Errorf("fetch alert documents: %w", err)
	}
	for _, b := range buckets {
		for _, id := range esquery.TermsBucketIDs(b) {
			if i, ok := byID[id]; ok {
				out[i] = b.Doc
				break
			}
		}
	}
	return nil
}
