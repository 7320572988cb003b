package estest

import (
	"encoding/json"
	"maps"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// aggregate evaluates one aggregation over docs.
func (e *evaluator) aggregate(a map[string]any, docs []*stored) map[string]any {
	sub := obj(a["aggs"])
	if sub == nil {
		sub = obj(a["aggregations"])
	}
	for kind, body := range a {
		switch kind {
		case "aggs", "aggregations", "meta":
			continue
		case "composite":
			return e.composite(obj(body), sub, docs)
		case "terms":
			return e.terms(obj(body), sub, docs)
		case "filters":
			return e.filters(obj(body), sub, docs)
		case "filter":
			m := e.compile(body)
			var in []*stored
			for _, d := range docs {
				if m(d) {
					in = append(in, d)
				}
			}
			return e.bucket(sub, in)
		case "missing":
			field, _ := obj(body)["field"].(string)
			var in []*stored
			for _, d := range docs {
				if len(d.values[field]) == 0 {
					in = append(in, d)
				}
			}
			return e.bucket(sub, in)
		case "date_histogram":
			return e.dateHistogram(obj(body), sub, docs)
		case "min", "max":
			return e.minMax(kind, obj(body), docs)
		case "value_count":
			field, _ := obj(body)["field"].(string)
			n := 0
			for _, d := range docs {
				n += len(d.values[field])
			}
			return map[string]any{"value": int64(n)}
		case "top_hits":
			th := obj(body)
			size := 3
			if n, ok := th["size"].(json.Number); ok {
				v, _ := n.Int64()
				size = int(v)
			}
			hits := e.topHits(th, docs)
			return map[string]any{"hits": map[string]any{
				"total": map[string]any{"value": int64(len(docs)), "relation": "eq"}, "max_score": nil,
				"hits": hits[:min(size, len(hits))],
			}}
		default:
			panic(badRequest("estest: unsupported aggregation [%s]", kind))
		}
	}
	panic(badRequest("aggregation without a type"))
}

// bucket is one bucket's doc_count and sub-aggregations over docs.
func (e *evaluator) bucket(sub map[string]any, docs []*stored) map[string]any {
	out := map[string]any{"doc_count": int64(len(docs))}
	for _, name := range slices.Sorted(maps.Keys(sub)) {
		out[name] = e.aggregate(obj(sub[name]), docs)
	}
	return out
}

func intParam(m map[string]any, key string, def int) int {
	if n, ok := m[key].(json.Number); ok {
		v, err := n.Int64()
		if err != nil {
			panic(badRequest("[%s] must be an integer, got %s", key, n))
		}
		return int(v)
	}
	return def
}

// source is one composite values source.
type source struct {
	name, field   string
	interval      int64 // date_histogram rounding in ms; 0 for terms
	missingBucket bool
	desc          bool
	missingLast   bool
}

// keyPart is one source's value of a composite key; missing is the null key.
type keyPart struct {
	v       value
	missing bool
}

func (s source) compare(a, b keyPart) int {
	var c int
	switch {
	case a.missing && b.missing:
		return 0
	case a.missing || b.missing:
		// The null key sorts first unless missing_order is last (the
		// default follows the source's order: first for asc).
		c = -1
		if b.missing {
			c = 1
		}
		if s.missingLast {
			c = -c
		}
		return c
	default:
		c = compare(a.v, b.v)
	}
	if s.desc {
		c = -c
	}
	return c
}

// partValues returns d's distinct key parts for the source, in order.
func (s source) partValues(d *stored) []keyPart {
	var out []keyPart
	seen := map[string]bool{}
	for _, v := range d.values[s.field] {
		if s.interval > 0 {
			if v.kind != TypeDate && v.kind != TypeLong {
				panic(badRequest("field [%s] of type [%s] is not supported for aggregation [date_histogram]", s.field, v.kind))
			}
			v = value{kind: v.kind, i: floorDiv(v.i, s.interval) * s.interval}
		}
		if id := v.id(); !seen[id] {
			seen[id] = true
			out = append(out, keyPart{v: v})
		}
	}
	if len(out) == 0 && s.missingBucket {
		out = append(out, keyPart{missing: true})
	}
	return out
}

func (s source) render(p keyPart) any {
	if p.missing {
		return nil
	}
	return p.v.key()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// intervalPattern is the syntax of a fixed_interval.
var intervalPattern = regexp.MustCompile(`^(\d+)(ms|s|m|h|d)$`)

// parseInterval reads a fixed_interval ("5m", "30s", "250ms", "1h", "1d").
func parseInterval(s string) int64 {
	m := intervalPattern.FindStringSubmatch(s)
	if m == nil {
		panic(badRequest("estest: unsupported fixed_interval [%s]", s))
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	unit := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
	if n <= 0 {
		panic(badRequest("[fixed_interval] must be positive, got [%s]", s))
	}
	return n * unit.Milliseconds()
}

func (e *evaluator) composite(c, sub map[string]any, docs []*stored) map[string]any {
	var sources []source
	for _, raw := range arr(c["sources"]) {
		for name, spec := range obj(raw) {
			s := source{name: name}
			var p map[string]any
			switch {
			case obj(spec)["terms"] != nil:
				p = obj(obj(spec)["terms"])
			case obj(spec)["date_histogram"] != nil:
				p = obj(obj(spec)["date_histogram"])
				iv, _ := p["fixed_interval"].(string)
				if iv == "" {
					panic(badRequest("estest: date_histogram source [%s] needs fixed_interval", name))
				}
				s.interval = parseInterval(iv)
				if p["format"] != nil {
					panic(badRequest("estest: formatted date_histogram keys are not supported"))
				}
			default:
				panic(badRequest("estest: unsupported composite source %v", spec))
			}
			s.field, _ = p["field"].(string)
			s.missingBucket, _ = p["missing_bucket"].(bool)
			s.desc = p["order"] == "desc"
			switch p["missing_order"] {
			case "last":
				s.missingLast = true
			case "first":
			default:
				s.missingLast = s.desc
			}
			sources = append(sources, s)
		}
	}
	size := intParam(c, "size", 10)
	type group struct {
		key  []keyPart
		docs []*stored
	}
	cmp := func(a, b []keyPart) int {
		for i, s := range sources {
			if c := s.compare(a[i], b[i]); c != 0 {
				return c
			}
		}
		return 0
	}
	idOf := func(k []keyPart) string {
		id := ""
		for _, p := range k {
			if p.missing {
				id += "\x00null\x01"
			} else {
				id += p.v.id() + "\x01"
			}
		}
		return id
	}
	byID := map[string]*group{}
	var groups []*group
	for _, d := range docs {
		combos := [][]keyPart{{}}
		for _, s := range sources {
			var next [][]keyPart
			for _, prefix := range combos {
				for _, p := range s.partValues(d) {
					next = append(next, append(slices.Clone(prefix), p))
				}
			}
			combos = next
		}
		for _, k := range combos {
			id := idOf(k)
			g := byID[id]
			if g == nil {
				g = &group{key: k}
				byID[id] = g
				groups = append(groups, g)
			}
			g.docs = append(g.docs, d)
		}
	}
	sort.Slice(groups, func(i, j int) bool { return cmp(groups[i].key, groups[j].key) < 0 })
	var after []keyPart
	if am := obj(c["after"]); c["after"] != nil {
		if am == nil {
			panic(badRequest("[after] must be an object"))
		}
		for _, s := range sources {
			raw, ok := am[s.name]
			if !ok {
				panic(badRequest("[after] has no value for source [%s]", s.name))
			}
			if raw == nil {
				if !s.missingBucket {
					panic(badRequest("[after] cannot be null for source [%s] without missing_bucket", s.name))
				}
				after = append(after, keyPart{missing: true})
				continue
			}
			fam := e.family(s.field)
			if s.interval > 0 && fam == "" {
				fam = TypeDate
			}
			if fam == "" {
				fam = TypeKeyword
			}
			v, err := parseValue(fam, raw)
			if err != nil {
				panic(badRequest("invalid [after] value for source [%s]: %v", s.name, err))
			}
			after = append(after, keyPart{v: v})
		}
	}
	render := func(k []keyPart) map[string]any {
		m := make(map[string]any, len(sources))
		for i, s := range sources {
			m[s.name] = s.render(k[i])
		}
		return m
	}
	buckets := []any{}
	var last []keyPart
	for _, g := range groups {
		if after != nil && cmp(g.key, after) <= 0 {
			continue
		}
		if len(buckets) == size {
			break
		}
		b := e.bucket(sub, g.docs)
		b["key"] = render(g.key)
		buckets = append(buckets, b)
		last = g.key
	}
	out := map[string]any{"buckets": buckets}
	if last != nil {
		out["after_key"] = render(last)
	}
	return out
}

// termsKey renders a terms bucket key (booleans as 1/0 and dates as epoch
// milliseconds, both with key_as_string).
func termsKey(b map[string]any, v value) {
	switch v.kind {
	case TypeBoolean:
		b["key"], b["key_as_string"] = btoi(v.b), strconv.FormatBool(v.b)
	case TypeDate:
		b["key"], b["key_as_string"] = v.i, formatDate(v.i)
	default:
		b["key"] = v.key()
	}
}

func (e *evaluator) terms(t, sub map[string]any, docs []*stored) map[string]any {
	field, _ := t["field"].(string)
	size := intParam(t, "size", 10)
	if t["order"] != nil {
		panic(badRequest("estest: terms order is not supported"))
	}
	var include []value
	filterInclude := false
	switch inc := t["include"].(type) {
	case nil:
	case []any:
		filterInclude = true
		for _, v := range inc {
			if tv, ok := e.param(field, v); ok {
				include = append(include, tv)
			}
		}
	default:
		panic(badRequest("estest: terms include %v is not supported", inc))
	}
	type group struct {
		v    value
		docs []*stored
	}
	byID := map[string]*group{}
	var groups []*group
	for _, d := range docs {
		seen := map[string]bool{}
		for _, v := range d.values[field] {
			id := v.id()
			if seen[id] {
				continue
			}
			seen[id] = true
			if filterInclude && !slices.ContainsFunc(include, func(w value) bool { return compare(v, w) == 0 }) {
				continue
			}
			g := byID[id]
			if g == nil {
				g = &group{v: v}
				byID[id] = g
				groups = append(groups, g)
			}
			g.docs = append(g.docs, d)
		}
	}
	sort.Slice(groups, func(i, j int) bool {
		if len(groups[i].docs) != len(groups[j].docs) {
			return len(groups[i].docs) > len(groups[j].docs)
		}
		return compare(groups[i].v, groups[j].v) < 0
	})
	buckets := []any{}
	var other int64
	for i, g := range groups {
		if i >= size {
			other += int64(len(g.docs))
			continue
		}
		b := e.bucket(sub, g.docs)
		termsKey(b, g.v)
		buckets = append(buckets, b)
	}
	return map[string]any{"doc_count_error_upper_bound": int64(0), "sum_other_doc_count": other, "buckets": buckets}
}

func (e *evaluator) filters(spec, sub map[string]any, docs []*stored) map[string]any {
	in := func(q any) []*stored {
		m := e.compile(q)
		var out []*stored
		for _, d := range docs {
			if m(d) {
				out = append(out, d)
			}
		}
		return out
	}
	switch fs := spec["filters"].(type) {
	case []any:
		buckets := make([]any, len(fs))
		for i, q := range fs {
			buckets[i] = e.bucket(sub, in(q))
		}
		return map[string]any{"buckets": buckets}
	case map[string]any:
		buckets := map[string]any{}
		for name, q := range fs {
			buckets[name] = e.bucket(sub, in(q))
		}
		return map[string]any{"buckets": buckets}
	}
	panic(badRequest("[filters] must be an array or an object"))
}

func (e *evaluator) dateHistogram(spec, sub map[string]any, docs []*stored) map[string]any {
	field, _ := spec["field"].(string)
	iv, _ := spec["fixed_interval"].(string)
	if iv == "" {
		panic(badRequest("estest: date_histogram needs fixed_interval"))
	}
	src := source{field: field, interval: parseInterval(iv)}
	minCount := intParam(spec, "min_doc_count", 0)
	byKey := map[int64][]*stored{}
	for _, d := range docs {
		for _, p := range src.partValues(d) {
			byKey[p.v.i] = append(byKey[p.v.i], d)
		}
	}
	keys := make([]int64, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if minCount == 0 && len(keys) > 1 {
		var all []int64
		for k := keys[0]; k <= keys[len(keys)-1]; k += src.interval {
			all = append(all, k)
		}
		keys = all
	}
	buckets := []any{}
	for _, k := range keys {
		if len(byKey[k]) < minCount {
			continue
		}
		b := e.bucket(sub, byKey[k])
		b["key"], b["key_as_string"] = k, formatDate(k)
		buckets = append(buckets, b)
	}
	return map[string]any{"buckets": buckets}
}

// minMax is a min or max over every value of field in docs (multi-valued
// documents contribute each value); null without values.
func (e *evaluator) minMax(kind string, spec map[string]any, docs []*stored) map[string]any {
	field, _ := spec["field"].(string)
	var best value
	found := false
	for _, d := range docs {
		for _, v := range d.values[field] {
			if v.kind == TypeKeyword || v.kind == TypeIP {
				panic(badRequest("field [%s] of type [%s] is not supported for aggregation [%s]", field, v.kind, kind))
			}
			c := compare(v, best)
			if !found || kind == "min" && c < 0 || kind == "max" && c > 0 {
				best, found = v, true
			}
		}
	}
	if !found {
		return map[string]any{"value": nil}
	}
	out := map[string]any{"value": best.number()}
	if best.kind == TypeDate {
		out["value_as_string"] = formatDate(best.i)
	}
	return out
}

// sortSpec is one sort criterion of top_hits.
type sortSpec struct {
	field string
	desc  bool
}

// topHits returns every doc as a hit, sorted by the request's sort (a
// document sorts by its smallest value ascending, its largest descending;
// documents without the field last; ties in index order).
func (e *evaluator) topHits(th map[string]any, docs []*stored) []any {
	var specs []sortSpec
	for _, raw := range clauses(th["sort"]) {
		switch s := raw.(type) {
		case string:
			specs = append(specs, sortSpec{field: s})
		case map[string]any:
			for field, o := range s {
				sp := sortSpec{field: field}
				switch x := o.(type) {
				case string:
					sp.desc = x == "desc"
				case map[string]any:
					sp.desc = x["order"] == "desc"
				}
				specs = append(specs, sp)
			}
		}
	}
	type entry struct {
		d    *stored
		keys []*value
	}
	entries := make([]entry, len(docs))
	for i, d := range docs {
		entries[i] = entry{d: d}
		for _, sp := range specs {
			var pick *value
			for _, v := range d.values[sp.field] {
				if pick == nil || !sp.desc && compare(v, *pick) < 0 || sp.desc && compare(v, *pick) > 0 {
					pick = &v
				}
			}
			entries[i].keys = append(entries[i].keys, pick)
		}
	}
	sort.SliceStable(entries, func(i, j int) bool {
		for k, sp := range specs {
			a, b := entries[i].keys[k], entries[j].keys[k]
			switch {
			case a == nil && b == nil:
				continue
			case a == nil:
				return false
			case b == nil:
				return true
			}
			if c := compare(*a, *b); c != 0 {
				return c < 0 != sp.desc
			}
		}
		return entries[i].d.order < entries[j].d.order
	})
	wantSource := th["_source"] == nil || th["_source"] == true
	var fieldPatterns []string
	for _, f := range arr(th["fields"]) {
		switch x := f.(type) {
		case string:
			fieldPatterns = append(fieldPatterns, x)
		case map[string]any:
			if s, ok := x["field"].(string); ok {
				fieldPatterns = append(fieldPatterns, s)
			}
		}
	}
	hits := make([]any, len(entries))
	for i, en := range entries {
		h := map[string]any{"_index": en.d.Index, "_id": en.d.ID, "_score": nil}
		if wantSource {
			h["_source"] = en.d.src
		}
		if len(fieldPatterns) > 0 {
			h["fields"] = e.fieldsOf(en.d, fieldPatterns)
		}
		if len(specs) > 0 {
			var sv []any
			for k, sp := range specs {
				switch v := en.keys[k]; {
				case v != nil:
					sv = append(sv, v.key())
				case sp.desc:
					sv = append(sv, int64(math.MinInt64))
				default:
					sv = append(sv, int64(math.MaxInt64))
				}
			}
			h["sort"] = sv
		}
		hits[i] = h
	}
	return hits
}

// fieldsOf is the fields API: every indexed field matching one of the
// patterns, its values as arrays (dates formatted).
func (e *evaluator) fieldsOf(d *stored, patterns []string) map[string]any {
	out := map[string]any{}
	for field, vs := range d.values {
		ok := false
		for _, p := range patterns {
			if matchGlob(p, field) {
				ok = true
			}
		}
		if !ok {
			continue
		}
		rendered := make([]any, len(vs))
		for i, v := range vs {
			rendered[i] = v.field()
		}
		out[field] = rendered
	}
	return out
}

// matchGlob matches a field name against a pattern where * matches any run
// of characters, dots included.
func matchGlob(pattern, name string) bool {
	rx := "^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, ".*") + "$"
	return regexp.MustCompile(rx).MatchString(name)
}
