package randdata

import (
	"fmt"
	"time"
)

// boundaryDocs adds, for every slot, documents whose effective timestamp (the
// one the rule uses) lies exactly on from, to and the history start, and 1 ms
// either side. Most carry a value never used elsewhere ("edge" value), so the
// boundary decides whether the term is new; some get a follow-up document
// carrying the same value at a random recent time.
func (g *generator) boundaryDocs(slots []time.Time) {
	for _, slot := range slots {
		w := g.spec.WindowAt(slot)
		for _, anchor := range []time.Time{w.From, w.To, w.HistoryStart} {
			for _, delta := range []time.Duration{-time.Millisecond, 0, time.Millisecond} {
				g.boundaryDoc(anchor.Add(delta))
			}
		}
	}
}

func (g *generator) boundaryDoc(at time.Time) {
	if g.used[at.UnixMilli()] {
		return
	}
	src := g.newDoc(false)
	if g.rng.Float64() < 0.9 {
		replacePath(src, FieldAction, "login")
		for _, v := range Lookup(src, FieldUserName) {
			if s, _ := v.(string); len(s) >= 3 && s[:3] == "svc" {
				replacePath(src, FieldUserName, "alice")
			}
		}
	}
	var field string
	var value any
	if g.rng.Float64() < 0.7 {
		if field, value = g.edgeValue(); field != "" {
			replacePath(src, field, value)
		}
	}
	g.placeEffective(src, at)
	g.add(src)
	if field != "" && g.rng.Float64() < 0.6 {
		follow := g.newDoc(true)
		replacePath(follow, field, value)
		lo, hi := g.first.From.Add(-2*time.Minute), g.last
		ts := lo.Add(time.Duration(g.rng.Int64N(hi.Sub(lo).Milliseconds()+1)) * time.Millisecond)
		g.placeTimes(follow, ts)
		g.add(follow)
	}
}

// edgeValue returns a value used by no other document, for a random
// non-boolean new-terms field of the rule ("" if the rule has none).
func (g *generator) edgeValue() (string, any) {
	var candidates []string
	for _, f := range g.spec.Fields {
		if TypeOf(f) != Boolean {
			candidates = append(candidates, f)
		}
	}
	if len(candidates) == 0 {
		return "", nil
	}
	field := candidates[g.rng.IntN(len(candidates))]
	n := g.edges
	g.edges++
	switch TypeOf(field) {
	case Long:
		return field, int64(700000 + n)
	case IP:
		return field, fmt.Sprintf("10.9.%d.%d", n/200, n%200+1)
	}
	return field, fmt.Sprintf("edge-%03d", n)
}

// placeEffective sets the timestamps so that the rule's effective timestamp is exactly at.
func (g *generator) placeEffective(src map[string]any, at time.Time) {
	g.used[at.UnixMilli()] = true
	before := func() time.Time {
		return g.claim(at.Add(-time.Duration(1+g.rng.IntN(30000)) * time.Millisecond))
	}
	switch g.spec.Mode {
	case ModeTimestamp:
		g.setTime(src, FieldTimestamp, at)
		if g.rng.Float64() < 0.7 {
			g.setTime(src, FieldIngested, g.claim(at.Add(time.Duration(1+g.rng.IntN(60000))*time.Millisecond)))
		}
	case ModeOverrideFallback:
		if g.rng.Float64() < 0.5 {
			g.setTime(src, FieldIngested, at)
			g.setTime(src, FieldTimestamp, before())
		} else {
			g.setTime(src, FieldTimestamp, at)
		}
	case ModeOverrideNoFallback:
		g.setTime(src, FieldIngested, at)
		if g.rng.Float64() < 0.95 {
			g.setTime(src, FieldTimestamp, before())
		}
	}
}

// replacePath sets a field as a nested value after removing any previous
// nested or dotted form of it.
func replacePath(src map[string]any, field string, v any) {
	deletePath(src, field)
	setPath(src, field, v, false)
}

func deletePath(obj map[string]any, rest string) {
	for i := 0; i <= len(rest); i++ {
		if i < len(rest) && rest[i] != '.' {
			continue
		}
		if i == len(rest) {
			delete(obj, rest)
			continue
		}
		if child, ok := obj[rest[:i]].(map[string]any); ok {
			deletePath(child, rest[i+1:])
		}
	}
}
