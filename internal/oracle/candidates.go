package oracle

import (
	"bytes"
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// pageSize is Kibana's composite page size (PAGE_SIZE) for the recent-terms phase.
const pageSize = 10000

// combo is one candidate term or combination in a window.
type combo struct {
	terms     []term
	count     int      // documents in [from, to] carrying it
	oldest    int64    // oldest effective timestamp in [from, to]
	oldestDoc []DocRef // documents at that timestamp
	firstSeen int64    // min effective timestamp in [historyStart, to]
}

// candidates returns the new terms of one window in Kibana's creation order.
func candidates(docs []prepared, p Params, w Window) []Alert {
	from, to, hs := w.From.UnixMilli(), w.To.UnixMilli(), w.HistoryStart.UnixMilli()
	byKey := map[string]*combo{}
	for _, d := range docs {
		if d.ts < from || d.ts > to {
			continue
		}
		for _, c := range cartesian(d.values) {
			k := comboKey(c)
			cb := byKey[k]
			if cb == nil {
				cb = &combo{terms: c, oldest: d.ts, firstSeen: d.ts}
				byKey[k] = cb
			}
			cb.count++
			switch {
			case d.ts < cb.oldest:
				cb.oldest, cb.oldestDoc = d.ts, []DocRef{d.ref}
			case d.ts == cb.oldest:
				cb.oldestDoc = append(cb.oldestDoc, d.ref)
			}
		}
	}
	// First seen over the whole history window, only for combinations seen in [from, to].
	for _, d := range docs {
		if d.ts < hs || d.ts > to {
			continue
		}
		for _, c := range cartesian(d.values) {
			if cb := byKey[comboKey(c)]; cb != nil && d.ts < cb.firstSeen {
				cb.firstSeen = d.ts
			}
		}
	}

	all := make([]*combo, 0, len(byKey))
	for _, cb := range byKey {
		all = append(all, cb)
	}
	slices.SortFunc(all, func(a, b *combo) int { return compareCombos(p.Fields, a, b) })

	var out []Alert
	for start := 0; start < len(all); start += pageSize {
		var page []*combo
		for _, cb := range all[start:min(start+pageSize, len(all))] {
			if cb.firstSeen > from { // strict: first seen exactly at from is not new
				page = append(page, cb)
			}
		}
		if len(p.Fields) == 1 {
			// Single field: phase 3 is a terms aggregation, ordered by doc count
			// desc, then key asc, within each composite page.
			slices.SortStableFunc(page, func(a, b *combo) int {
				if c := cmp.Compare(b.count, a.count); c != 0 {
					return c
				}
				return compareCombos(p.Fields, a, b)
			})
		}
		for _, cb := range page {
			out = append(out, p.alert(cb))
		}
	}
	return out
}

func (p Params) alert(cb *combo) Alert {
	vals := make([]any, len(cb.terms))
	for i, t := range cb.terms {
		vals[i] = t.value
	}
	refs := slices.Clone(cb.oldestDoc)
	slices.SortFunc(refs, func(a, b DocRef) int {
		return cmp.Or(strings.Compare(a.Index, b.Index), strings.Compare(a.ID, b.ID))
	})
	a := Alert{NewTerms: vals, DocCount: cb.count, FirstSeen: time.UnixMilli(cb.firstSeen).UTC()}
	for i, r := range refs {
		c := Choice{AlertID: p.AlertID(r.Index, r.ID, p.Space, p.RuleID, vals), Source: r}
		if i == 0 {
			a.Choice = c
		} else {
			a.Alternatives = append(a.Alternatives, c)
		}
	}
	return a
}

// cartesian returns every combination of one value per field; none when a field has no value.
func cartesian(values [][]term) [][]term {
	out := [][]term{nil}
	for _, vs := range values {
		var next [][]term
		for _, prefix := range out {
			for _, v := range vs {
				next = append(next, append(slices.Clip(prefix), v))
			}
		}
		out = next
	}
	return out
}

func comboKey(c []term) string {
	var b strings.Builder
	for _, t := range c {
		b.WriteString(t.key)
		b.WriteByte(0)
	}
	return b.String()
}

// compareCombos orders combinations like a composite aggregation: field by
// field, each in its type's natural order.
func compareCombos(fields []Field, a, b *combo) int {
	for i, f := range fields {
		if c := compareTerms(f.Type, a.terms[i].value, b.terms[i].value); c != 0 {
			return c
		}
	}
	return 0
}

func compareTerms(typ FieldType, a, b any) int {
	switch typ {
	case Long:
		return cmp.Compare(a.(int64), b.(int64))
	case Boolean:
		return cmp.Compare(btoi(a.(bool)), btoi(b.(bool)))
	case IP:
		x, y := netip.MustParseAddr(a.(string)).As16(), netip.MustParseAddr(b.(string)).As16()
		return bytes.Compare(x[:], y[:])
	}
	return strings.Compare(a.(string), b.(string)) // Go compares strings bytewise (UTF-8)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
