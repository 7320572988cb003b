package backfill

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esquery"
)

// Every request of a batch holds each term once, starts at or after the
// history start of each of its records and at or before each x, and ends at
// or after each record's window end (the conditions under which phase 3
// over the request's range picks the record's document); records keep
// their batch positions.
func TestTermGroups(t *testing.T) {
	r := testRule(t, "5m", "now-6m", "now-1h")
	base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	g, err := newGrid(r, base, base.Add(6*time.Hour))
	require.NoError(t, err)
	f := &fetcher{q: esquery.Query{Fields: []string{"user.name"}}, g: g}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		var recs []record
		for j := 0; j < g.len(); j++ {
			for range rng.IntN(3) {
				x := g.from[j] + 1 + rng.Int64N(g.to[j]-g.from[j])
				recs = append(recs, record{slot: int32(j), x: x, key: esquery.Key{string(rune('a' + rng.IntN(6)))}})
			}
		}
		seen := make([]bool, len(recs))
		for _, grp := range f.termGroups(recs) {
			terms := map[string]bool{}
			for _, i := range grp.idx {
				require.False(t, seen[i])
				seen[i] = true
				rc := recs[i]
				id := esquery.ValueID(rc.key[0])
				require.False(t, terms[id], "a term twice in one request")
				terms[id] = true
				require.LessOrEqual(t, g.history[rc.slot], grp.lo)
				require.LessOrEqual(t, grp.lo, rc.x)
				require.GreaterOrEqual(t, grp.hi, g.to[rc.slot])
			}
		}
		for i := range seen {
			require.True(t, seen[i], "record %d in no request", i)
		}
	}
}
