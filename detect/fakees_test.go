package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/esquery"
)

// fakeES is a tiny in-memory Elasticsearch that understands exactly the
// request shapes the executor sends (bool/range/exists/term/match queries;
// composite, terms, filters, filter, min and top_hits aggregations). It lets
// the decision logic be tested without a cluster.
type fakeES struct {
	docs []fakeDoc
	// hook, when set, may replace the answer to a request (errors, shard failures).
	hook     func(n int, body map[string]any) (esquery.Response, error, bool)
	requests []map[string]any
}

// fakeDoc is one indexed document; Fields are flat dotted names whose
// values are scalars (string, float64, bool) or []any.
type fakeDoc struct {
	Index, ID string
	Fields    map[string]any
}

func (f *fakeES) Search(_ context.Context, _ []string, body []byte, _ []string) (esquery.Response, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var req map[string]any
	if err := dec.Decode(&req); err != nil {
		return esquery.Response{}, fmt.Errorf("fake es: decode request: %w", err)
	}
	f.requests = append(f.requests, req)
	if f.hook != nil {
		if resp, err, ok := f.hook(len(f.requests), req); ok {
			return resp, err
		}
	}
	var matched []fakeDoc
	for _, d := range f.docs {
		if match(req["query"], d) {
			matched = append(matched, d)
		}
	}
	aggs := map[string]any{}
	for name, a := range obj(req["aggregations"]) {
		aggs[name] = aggregate(obj(a), matched)
	}
	b, err := json.Marshal(aggs)
	if err != nil {
		return esquery.Response{}, err
	}
	return esquery.Response{Took: 2, Shards: 1, TotalHits: int64(len(matched)), Aggregations: b}, nil
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func arr(v any) []any          { a, _ := v.([]any); return a }

// values returns the values of a field (arrays flattened).
func values(d fakeDoc, field string) []any {
	v, ok := d.Fields[field]
	if !ok || v == nil {
		return nil
	}
	if a, ok := v.([]any); ok {
		return a
	}
	return []any{v}
}

func millis(v any) (int64, bool) {
	switch x := v.(type) {
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			panic(fmt.Sprintf("fake es: bad date %q", x))
		}
		return t.UnixMilli(), true
	case float64:
		return int64(x), true
	}
	return 0, false
}

func minMillis(d fakeDoc, field string) (int64, bool) {
	best, ok := int64(0), false
	for _, v := range values(d, field) {
		if m, good := millis(v); good && (!ok || m < best) {
			best, ok = m, true
		}
	}
	return best, ok
}

// sameValue compares a document value with a request value (json.Number, string, bool).
func sameValue(docV, reqV any) bool {
	if n, ok := reqV.(json.Number); ok {
		f, _ := n.Float64()
		dv, isNum := docV.(float64)
		return isNum && dv == f
	}
	return docV == reqV
}

func match(q any, d fakeDoc) bool {
	m := obj(q)
	if m == nil {
		return true
	}
	for kind, body := range m {
		switch kind {
		case "bool":
			b := obj(body)
			for _, key := range []string{"filter", "must"} {
				for _, c := range clauses(b[key]) {
					if !match(c, d) {
						return false
					}
				}
			}
			for _, c := range clauses(b["must_not"]) {
				if match(c, d) {
					return false
				}
			}
			should := clauses(b["should"])
			msm := 0
			if n, ok := b["minimum_should_match"].(json.Number); ok {
				v, _ := n.Int64()
				msm = int(v)
			} else if len(should) > 0 && len(clauses(b["filter"]))+len(clauses(b["must"])) == 0 {
				msm = 1
			}
			hits := 0
			for _, c := range should {
				if match(c, d) {
					hits++
				}
			}
			if hits < msm {
				return false
			}
		case "range":
			for field, spec := range obj(body) {
				s := obj(spec)
				gte, _ := millis(s["gte"])
				lte, _ := millis(s["lte"])
				ok := false
				for _, v := range values(d, field) {
					if t, good := millis(v); good && t >= gte && t <= lte {
						ok = true
					}
				}
				if !ok {
					return false
				}
			}
		case "exists":
			if len(values(d, obj(body)["field"].(string))) == 0 {
				return false
			}
		case "term", "match", "match_phrase":
			for field, want := range obj(body) {
				if o := obj(want); o != nil {
					want = o["query"]
					if want == nil {
						want = o["value"]
					}
				}
				if !slices.ContainsFunc(values(d, field), func(v any) bool { return sameValue(v, want) }) {
					return false
				}
			}
		case "match_all":
		case "query_string": // the kql stub's output; the real translator never emits it for these tests
		default:
			panic("fake es: unsupported query " + kind)
		}
	}
	return true
}

