package detect

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/internal/estest"
	"github.com/esrule/esrule/rule"
)

// bruteForce computes the expected alert ids by scanning the documents:
// the definition of a new term with the effective timestamp (docs/semantics.md,
// "When a term is new" and "Which time field").
func bruteForce(docs []estest.Doc, fields []string, ts rule.Timestamps, w Window) map[string]bool {
	combined := func(d estest.Doc) (int64, bool) {
		if m, ok := minMillis(d, ts.Primary); ok {
			return m, true
		}
		if ts.Secondary != "" {
			return minMillis(d, ts.Secondary)
		}
		return 0, false
	}
	in := func(d estest.Doc, from, to time.Time) bool {
		m, ok := combined(d)
		return ok && m >= from.UnixMilli() && m <= to.UnixMilli()
	}
	type best struct {
		doc estest.Doc
		ms  int64
	}
	firstSeen := map[string]int64{}
	oldest := map[string]best{}
	terms := map[string][]any{}
	for _, d := range docs {
		m, _ := combined(d)
		for _, k := range cartesian(d, fields) {
			id := fmt.Sprintf("%#v", k)
			if in(d, w.HistoryStart, w.To) {
				if fs, ok := firstSeen[id]; !ok || m < fs {
					firstSeen[id] = m
				}
			}
			if in(d, w.From, w.To) {
				if b, ok := oldest[id]; !ok || m < b.ms {
					oldest[id] = best{d, m}
				}
				terms[id] = k
			}
		}
	}
	out := map[string]bool{}
	for id, b := range oldest {
		if firstSeen[id] > w.From.UnixMilli() {
			out[alertID(b.doc, terms[id]...)] = true
		}
	}
	return out
}

func randomDocs(rng *rand.Rand, w Window, n int) []estest.Doc {
	pools := map[string][]any{
		"s":  {"a", "b", "c", "d", "e", "f", "g"},
		"s2": {"x", "y", "z", "w"},
		"n":  {float64(1), float64(2), float64(3), float64(10), float64(443)},
		"b":  {true, false},
	}
	span := w.To.Add(10*time.Minute).UnixMilli() - w.HistoryStart.Add(-time.Hour).UnixMilli()
	// Recent times are far more likely, so that terms collide across windows.
	randomTime := func() time.Time {
		switch rng.IntN(4) {
		case 0:
			return w.HistoryStart.Add(-time.Hour).Add(time.Duration(rng.Int64N(span)) * time.Millisecond)
		default:
			return w.From.Add(-3 * time.Minute).Add(time.Duration(rng.Int64N(11*60*1000)) * time.Millisecond)
		}
	}
	var docs []estest.Doc
	for i := 0; i < n; i++ {
		f := map[string]any{}
		ts := randomTime()
		switch i {
		case 0:
			ts = w.From // boundaries, once each (ties would make the oldest document ambiguous)
		case 1:
			ts = w.To
		case 2:
			ts = w.HistoryStart
		case 3:
			ts = w.From.Add(time.Millisecond)
		}
		if rng.IntN(10) > 0 {
			f["@timestamp"] = iso(ts)
		}
		if rng.IntN(3) > 0 {
			f["event.ingested"] = iso(ts.Add(time.Duration(rng.Int64N(15*60*1000)) * time.Millisecond))
		}
		for name, pool := range pools {
			switch r := rng.IntN(10); {
			case r == 0:
			case r < 7:
				f[name] = pool[rng.IntN(len(pool))]
			default:
				k := 1 + rng.IntN(3)
				var vs []any
				for j := 0; j < k; j++ {
					vs = append(vs, pool[rng.IntN(len(pool))])
				}
				f[name] = vs
			}
		}
		docs = append(docs, doc(fmt.Sprintf("doc-%03d", i), f))
	}
	return docs
}

func TestRandomizedAgainstBruteForce(t *testing.T) {
	fieldSets := [][]string{{"s"}, {"n"}, {"b"}, {"s", "s2"}, {"s", "n"}, {"b", "s2"}, {"s", "s2", "n"}}
	for seed := uint64(1); seed <= 60; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		fields := fieldSets[int(seed)%len(fieldSets)]
		r := testRule(fields...)
		r.MaxSignals = 100000
		switch seed % 3 {
		case 1:
			r.TimestampOverride = "event.ingested"
		case 2:
			r.TimestampOverride = "event.ingested"
			r.TimestampOverrideFallbackDisabled = true
		}
		r.HistoryWindowStart = []string{"now-30m", "now-12h", "now-7d"}[rng.IntN(3)]
		require.NoError(t, r.Normalize())
		w, err := WindowAt(r, testSlot)
		require.NoError(t, err)
		docs := randomDocs(rng, w, 40+rng.IntN(120))
		cfg := Config{PageSize: 1 + rng.IntN(6), BatchSize: 1 + rng.IntN(5), HistoryPageSize: 1 + rng.IntN(4)}
		t.Run(fmt.Sprintf("seed %d %v %s override=%q", seed, fields, r.HistoryWindowStart, r.TimestampOverride), func(t *testing.T) {
			res, err := run(t, newES(t, docs...), nil, r, cfg)
			require.NoError(t, err)
			want := bruteForce(docs, fields, r.Timestamps, w)
			got := map[string]bool{}
			for _, id := range alertIDs(res) {
				require.False(t, got[id], "duplicate alert %s", id)
				got[id] = true
			}
			require.Equal(t, slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(got)), "config %+v", cfg)
			require.Equal(t, len(want), res.NewTerms)
		})
	}
}

// The brute force reads documents on its own (not through the search fake):

// values returns the values of a flat field (arrays flattened).
func values(d estest.Doc, field string) []any {
	v, ok := d.Source[field]
	if !ok || v == nil {
		return nil
	}
	if a, ok := v.([]any); ok {
		return a
	}
	return []any{v}
}

// minMillis is the earliest of a date field's values.
func minMillis(d estest.Doc, field string) (int64, bool) {
	best, ok := int64(0), false
	for _, v := range values(d, field) {
		s, isString := v.(string)
		if !isString {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(fmt.Sprintf("brute force: bad date %q", s))
		}
		if m := t.UnixMilli(); !ok || m < best {
			best, ok = m, true
		}
	}
	return best, ok
}

// cartesian is every combination of the distinct values of fields in d.
func cartesian(d estest.Doc, fields []string) [][]any {
	out := [][]any{{}}
	for _, f := range fields {
		var next [][]any
		for _, prefix := range out {
			seen := map[string]bool{}
			for _, v := range values(d, f) {
				k := fmt.Sprintf("%T:%v", v, v)
				if seen[k] {
					continue
				}
				seen[k] = true
				next = append(next, append(slices.Clone(prefix), v))
			}
		}
		out = next
	}
	return out
}
