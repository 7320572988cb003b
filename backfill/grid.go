package backfill

import (
	"fmt"
	"sort"
	"time"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/rule"
)

// grid is the sequence of slots of one rule whose end falls in (from, to],
// with the window of each slot in epoch milliseconds. Every bound is
// nondecreasing in the slot index (date math is monotonic), which the
// first-occurrence search relies on.
type grid struct {
	first    time.Time
	interval time.Duration
	from     []int64 // window start (exclusive for new terms: first_seen > from)
	to       []int64 // window end, inclusive
	history  []int64 // history start, inclusive
}

// newGrid computes the slots of r in (from, to] and their windows.
func newGrid(r *rule.Rule, from, to time.Time) (*grid, error) {
	iv := r.Timing.Interval
	if iv <= 0 {
		return nil, fmt.Errorf("rule %s: %w", r.RuleID, rule.ErrNotNormalized)
	}
	first := rule.AlignSlot(from.UTC(), iv).Add(iv)
	last := rule.AlignSlot(to.UTC(), iv)
	g := &grid{first: first, interval: iv}
	for t := first; !t.After(last); t = t.Add(iv) {
		w, err := detect.WindowAt(r, t)
		if err != nil {
			return nil, err
		}
		g.from = append(g.from, w.From.UnixMilli())
		g.to = append(g.to, w.To.UnixMilli())
		g.history = append(g.history, w.HistoryStart.UnixMilli())
	}
	return g, nil
}

// len is the number of slots.
func (g *grid) len() int { return len(g.from) }

// slot is the time of slot j.
func (g *grid) slot(j int) time.Time { return g.first.Add(time.Duration(j) * g.interval) }

// index is the number of slots at or before t (so slots with index >= it are after t).
func (g *grid) index(t time.Time) int {
	if t.Before(g.first) {
		return 0
	}
	return min(int(t.Sub(g.first)/g.interval)+1, g.len())
}

// minGap is the smallest distance between a slot's history start and its
// window start: the widest histogram bucket for which only a bucket's
// earliest occurrence can be a first occurrence (docs/backfill.md).
func (g *grid) minGap() int64 {
	gap := int64(-1)
	for j := range g.from {
		if d := g.from[j] - g.history[j]; gap < 0 || d < gap {
			gap = d
		}
	}
	return gap
}

// earliest returns the first slot in which an occurrence at x whose previous
// occurrence is p (hasPrev false: none in the scanned range) is a new term:
// from < x <= to and p < historyStart (executor semantics: the min timestamp
// over [historyStart, to] is strictly after from). ok is false when no slot
// of the grid makes it new.
func (g *grid) earliest(x, p int64, hasPrev bool) (int, bool) {
	n := g.len()
	j := sort.Search(n, func(i int) bool { return g.to[i] >= x })
	if hasPrev {
		j = max(j, sort.Search(n, func(i int) bool { return g.history[i] > p }))
	}
	if j >= n || g.from[j] >= x {
		return 0, false
	}
	return j, true
}
