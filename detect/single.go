package detect

import (
	"context"
	"fmt"

	"github.com/esrule/esrule/esquery"
)

// singleFieldPage decides one phase-1 page of a single-field rule
// (docs/semantics.md, the three phases): phase 2 keeps the terms whose
// first_seen over the history window is strictly after from (in Go,
// docs/semantics.md D1); phase 3 fetches the oldest document of each new term
// in the rule interval and offers them, in Elasticsearch's bucket order, to
// alert creation. It reports whether max_signals stopped the run.
func (x *execution) singleFieldPage(ctx context.Context, buckets []esquery.Bucket) (bool, error) {
	values := make([]any, 0, len(buckets))
	byID := make(map[string]any, len(buckets))
	for _, b := range buckets {
		if v := b.Key[0]; v != nil {
			values = append(values, v)
			byID[esquery.ValueID(v)] = v
		}
	}
	newValues, err := x.newSingleTerms(ctx, values, byID)
	if err != nil || len(newValues) == 0 {
		return false, err
	}
	x.res.NewTerms += len(newValues)
	err = inHalvingBatches(x, phaseDocFetch, newValues, x.cfg.PageSize, func(chunk []any) error {
		body, err := x.q.DocFetch(x.w.Recent(), chunk)
		if err != nil {
			return err
		}
		resp, err := x.search(ctx, phaseDocFetch, body)
		if err != nil {
			return err
		}
		docs, err := x.q.DecodeTerms(resp)
		if err != nil {
			return fmt.Errorf("%s: %w", phaseDocFetch, err)
		}
		cands := make([]candidate, 0, len(docs))
		for _, b := range docs {
			v, ok := lookupTerm(byID, b)
			if !ok || b.Doc == nil {
				x.warn(fmt.Sprintf("%s: no document for new term %v in the rule interval; skipped", phaseDocFetch, b.Key[0]))
				continue
			}
			cands = append(cands, candidate{hit: *b.Doc, terms: esquery.Key{v}})
		}
		return x.offer(ctx, cands)
	})
	return stopped(err)
}

// newSingleTerms runs phase 2 for one field and returns the new values.
func (x *execution) newSingleTerms(ctx context.Context, values []any, byID map[string]any) ([]any, error) {
	var newValues []any
	err := inHalvingBatches(x, phaseHistory, values, x.cfg.PageSize, func(chunk []any) error {
		body, err := x.q.NewTerms(x.w.History(), chunk)
		if err != nil {
			return err
		}
		resp, err := x.search(ctx, phaseHistory, body)
		if err != nil {
			return err
		}
		hist, err := x.q.DecodeTerms(resp)
		if err != nil {
			return fmt.Errorf("%s: %w", phaseHistory, err)
		}
		for _, b := range hist {
			v, ok := lookupTerm(byID, b)
			if !ok {
				continue
			}
			if b.HasFirstSeen && b.FirstSeen > x.fromMs {
				newValues = append(newValues, v)
			}
		}
		return nil
	})
	return newValues, err
}

// lookupTerm maps a terms bucket back to the phase-1 (composite) value, which
// keeps its JSON type: a boolean comes back from a terms aggregation as 1/0
// with key_as_string "true"/"false".
func lookupTerm(byID map[string]any, b esquery.Bucket) (any, bool) {
	for _, id := range esquery.TermsBucketIDs(b) {
		if v, ok := byID[id]; ok {
			return v, true
		}
	}
	return nil, false
}
