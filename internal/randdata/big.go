package randdata

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// BigSingle is the composite-paging dataset for one field: 12,000 distinct
// user.name values in the first slot's window, so phase 1 needs two pages of
// 10,000 keys. On page 1 (b00000–b09999) only the 31 terms with i%333 == 7 are
// new; on page 2 (b10000–b11999) every term is new. max_signals is 100, so the
// alerts of slot 1 are the 31 page-1 terms (b00007 first, it has 2 documents),
// then page 2 by doc count (b11990–b11999 have 3) and key. Slot 2 (5 minutes
// later) creates the next 100 terms still new in its window.
func BigSingle(prefix string) Dataset {
	const terms = 12000
	g := newBig(1001, prefix, RuleSpec{
		Fields: []string{FieldUserName}, History: time.Hour, Lookback: 6 * time.Minute,
		Interval: 5 * time.Minute, MaxSignals: 100, Mode: ModeTimestamp, Query: Query,
	})
	d := g.dataset(prefix, []time.Time{Base, Base.Add(5 * time.Minute)})
	w := g.first
	for i := range terms {
		name := fmt.Sprintf("b%05d", i)
		isNew := i >= 10000 || i%333 == 7
		if !isNew {
			g.bigDoc(w.HistoryStart.Add(10*time.Minute), 40*time.Minute, FieldUserName, name, "login")
		}
		copies := 1
		switch {
		case i >= 11990:
			copies = 3
		case i == 7:
			copies = 2
		}
		for range copies {
			g.bigDoc(w.From.Add(time.Millisecond), w.To.Sub(w.From)-time.Millisecond, FieldUserName, name, "login")
		}
	}
	for i := range 300 { // noise the query removes
		g.bigDoc(w.From, w.To.Sub(w.From), FieldUserName, fmt.Sprintf("nomatch-%03d", i), "logout")
		g.bigDoc(w.From, w.To.Sub(w.From), FieldUserName, fmt.Sprintf("svc-%03d", i), "login")
	}
	d.Events = g.events
	return d
}

// BigMulti is the paging dataset for two fields (host.name, user.id) with the
// timestamp override and fallback: 110 hosts × 100 ids = 11,000 combinations in
// the window, carried by documents with arrays of 25 ids. Page 1 (h000–h099)
// has ~100 new combinations ((h*7+id)%97 == 0); page 2 (h100–h109) is all new.
// History documents carry one host and arrays of up to 400 ids, 300 of which
// never occur in the window: they crowd the history composite (docs/semantics.md D4).
// max_signals is 150.
func BigMulti(prefix string) Dataset {
	g := newBig(1002, prefix, RuleSpec{
		Fields: []string{FieldHostName, FieldUserID}, History: time.Hour, Lookback: 6 * time.Minute,
		Interval: 5 * time.Minute, MaxSignals: 150, Mode: ModeOverrideFallback, Query: Query,
	})
	d := g.dataset(prefix, []time.Time{Base})
	w := g.first
	for h := range 110 {
		host := fmt.Sprintf("h%03d", h)
		if h < 100 {
			var old []any
			for id := range 100 {
				if (h*7+id)%97 != 0 {
					old = append(old, int64(id))
				}
			}
			for id := 1000; id < 1300; id++ {
				old = append(old, int64(id))
			}
			g.rng.Shuffle(len(old), func(i, j int) { old[i], old[j] = old[j], old[i] })
			g.bigDoc(w.HistoryStart.Add(time.Minute), 50*time.Minute, FieldHostName, host, "login", FieldUserID, old)
		}
		for q := range 4 {
			ids := make([]any, 25)
			for k := range ids {
				ids[k] = int64(q*25 + k)
			}
			g.bigDoc(w.From.Add(time.Millisecond), w.To.Sub(w.From)-time.Millisecond, FieldHostName, host, "login", FieldUserID, ids)
		}
	}
	d.Events = g.events
	return d
}

func newBig(seed uint64, prefix string, spec RuleSpec) *generator {
	return &generator{
		rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), seed: seed, spec: spec, used: map[int64]bool{},
		indices: []string{prefix + "-a", prefix + "-b"},
	}
}

func (g *generator) dataset(prefix string, slots []time.Time) Dataset {
	g.first = g.spec.WindowAt(slots[0])
	g.last = slots[len(slots)-1]
	return Dataset{Seed: g.seed, Rule: g.spec, Pattern: prefix + "-*", Slots: slots,
		Indices: map[string]int{prefix + "-a": 2, prefix + "-b": 1}}
}

