package backfill

import "sort"

// span is one non-empty histogram bucket of one term: the earliest and the
// latest timestamp of the term's documents in [start, start+width).
type span struct {
	start, min, max int64
}

// mergeSpans sorts spans by bucket and merges spans of the same bucket (the
// primary-timestamp and the fallback sides of one bucket).
func mergeSpans(ss []span) []span {
	sort.Slice(ss, func(i, j int) bool { return ss[i].start < ss[j].start })
	out := ss[:0]
	for _, s := range ss {
		if n := len(out); n > 0 && out[n-1].start == s.start {
			out[n-1].min = min(out[n-1].min, s.min)
			out[n-1].max = max(out[n-1].max, s.max)
			continue
		}
		out = append(out, s)
	}
	return out
}

// firstOccurrences calls emit for every bucket minimum of one term (spans
// merged, in time order) that is a new term in some slot, with the earliest
// such slot. Within a bucket narrower than every slot's history-minus-lookback
// gap only the minimum can be new; its previous occurrence is the maximum of
// the previous non-empty bucket.
func firstOccurrences(g *grid, ss []span, emit func(slot int, x int64)) {
	for i, s := range ss {
		var p int64
		hasPrev := i > 0
		if hasPrev {
			p = ss[i-1].max
		}
		if j, ok := g.earliest(s.min, p, hasPrev); ok {
			emit(j, s.min)
		}
	}
}
