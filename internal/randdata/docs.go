package randdata

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// generator holds the state of one Generate call.
type generator struct {
	rng     *rand.Rand
	seed    uint64
	spec    RuleSpec
	indices []string
	first   Window    // window of the first slot
	last    time.Time // last slot
	used    map[int64]bool
	events  []Event
	edges   int
}

// Value pools. Old values are common in history; fresh values appear mostly in
// the recent windows. The keyword pools mix byte orders that differ from
// UTF-16 order ("～" U+FF5E sorts before "😀" in UTF-16, after it in UTF-8).
var (
	oldUserNames   = []string{"alice", "bob", "carol", "dave", "erin", "u07", "u10", "u9", "zoë", "Zed", "～tilde", "😀smile", "svc-backup", "svc-deploy"}
	freshUserNames = []string{"new-01", "new-02", "new-03", "new-04", "new-05", "new-06", "new-07", "new-08", "Émile", "～new", "😀new", "svc-new"}
	oldHosts       = []string{"host-01", "host-02", "host-03", "host-04", "host-05", "host-10", "host-9", "web", "db"}
	freshHosts     = []string{"fresh-01", "fresh-02", "fresh-03", "fresh-04", "fresh-05", "fresh-06"}
	oldUserIDs     = []int64{-7, 0, 1, 2, 9, 10, 42, 1000, 65536, 4294967296, 123456789012}
	freshUserIDs   = []int64{-100, -3, 5, 11, 5000, 5001, 99999, 8000000000}
	oldIPs         = []string{"10.0.0.1", "10.0.0.2", "10.0.0.9", "10.0.0.10", "10.0.0.100", "192.168.1.1", "172.16.0.1"}
	freshIPs       = []string{"10.0.1.1", "10.0.1.20", "10.0.1.3", "172.16.5.9", "8.8.8.8", "100.64.0.1"}
)

func (g *generator) poolValue(field string, fresh bool) any {
	r := g.rng
	switch field {
	case FieldUserName:
		if fresh {
			return freshUserNames[r.IntN(len(freshUserNames))]
		}
		return oldUserNames[r.IntN(len(oldUserNames))]
	case FieldHostName:
		if fresh {
			return freshHosts[r.IntN(len(freshHosts))]
		}
		return oldHosts[r.IntN(len(oldHosts))]
	case FieldUserID:
		if fresh {
			return freshUserIDs[r.IntN(len(freshUserIDs))]
		}
		return oldUserIDs[r.IntN(len(oldUserIDs))]
	case FieldSourceIP:
		if fresh {
			return freshIPs[r.IntN(len(freshIPs))]
		}
		return oldIPs[r.IntN(len(oldIPs))]
	case FieldSuccess:
		return r.IntN(4) != 0
	}
	panic("randdata: unknown field " + field)
}

// fieldValue draws the JSON value of one term field: missing (ok=false), null,
// an empty array, an array with nulls or duplicates, an array of 1–3 values, or a scalar.
func (g *generator) fieldValue(field string, recent bool) (v any, ok bool) {
	r := g.rng
	pick := func() any {
		fresh := r.Float64() < 0.02
		if recent {
			fresh = r.Float64() < 0.22
		}
		return g.poolValue(field, fresh)
	}
	switch x := r.Float64(); {
	case x < 0.06:
		return nil, false
	case x < 0.09:
		return nil, true
	case x < 0.10:
		return []any{}, true
	case x < 0.12:
		return []any{pick(), nil}, true
	case x < 0.14:
		v := pick()
		return []any{v, v}, true
	case x < 0.30:
		n := 1 + r.IntN(3)
		arr := make([]any, n)
		for i := range arr {
			arr[i] = pick()
		}
		return arr, true
	default:
		return pick(), true
	}
}

// newDoc returns a document with random term fields and an action; times are set by the caller.
func (g *generator) newDoc(recent bool) map[string]any {
	src := map[string]any{}
	dotted := g.rng.Float64() < 0.15
	for _, f := range TermFields {
		if v, ok := g.fieldValue(f.Name, recent); ok {
			setPath(src, f.Name, v, dotted)
		}
	}
	switch x := g.rng.Float64(); {
	case x < 0.75:
		setPath(src, FieldAction, "login", dotted)
	case x < 0.88:
		setPath(src, FieldAction, "logout", dotted)
	case x < 0.93:
		setPath(src, FieldAction, "Login", dotted)
	case x < 0.96:
		setPath(src, FieldAction, []any{"logout", "login"}, dotted)
	}
	if g.rng.Float64() < 0.3 {
		src["message"] = fmt.Sprintf("synthetic event %d", len(g.events))
	}
	return src
}

