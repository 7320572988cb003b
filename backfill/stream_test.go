package backfill

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esquery"
	"github.com/esrule/esrule/rule"
)

// A scan with a timestamp fallback: the documents without the primary field
// come as a date_histogram under the term's fallback filter bucket, and both
// sides of a term are merged before deciding.
func TestScanMergesFallbackSide(t *testing.T) {
	r := testRule(t, "5m", "now-6m", "now-1h")
	base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	g, err := newGrid(r, base, base.Add(2*time.Hour))
	require.NoError(t, err)
	ms := func(d time.Duration) int64 { return base.Add(d).UnixMilli() }
	w := int64(10 * time.Minute / time.Millisecond)
	bucket := func(d time.Duration) int64 { x := ms(d); return x - x%w }
	hb := func(d time.Duration) map[string]any {
		return map[string]any{"key": bucket(d), "t_min": map[string]any{"value": ms(d)}, "t_max": map[string]any{"value": ms(d)}}
	}
	page := map[string]any{esquery.AggName: map[string]any{
		"after_key": map[string]any{"user.name": "b"},
		"buckets": []any{
			// "a": first seen without the primary field at 10:03 (fallback), then with it at 10:04.
			map[string]any{"key": map[string]any{"user.name": "a"},
				"h":        map[string]any{"buckets": []any{hb(4 * time.Minute)}},
				"fallback": map[string]any{"h": map[string]any{"buckets": []any{hb(3 * time.Minute)}}}},
			// "b": seen at 10:40 and again at 11:40 (60 minutes later: new again, history is 1h).
			map[string]any{"key": map[string]any{"user.name": "b"},
				"h":        map[string]any{"buckets": []any{hb(40 * time.Minute), hb(100*time.Minute + time.Millisecond)}},
				"fallback": map[string]any{"h": map[string]any{"buckets": []any{}}}},
		},
	}}
	raw, err := json.Marshal(page)
	require.NoError(t, err)
	calls := 0
	sc := &scan{
		q: esquery.Query{Fields: []string{"user.name"}, Timestamps: rule.Timestamps{Primary: "event.ingested", Secondary: "@timestamp"}},
		g: g, width: 10 * time.Minute, pageSize: 100,
		search: func(context.Context, []byte, []string) (esquery.Response, error) {
			calls++
			return esquery.Response{Shards: 1, Aggregations: raw}, nil
		},
		sink: newSorter("", 0),
	}
	require.NoError(t, sc.run(context.Background(), base, base.Add(2*time.Hour)))
	recs := allRecords(t, sc.sink)
	require.Equal(t, 1, calls, "a short page is the last one")
	require.Equal(t, int64(2), sc.terms.Load())
	got := map[string][]int64{}
	for _, rc := range recs {
		got[rc.key[0].(string)] = append(got[rc.key[0].(string)], rc.x)
		require.Equal(t, rc.x, clampSlot(g, int(rc.slot), rc.x))
	}
	require.Equal(t, []int64{ms(3 * time.Minute)}, got["a"], "the fallback side's earlier occurrence wins")
	require.Equal(t, []int64{ms(40 * time.Minute), ms(100*time.Minute + time.Millisecond)}, got["b"])
}

// clampSlot checks that x lies in slot j's window (from, to]; it returns x if so.
func clampSlot(g *grid, j int, x int64) int64 {
	if x > g.from[j] && x <= g.to[j] {
		return x
	}
	return -1
}
