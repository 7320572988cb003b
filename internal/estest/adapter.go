package estest

import (
	"context"

	"github.com/esrule/esrule/esquery"
)

// Runner adapts a SearchFake to the search methods of esquery.Runner:
// Search without a filter path (detect.Searcher) and SearchFilterPath.
type Runner struct{ f *SearchFake }

// Runner returns f with esquery.Runner's method set.
func (f *SearchFake) Runner() Runner { return Runner{f} }

// Search runs a search without a filter path.
func (r Runner) Search(ctx context.Context, indices []string, body []byte) (esquery.Response, error) {
	return r.f.Search(ctx, indices, body, nil)
}

// SearchFilterPath runs a search cut to paths.
func (r Runner) SearchFilterPath(ctx context.Context, indices []string, body []byte, paths []string) (esquery.Response, error) {
	return r.f.Search(ctx, indices, body, paths)
}