// randomDoc adds one document at a random time: in the recent windows or anywhere
// from before the first history start to after the last slot.
func (g *generator) randomDoc() {
	recent := g.rng.Float64() < 0.55
	lo, hi := g.first.HistoryStart.Add(-15*time.Minute), g.last.Add(3*time.Minute)
	if recent {
		lo, hi = g.first.From, g.last
	}
	ts := lo.Add(time.Duration(g.rng.Int64N(hi.Sub(lo).Milliseconds()+1)) * time.Millisecond)
	src := g.newDoc(recent)
	g.placeTimes(src, ts)
	g.add(src)
}

// placeTimes sets @timestamp near ts and event.ingested per the lateness
// distribution: absent, a few seconds later, late by minutes to hours, or earlier.
func (g *generator) placeTimes(src map[string]any, ts time.Time) {
	r := g.rng
	if r.Float64() < 0.01 {
		// No @timestamp at all: only the override can place it.
		g.setTime(src, FieldIngested, g.claim(ts))
		return
	}
	at := g.claim(ts)
	g.setTime(src, FieldTimestamp, at)
	switch x := r.Float64(); {
	case x < 0.15:
	case x < 0.80:
		g.setTime(src, FieldIngested, g.claim(at.Add(time.Duration(1+r.IntN(60000))*time.Millisecond)))
	case x < 0.88:
		g.setTime(src, FieldIngested, g.claim(at.Add(5*time.Minute+time.Duration(r.Int64N(int64(2*time.Hour))))))
	case x < 0.95:
		g.setTime(src, FieldIngested, g.claim(at.Add(-time.Minute-time.Duration(r.Int64N(int64(20*time.Minute))))))
	default:
		g.setTime(src, FieldIngested, g.claim(at.Add(time.Duration(1+r.IntN(500))*time.Millisecond)))
	}
}

// claim returns the first millisecond at or after t that no other timestamp
// value of the dataset uses, and reserves it. Unique timestamps make the oldest
// document of every term unique (Kibana breaks ties arbitrarily).
func (g *generator) claim(t time.Time) time.Time {
	ms := t.UnixMilli()
	for g.used[ms] {
		ms++
	}
	g.used[ms] = true
	return time.UnixMilli(ms).UTC()
}

// setTime writes a timestamp as an ISO string (UTC or with an offset) or as epoch millis.
func (g *generator) setTime(src map[string]any, field string, t time.Time) {
	var v any
	switch x := g.rng.Float64(); {
	case x < 0.9:
		v = formatTime(t)
	case x < 0.95:
		v = t.In(time.FixedZone("", 2*3600)).Format("2006-01-02T15:04:05.000-07:00")
	default:
		v = t.UnixMilli()
	}
	if field == FieldIngested {
		ev, _ := src["event"].(map[string]any)
		if ev == nil {
			if _, dotted := src[FieldAction]; dotted {
				src[FieldIngested] = v
				return
			}
			ev = map[string]any{}
			src["event"] = ev
		}
		ev["ingested"] = v
		return
	}
	src[field] = v
}

func (g *generator) add(src map[string]any) Event {
	e := Event{
		Index:  g.indices[g.rng.IntN(len(g.indices))],
		ID:     fmt.Sprintf("s%d-%05d", g.seed, len(g.events)),
		Source: src,
	}
	g.events = append(g.events, e)
	return e
}

// setPath sets a dotted field as nested objects, or as one dotted key.
func setPath(src map[string]any, field string, v any, dotted bool) {
	if dotted {
		src[field] = v
		return
	}
	parts := strings.Split(field, ".")
	obj := src
	for _, p := range parts[:len(parts)-1] {
		child, ok := obj[p].(map[string]any)
		if !ok {
			child = map[string]any{}
			obj[p] = child
		}
		obj = child
	}
	obj[parts[len(parts)-1]] = v
}
