package backfill

import (
	"context"
	"errors"
	"fmt"
	"time"

	json "github.com/goccy/go-json"

	"github.com/esrule/esrule/esquery"
)

// fetcher gets the alert document of first-occurrence records: for each, the
// oldest document holding its term in its slot's rule interval [from, to],
// with the executor's phase-3 sub-aggregations (one filters bucket per record,
// each restricted to its own slot's window), so records of several slots share
// one request.
type fetcher struct {
	q       esquery.Query
	g       *grid
	docAggs json.RawMessage
	search  func(ctx context.Context, body []byte) (esquery.Response, error)
}

func newFetcher(q esquery.Query, g *grid, search func(context.Context, []byte) (esquery.Response, error)) (*fetcher, error) {
	// Borrow the executor's phase-3 sub-aggregations (top_hits sorted by the
	// timestamp, split by primary-field presence with a fallback), so that the
	// same document is chosen.
	body, err := q.DocFetchFilters(esquery.TimeRange{}, []esquery.Key{make(esquery.Key, len(q.Fields))})
	if err != nil {
		return nil, err
	}
	var req struct {
		Aggregations map[string]struct {
			Aggs json.RawMessage `json:"aggs"`
		} `json:"aggregations"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("decode document fetch request: %w", err)
	}
	aggs := req.Aggregations[esquery.AggName].Aggs
	if len(aggs) == 0 {
		return nil, fmt.Errorf("document fetch request has no sub-aggregations")
	}
	return &fetcher{q: q, g: g, docAggs: aggs, search: search}, nil
}

func (f *fetcher) window(j int) esquery.TimeRange {
	return esquery.TimeRange{From: time.UnixMilli(f.g.from[j]).UTC(), To: time.UnixMilli(f.g.to[j]).UTC()}
}

// body is one document fetch over recs.
func (f *fetcher) body(recs []record) ([]byte, error) {
	filters := make([]any, len(recs))
	keys := make([]esquery.Key, 0, len(recs))
	seen := map[string]bool{}
	lo, hi := recs[0].slot, recs[0].slot
	for i, rc := range recs {
		filters[i] = map[string]any{"bool": map[string]any{"filter": []any{
			f.q.KeysFilter([]esquery.Key{rc.key}),
			f.q.RangeFilter(f.window(int(rc.slot))),
		}}}
		if id := esquery.KeyID(rc.key); !seen[id] {
			seen[id] = true
			keys = append(keys, rc.key)
		}
		lo, hi = min(lo, rc.slot), max(hi, rc.slot)
	}
	filter := []any{}
	if f.q.Filter != nil {
		filter = append(filter, f.q.Filter)
	}
	span := esquery.TimeRange{From: f.window(int(lo)).From, To: f.window(int(hi)).To}
	filter = append(filter, f.q.RangeFilter(span), f.q.KeysFilter(keys))
	b, err := json.Marshal(map[string]any{
		"size":             0,
		"track_total_hits": false,
		"query":            map[string]any{"bool": map[string]any{"filter": filter}},
		"aggregations": map[string]any{esquery.AggName: map[string]any{
			"filters": map[string]any{"filters": filters},
			"aggs":    f.docAggs,
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("encode document fetch request: %w", err)
	}
	return b, nil
}

// fetch returns the document of each record (nil where none was found), in
// order, halving the request on too-large responses (D6).
func (f *fetcher) fetch(ctx context.Context, recs []record) ([]*esquery.TopHit, error) {
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
	body, err := f.body(recs)
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
