package main

import (
	"context"
	"fmt"
	"time"

	json "github.com/goccy/go-json"

	"github.com/esrule/esrule/backfill"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/engine"
	"github.com/esrule/esrule/esquery"
	"github.com/esrule/esrule/rule"
)

// limitResult is what the limit job cost.
type limitResult struct {
	requests int
	esTook   time.Duration
	terms    int
}

// runLimit is the least any new-terms backfill of r over (from, to] must ask
// of Elasticsearch: one plain composite aggregation over the rule's matching
// documents of the scanned range (the backfill range and the history before
// it), the new-terms fields with the min of the primary timestamp, paged to
// the end with the fast path's page size. It writes nothing.
func runLimit(ctx context.Context, e *engine.Engine, r *rule.Rule, from, to time.Time) (limitResult, error) {
	var out limitResult
	filter, err := detect.QueryFilter(ctx, e.Client().FieldCaps, r)
	if err != nil {
		return out, err
	}
	q := esquery.Query{Fields: r.NewTermsFields, Timestamps: r.Timestamps, Filter: filter}
	// The fast path scans from the history start of the first slot.
	first := from.Add(r.Timing.Interval)
	tr := esquery.TimeRange{From: r.Timing.History.At(first), To: to}
	sources := make([]any, 0, len(q.Fields))
	for _, f := range q.Fields {
		sources = append(sources, map[string]any{f: map[string]any{"terms": map[string]any{"field": f}}})
	}
	var after json.RawMessage
	for {
		composite := map[string]any{"sources": sources, "size": backfill.DefaultScanPageSize}
		if after != nil {
			composite["after"] = after
		}
		body, err := json.Marshal(map[string]any{
			"size": 0, "track_total_hits": false,
			"query": map[string]any{"bool": map[string]any{"filter": []any{filter, q.RangeFilter(tr)}}},
			"aggregations": map[string]any{"t": map[string]any{
				"composite": composite,
				"aggs":      map[string]any{"m": map[string]any{"min": map[string]any{"field": q.Timestamps.Primary}}},
			}},
		})
		if err != nil {
			return out, fmt.Errorf("encode limit request: %w", err)
		}
		resp, err := e.Client().Search(ctx, r.Index, body, []string{"aggregations.t.after_key", "aggregations.t.buckets.key", "aggregations.t.buckets.m.value"})
		if err != nil {
			return out, fmt.Errorf("limit composite: %w", err)
		}
		out.requests++
		out.esTook += time.Duration(resp.Took) * time.Millisecond
		var page struct {
			T struct {
				AfterKey json.RawMessage `json:"after_key"`
				Buckets  []struct {
					Key json.RawMessage `json:"key"`
					M   struct {
						Value *float64 `json:"value"`
					} `json:"m"`
				} `json:"buckets"`
			} `json:"t"`
		}
		if err := json.Unmarshal(resp.Aggregations, &page); err != nil {
			return out, fmt.Errorf("decode limit page: %w", err)
		}
		out.terms += len(page.T.Buckets)
		if len(page.T.Buckets) < backfill.DefaultScanPageSize || len(page.T.AfterKey) == 0 {
			return out, nil
		}
		after = page.T.AfterKey
	}
}
