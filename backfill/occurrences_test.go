package backfill

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/rule"
)

func testRule(t *testing.T, interval, from, history string) *rule.Rule {
	t.Helper()
	r := &rule.Rule{RuleID: "r", Interval: interval, From: from, To: "now", HistoryWindowStart: history}
	require.NoError(t, r.Normalize())
	return r
}

type occ struct {
	slot int
	x    int64
}

// bruteForce is slot-by-slot execution on raw occurrences: in slot j a term
// is new iff its earliest occurrence in [historyStart, to] is after from; the
// alert is created by the first slot in which that occurrence is new.
func bruteForce(g *grid, times []int64) []occ {
	seen := map[int64]bool{}
	var out []occ
	for j := 0; j < g.len(); j++ {
		first := int64(-1)
		for _, x := range times {
			if x >= g.history[j] && x <= g.to[j] && (first < 0 || x < first) {
				first = x
			}
		}
		if first >= 0 && first > g.from[j] && !seen[first] {
			seen[first] = true
			out = append(out, occ{j, first})
		}
	}
	return out
}

func bucketed(times []int64, width int64) []span {
	var ss []span
	for _, x := range times {
		start := x - ((x%width)+width)%width
		ss = append(ss, span{start: start, min: x, max: x})
	}
	return mergeSpans(ss)
}

func TestFirstOccurrencesEqualSlotBySlot(t *testing.T) {
	cases := []struct{ interval, from, history string }{
		{"5m", "now-6m", "now-30m"},
		{"5m", "now-9m", "now-1h"},
		{"5m", "now-59m", "now-2h"},
		{"1m", "now-1m", "now-10m"},
		{"10m", "now-10m", "now-20m"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s_%s_%s", c.interval, c.from, c.history), func(t *testing.T) {
			r := testRule(t, c.interval, c.from, c.history)
			base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
			g, err := newGrid(r, base, base.Add(6*time.Hour))
			require.NoError(t, err)
			gap := g.minGap()
			start, end := g.history[0], g.to[g.len()-1]
			iv := g.interval.Milliseconds()
			for seed := range uint64(300) {
				rng := rand.New(rand.NewPCG(seed, 7))
				var times []int64
				for range 1 + rng.IntN(12) {
					var x int64
					switch rng.IntN(4) {
					case 0: // exactly on a slot edge, a window start or a history start
						j := rng.IntN(g.len())
						x = []int64{g.to[j], g.from[j], g.history[j], g.to[j] + 1, g.from[j] + 1, g.history[j] - 1}[rng.IntN(6)]
					default:
						x = start + rng.Int64N(end-start+1)
					}
					if x >= start && x <= end {
						times = append(times, x)
					}
				}
				sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
				want := bruteForce(g, times)
				for _, width := range []int64{gap, gap / 2, iv, 60_000, 1 + rng.Int64N(gap)} {
					var got []occ
					firstOccurrences(g, bucketed(times, width), func(slot int, x int64) { got = append(got, occ{slot, x}) })
					require.Equal(t, want, got, "seed %d width %d times %v", seed, width, times)
				}
			}
		})
	}
}

func TestGridSlotsAndIndex(t *testing.T) {
	r := testRule(t, "5m", "now-6m", "now-7d")
	from := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	g, err := newGrid(r, from, from.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, 12, g.len(), "slots in (from, to]: from excluded, to included")
	require.Equal(t, from.Add(5*time.Minute), g.slot(0))
	require.Equal(t, from.Add(time.Hour), g.slot(11))
	require.Equal(t, 0, g.index(from))
	require.Equal(t, 1, g.index(from.Add(5*time.Minute)))
	require.Equal(t, 1, g.index(from.Add(9*time.Minute)))
	require.Equal(t, 12, g.index(from.Add(2*time.Hour)))
	require.Equal(t, (7*24*time.Hour - 6*time.Minute).Milliseconds(), g.minGap())

	g, err = newGrid(r, from.Add(time.Second), from.Add(10*time.Minute+time.Second))
	require.NoError(t, err)
	require.Equal(t, 2, g.len(), "unaligned bounds: slots 10:05 and 10:10")
	require.Equal(t, from.Add(5*time.Minute), g.slot(0))
}
