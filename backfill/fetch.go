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