// bigDoc adds a document whose effective timestamp is a free millisecond in
// [lo, lo+span]; extra holds further field/value pairs.
func (g *generator) bigDoc(lo time.Time, span time.Duration, field string, value any, action string, extra ...any) {
	src := map[string]any{}
	setPath(src, field, value, false)
	setPath(src, FieldAction, action, false)
	for i := 0; i < len(extra); i += 2 {
		setPath(src, extra[i].(string), extra[i+1], false)
	}
	ts := g.claim(lo.Add(time.Duration(g.rng.Int64N(span.Milliseconds()+1)) * time.Millisecond))
	switch g.spec.Mode {
	case ModeTimestamp:
		g.setTime(src, FieldTimestamp, ts)
	default:
		if g.rng.Float64() < 0.3 {
			g.setTime(src, FieldTimestamp, ts) // no event.ingested: fallback
		} else {
			g.setTime(src, FieldIngested, ts)
			g.setTime(src, FieldTimestamp, g.claim(ts.Add(-time.Duration(1+g.rng.IntN(5000))*time.Millisecond)))
		}
	}
	g.add(src)
}

// Ties is a tiny dataset where two documents in different indices carry the
// same new term at the same millisecond: Kibana may pick either as the alert
// document, so the oracle lists both choices.
func Ties(prefix string) Dataset {
	g := newBig(1003, prefix, RuleSpec{
		Fields: []string{FieldUserName}, History: time.Hour, Lookback: 6 * time.Minute,
		Interval: 5 * time.Minute, MaxSignals: 100, Mode: ModeTimestamp, Query: Query,
	})
	d := g.dataset(prefix, []time.Time{Base})
	at := formatTime(Base.Add(-2 * time.Minute))
	for i, index := range g.indices {
		src := map[string]any{FieldTimestamp: at}
		setPath(src, FieldAction, "login", false)
		setPath(src, FieldUserName, "tied", false)
		g.events = append(g.events, Event{Index: index, ID: fmt.Sprintf("tie-%d", i), Source: src})
	}
	d.Events = g.events
	return d
}

// Booleans is a tiny dataset for a single boolean new-terms field: history
// holds only event.success=true, the first slot's window brings false (twice,
// and once in an array with true), so false is the one new term and its
// alert's new_terms is [false] (a JSON boolean, as the composite key).
func Booleans(prefix string) Dataset {
	g := newBig(1004, prefix, RuleSpec{
		Fields: []string{FieldSuccess}, History: time.Hour, Lookback: 6 * time.Minute,
		Interval: 5 * time.Minute, MaxSignals: 100, Mode: ModeTimestamp, Query: Query,
	})
	d := g.dataset(prefix, []time.Time{Base, Base.Add(5 * time.Minute)})
	w := g.first
	for range 5 {
		g.bigDoc(w.HistoryStart, w.From.Sub(w.HistoryStart)-time.Minute, FieldSuccess, true, "login")
	}
	g.bigDoc(w.From.Add(time.Minute), time.Minute, FieldSuccess, false, "login")
	g.bigDoc(w.From.Add(3*time.Minute), time.Minute, FieldSuccess, []any{true, false}, "login")
	g.bigDoc(w.From.Add(3*time.Minute), 2*time.Minute, FieldSuccess, true, "login")
	g.bigDoc(w.From.Add(10*time.Second), 10*time.Second, FieldSuccess, false, "logout") // not matching
	d.Events = g.events
	return d
}

// BigCartesian is the multi-field explosion case: one window document holds
// 50 hosts × 50 user names × 10 user ids = 25,000 combinations (three phase-1
// pages). History documents hold every combination of hosts h00–h48, and part
// of h49's, so the only new combinations (375) sort last: the executor must go
// through every page and batch before it finds them; max_signals is 100.
func BigCartesian(prefix string) Dataset {
	g := newBig(1005, prefix, RuleSpec{
		Fields: []string{FieldHostName, FieldUserName, FieldUserID}, History: time.Hour, Lookback: 6 * time.Minute,
		Interval: 5 * time.Minute, MaxSignals: 100, Mode: ModeTimestamp, Query: Query,
	})
	d := g.dataset(prefix, []time.Time{Base})
	w := g.first
	list := func(format string, from, to int) []any {
		var out []any
		for i := from; i < to; i++ {
			out = append(out, fmt.Sprintf(format, i))
		}
		return out
	}
	ids := func(to int) []any {
		var out []any
		for i := range to {
			out = append(out, int64(i))
		}
		return out
	}
	g.bigDoc(w.HistoryStart.Add(time.Minute), 10*time.Minute, FieldHostName, list("h%02d", 0, 49), "login",
		FieldUserName, list("u%02d", 0, 50), FieldUserID, ids(10))
	g.bigDoc(w.HistoryStart.Add(20*time.Minute), 10*time.Minute, FieldHostName, "h49", "login",
		FieldUserName, list("u%02d", 0, 25), FieldUserID, ids(5))
	g.bigDoc(w.From.Add(time.Minute), time.Minute, FieldHostName, list("h%02d", 0, 50), "login",
		FieldUserName, list("u%02d", 0, 50), FieldUserID, ids(10))
	d.Events = g.events
	return d
}