func clauses(v any) []any {
	if a, ok := v.([]any); ok {
		return a
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// compareValues orders term values as Elasticsearch does within one type.
func compareValues(a, b any) int {
	switch x := a.(type) {
	case string:
		return strings.Compare(x, b.(string))
	case float64:
		y := b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	}
	panic(fmt.Sprintf("fake es: cannot compare %T", a))
}

func compareKeys(a, b []any) int {
	for i := range a {
		if c := compareValues(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// fromRequest converts a request value (json.Number) to the document form.
func fromRequest(v any) any {
	if n, ok := v.(json.Number); ok {
		f, _ := n.Float64()
		return f
	}
	return v
}

func cartesian(d fakeDoc, fields []string) [][]any {
	out := [][]any{{}}
	for _, f := range fields {
		vs := values(d, f)
		var next [][]any
		for _, prefix := range out {
			seen := map[string]bool{}
			for _, v := range vs {
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

type group struct {
	key  []any
	docs []fakeDoc
}

func groupBy(docs []fakeDoc, fields []string) []*group {
	byKey := map[string]*group{}
	var out []*group
	for _, d := range docs {
		for _, k := range cartesian(d, fields) {
			id := fmt.Sprintf("%#v", k)
			g, ok := byKey[id]
			if !ok {
				g = &group{key: k}
				byKey[id] = g
				out = append(out, g)
			}
			g.docs = append(g.docs, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return compareKeys(out[i].key, out[j].key) < 0 })
	return out
}

func aggregate(a map[string]any, docs []fakeDoc) map[string]any {
	sub := obj(a["aggs"])
	switch {
	case a["composite"] != nil:
		c := obj(a["composite"])
		var fields []string
		for _, s := range arr(c["sources"]) {
			for name := range obj(s) {
				fields = append(fields, name)
			}
		}
		size, _ := c["size"].(json.Number).Int64()
		var after []any
		if am := obj(c["after"]); am != nil {
			for _, f := range fields {
				after = append(after, fromRequest(am[f]))
			}
		}
		buckets := []any{}
		var last []any
		for _, g := range groupBy(docs, fields) {
			if after != nil && compareKeys(g.key, after) <= 0 {
				continue
			}
			if int64(len(buckets)) == size {
				break
			}
			key := map[string]any{}
			for i, f := range fields {
				key[f] = g.key[i]
			}
			b := subAggs(sub, g.docs)
			b["key"], b["doc_count"] = key, len(g.docs)
			buckets = append(buckets, b)
			last = g.key
		}
		out := map[string]any{"buckets": buckets}
		if last != nil {
			key := map[string]any{}
			for i, f := range fields {
				key[f] = last[i]
			}
			out["after_key"] = key
		}
		return out
	case a["terms"] != nil:
		t := obj(a["terms"])
		field := t["field"].(string)
		include := arr(t["include"])
		groups := groupBy(docs, []string{field})
		sort.SliceStable(groups, func(i, j int) bool { return len(groups[i].docs) > len(groups[j].docs) })
		buckets := []any{}
		for _, g := range groups {
			if t["include"] != nil && !slices.ContainsFunc(include, func(v any) bool { return sameValue(g.key[0], v) }) {
				continue
			}
			b := subAggs(sub, g.docs)
			b["doc_count"] = len(g.docs)
			if bv, ok := g.key[0].(bool); ok { // terms keys of booleans are 1/0
				b["key"], b["key_as_string"] = map[bool]int{true: 1, false: 0}[bv], fmt.Sprint(bv)
			} else {
				b["key"] = g.key[0]
			}
			buckets = append(buckets, b)
		}
		return map[string]any{"buckets": buckets}
	case a["filters"] != nil:
		buckets := []any{}
		for _, fq := range arr(obj(a["filters"])["filters"]) {
			var in []fakeDoc
			for _, d := range docs {
				if match(fq, d) {
					in = append(in, d)
				}
			}
			b := subAggs(sub, in)
			b["doc_count"] = len(in)
			buckets = append(buckets, b)
		}
		return map[string]any{"buckets": buckets}
	case a["filter"] != nil:
		var in []fakeDoc
		for _, d := range docs {
			if match(a["filter"], d) {
				in = append(in, d)
			}
		}
		b := subAggs(sub, in)
		b["doc_count"] = len(in)
		return b
	case a["min"] != nil:
		field := obj(a["min"])["field"].(string)
		best, ok := int64(0), false
		for _, d := range docs {
			if m, good := minMillis(d, field); good && (!ok || m < best) {
				best, ok = m, true
			}
		}
		if !ok {
			return map[string]any{"value": nil}
		}
		return map[string]any{"value": float64(best)}
	case a["top_hits"] != nil:
		th := obj(a["top_hits"])
		var field string
		for name := range obj(arr(th["sort"])[0]) {
			field = name
		}
		var best *fakeDoc
		bestMs := int64(math.MaxInt64)
		for i := range docs {
			m, ok := minMillis(docs[i], field)
			if !ok {
				m = math.MaxInt64
			}
			if best == nil || m < bestMs {
				best, bestMs = &docs[i], m
			}
		}
		hits := []any{}
		if best != nil {
			fields := map[string]any{}
			for k, v := range best.Fields {
				fields[k] = clauses(v)
			}
			hits = append(hits, map[string]any{
				"_index": best.Index, "_id": best.ID, "_source": best.Fields, "fields": fields,
				"sort": []any{bestMs},
			})
		}
		return map[string]any{"hits": map[string]any{"hits": hits}}
	}
	panic(fmt.Sprintf("fake es: unsupported aggregation %v", a))
}

func subAggs(sub map[string]any, docs []fakeDoc) map[string]any {
	out := map[string]any{}
	for name, a := range sub {
		out[name] = aggregate(obj(a), docs)
	}
	return out
}

// fakeStore is an in-memory AlertStore.
type fakeStore struct {
	alerts   map[string]string // id -> execution uuid
	created  []string          // ids in creation order
	existErr error
}

func newFakeStore() *fakeStore { return &fakeStore{alerts: map[string]string{}} }

func (s *fakeStore) Existing(_ context.Context, ids []string) (map[string]string, error) {
	if s.existErr != nil {
		return nil, s.existErr
	}
	out := map[string]string{}
	for _, id := range ids {
		if u, ok := s.alerts[id]; ok {
			out[id] = u
		}
	}
	return out, nil
}

func (s *fakeStore) Create(_ context.Context, as []alerts.Alert) (alerts.WriteResult, error) {
	var wr alerts.WriteResult
	for _, a := range as {
		if _, ok := s.alerts[a.ID]; ok {
			wr.Duplicate++
			continue
		}
		u, _ := a.Doc["kibana.alert.rule.execution.uuid"].(string)
		s.alerts[a.ID] = u
		s.created = append(s.created, a.ID)
		wr.Created++
		wr.CreatedIDs = append(wr.CreatedIDs, a.ID)
	}
	return wr, nil
}
