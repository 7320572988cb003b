package estest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/esrule/esrule/esquery"
	"github.com/esrule/esrule/kql"
)

// Doc is one indexed document: its concrete index, its _id and its source
// (nested objects, dotted keys or a mix, as Elasticsearch accepts them).
type Doc struct {
	Index, ID string
	Source    map[string]any
}

// SearchFake is an in-memory Elasticsearch search over documents: it
// evaluates the request bodies that detect's phases and backfill's scan and
// fetches send (bool, range, term, terms, exists, match, wildcard and simple
// query_string queries; composite with terms and date_histogram sources and
// after_key paging, terms, filters, filter, date_histogram, min, max and
// top_hits aggregations) the way Elasticsearch does: composite keys in the
// order of the field type, multi-valued fields in every bucket of their
// values, inclusive range bounds, documents without a field left out of a
// source unless missing_bucket. It also cuts responses to a filter_path.
//
// Fields are typed by the mapping given to NewSearchFake (Elasticsearch type
// names); unmapped fields are not indexed. Without a mapping, each field
// takes the type dynamic mapping would give its first value (strings that
// parse as strict_date_optional_time are dates, other strings keywords).
//
// A SearchFake is safe for concurrent use.
type SearchFake struct {
	// Hook, when set, sees every decoded request (n counts from 1) before
	// it is evaluated and may answer it instead (handled true): errors,
	// shard failures, too-large responses.
	Hook func(n int, req map[string]any) (resp esquery.Response, handled bool, err error)

	mu       sync.Mutex
	dynamic  bool
	types    map[string]string // field → family
	esTypes  map[string]string // field → Elasticsearch type as mapped or inferred
	indices  []string          // in creation order
	aliases  map[string][]string
	shards   map[string]int
	docs     []*stored
	requests []map[string]any
}

// stored is a document with its indexed values.
type stored struct {
	Doc
	order  int
	src    map[string]any // the source as JSON decodes it (json.Number)
	values map[string][]value
	raw    map[string][]any // leaf values by dotted path, for the fields API
}

// NewSearchFake returns an empty fake with the given mapping (field name →
// Elasticsearch type, e.g. "keyword", "long", "ip", "date"); nil maps fields
// dynamically.
func NewSearchFake(mapping map[string]string) *SearchFake {
	f := &SearchFake{dynamic: mapping == nil, types: map[string]string{}, esTypes: map[string]string{}, shards: map[string]int{}}
	for field, t := range mapping {
		if fam := family(t); fam != "" {
			f.types[field], f.esTypes[field] = fam, t
		}
	}
	return f
}

// CreateIndex makes an index known with its number of primary shards (an
// index created by Add has one): a search counts the shards of the indices
// it reads, and a search over an index without documents has aggregations
// (empty) where a search over no index has none.
func (f *SearchFake) CreateIndex(name string, shards int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.createIndex(name)
	f.shards[name] = max(shards, 1)
}

func (f *SearchFake) createIndex(name string) {
	if !slices.Contains(f.indices, name) {
		f.indices = append(f.indices, name)
		f.shards[name] = 1
	}
}

// AddAlias makes alias (or a data stream name) stand for indices in searches.
func (f *SearchFake) AddAlias(alias string, indices ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.aliases == nil {
		f.aliases = map[string][]string{}
	}
	f.aliases[alias] = append(f.aliases[alias], indices...)
}

// Add indexes documents. A value that does not fit its field's type is an
// error, as a mapper_parsing_exception is in Elasticsearch.
func (f *SearchFake) Add(docs ...Doc) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range docs {
		b, err := json.Marshal(d.Source)
		if err != nil {
			return fmt.Errorf("estest: encode document %s/%s: %w", d.Index, d.ID, err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var src map[string]any
		if err := dec.Decode(&src); err != nil {
			return fmt.Errorf("estest: decode document %s/%s: %w", d.Index, d.ID, err)
		}
		s := &stored{Doc: d, order: len(f.docs), src: src, values: map[string][]value{}, raw: map[string][]any{}}
		leaves(src, "", s.raw)
		for field, vs := range s.raw {
			fam, ok := f.types[field]
			if !ok && f.dynamic {
				if fam = inferType(vs[0]); fam != "" {
					f.types[field], f.esTypes[field] = fam, fam
				}
			}
			if fam == "" {
				continue
			}
			for _, v := range vs {
				tv, err := parseValue(fam, v)
				if err != nil {
					return fmt.Errorf("estest: document %s/%s field %s: %w", d.Index, d.ID, field, err)
				}
				s.values[field] = append(s.values[field], tv)
			}
		}
		f.createIndex(d.Index)
		f.docs = append(f.docs, s)
	}
	return nil
}

// leaves collects the non-null leaf values of obj by dotted path (arrays
// flattened, objects in arrays walked).
func leaves(v any, prefix string, out map[string][]any) {
	switch x := v.(type) {
	case nil:
	case map[string]any:
		for k, child := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			leaves(child, p, out)
		}
	case []any:
		for _, e := range x {
			leaves(e, prefix, out)
		}
	default:
		out[prefix] = append(out[prefix], x)
	}
}

// Requests returns the decoded bodies of every search so far (numbers as
// json.Number).
func (f *SearchFake) Requests() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// FieldCaps answers a field-capabilities lookup from the mapping (the
// detect.FieldCapsFunc shape); fields no document has are left out, as
// Elasticsearch leaves out unmapped fields.
func (f *SearchFake) FieldCaps(_ context.Context, _ []string, fields []string) ([]kql.FieldSpec, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []kql.FieldSpec
	for _, name := range fields {
		t, ok := f.esTypes[name]
		if !ok {
			continue
		}
		kt := map[string]string{TypeKeyword: "string", TypeLong: "number", TypeDouble: "number",
			TypeBoolean: "boolean", TypeIP: "ip", TypeDate: "date"}[f.types[name]]
		out = append(out, kql.FieldSpec{Name: name, Type: kt, ESTypes: []string{t}})
	}
	return out, nil
}

// requestError is an Elasticsearch error answer (a 400 unless status says otherwise).
type requestError struct {
	status       int
	kind, reason string
}

func (e *requestError) Error() string { return e.kind + ": " + e.reason }

func badRequest(format string, args ...any) *requestError {
	return &requestError{status: http.StatusBadRequest, kind: "parsing_exception", reason: fmt.Sprintf(format, args...)}
}

// Search evaluates body over the documents of indices and returns the
// response as the search client decodes it, cut to filterPath (plus the
// envelope) when given.
func (f *SearchFake) Search(_ context.Context, indices []string, body []byte, filterPath []string) (esquery.Response, error) {
	req, err := f.decode(body)
	if err != nil {
		return esquery.Response{}, err
	}
	if resp, handled, err := f.hook(req); handled {
		return resp, err
	}
	full, err := f.evaluate(indices, req)
	if err != nil {
		return esquery.Response{}, err
	}
	if len(filterPath) > 0 {
		full = FilterPath(full, append([]string{"took", "timed_out", "_shards", "hits.total"}, filterPath...))
	}
	return toResponse(full)
}

func (f *SearchFake) decode(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var req map[string]any
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("estest: decode search request: %w", err)
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	return req, nil
}

func (f *SearchFake) hook(req map[string]any) (esquery.Response, bool, error) {
	if f.Hook == nil {
		return esquery.Response{}, false, nil
	}
	f.mu.Lock()
	n := len(f.requests)
	f.mu.Unlock()
	return f.Hook(n, req)
}

// toResponse decodes a full search response map as the client does.
func toResponse(full map[string]any) (esquery.Response, error) {
	resp := esquery.Response{TotalHits: -1}
	if n, ok := full["took"].(int64); ok {
		resp.Took = n
	}
	if sh, ok := full["_shards"].(map[string]any); ok {
		resp.Shards, _ = sh["total"].(int)
	}
	if h, ok := full["hits"].(map[string]any); ok {
		if t, ok := h["total"].(map[string]any); ok {
			resp.TotalHits, _ = t["value"].(int64)
		}
	}
	if aggs, ok := full["aggregations"]; ok {
		b, err := json.Marshal(aggs)
		if err != nil {
			return esquery.Response{}, fmt.Errorf("estest: encode aggregations: %w", err)
		}
		resp.Aggregations = b
	}
	return resp, nil
}

// ServeSearch answers one _search request as Elasticsearch would over HTTP:
// the status and the JSON body, cut to filterPath when given.
func (f *SearchFake) ServeSearch(indices []string, body []byte, filterPath []string) (int, []byte) {
	req, err := f.decode(body)
	if err != nil {
		return errorBody(badRequest("%v", err))
	}
	if resp, handled, err := f.hook(req); handled {
		if err != nil {
			var re *requestError
			if errors.As(err, &re) {
				return errorBody(re)
			}
			return errorBody(&requestError{status: http.StatusInternalServerError, kind: "exception", reason: err.Error()})
		}
		return http.StatusOK, mustJSON(responseMap(resp))
	}
	full, err := f.evaluate(indices, req)
	if err != nil {
		var re *requestError
		if errors.As(err, &re) {
			return errorBody(re)
		}
		return errorBody(&requestError{status: http.StatusInternalServerError, kind: "exception", reason: err.Error()})
	}
	if len(filterPath) > 0 {
		full = FilterPath(full, filterPath)
	}
	return http.StatusOK, mustJSON(full)
}

// responseMap renders a hook's decoded response back as a search body.
func responseMap(r esquery.Response) map[string]any {
	m := map[string]any{
		"took": r.Took, "timed_out": false,
		"_shards": map[string]any{"total": r.Shards, "successful": r.Shards, "skipped": 0, "failed": 0},
		"hits":    map[string]any{"hits": []any{}},
	}
	if r.TotalHits >= 0 {
		m["hits"].(map[string]any)["total"] = map[string]any{"value": r.TotalHits, "relation": "eq"}
	}
	if r.Aggregations != nil {
		m["aggregations"] = json.RawMessage(r.Aggregations)
	}
	return m
}

func errorBody(e *requestError) (int, []byte) {
	return e.status, mustJSON(map[string]any{
		"error":  map[string]any{"root_cause": []any{map[string]any{"type": e.kind, "reason": e.reason}}, "type": e.kind, "reason": e.reason},
		"status": e.status,
	})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("estest: encode response: %v", err))
	}
	return b
}

// evaluate runs a decoded request. Unsupported or invalid parts of the
// request are 400 errors.
func (f *SearchFake) evaluate(indices []string, req map[string]any) (out map[string]any, err error) {
	defer func() {
		if p := recover(); p != nil {
			re, ok := p.(*requestError)
			if !ok {
				panic(p)
			}
			out, err = nil, re
		}
	}()
	f.mu.Lock()
	names := f.matchIndices(indices)
	var docs []*stored
	for _, d := range f.docs {
		if slices.Contains(names, d.Index) {
			docs = append(docs, d)
		}
	}
	e := &evaluator{types: maps.Clone(f.types), esTypes: maps.Clone(f.esTypes)} // Add may run meanwhile
	shards := 0
	for _, name := range names {
		shards += f.shards[name]
	}
	f.mu.Unlock()

	query := e.compile(req["query"])
	var matched []*stored
	for _, d := range docs {
		if query(d) {
			matched = append(matched, d)
		}
	}
	hits := map[string]any{"max_score": nil, "hits": e.hits(req, matched)}
	switch t := req["track_total_hits"].(type) {
	case bool:
		if t {
			hits["total"] = map[string]any{"value": int64(len(matched)), "relation": "eq"}
		}
	default:
		n, rel := int64(len(matched)), "eq"
		if n > 10000 {
			n, rel = 10000, "gte"
		}
		hits["total"] = map[string]any{"value": n, "relation": rel}
	}
	out = map[string]any{
		"took": int64(1), "timed_out": false,
		"_shards": map[string]any{"total": shards, "successful": shards, "skipped": 0, "failed": 0},
		"hits":    hits,
	}
	aggsReq := obj(req["aggregations"])
	if aggsReq == nil {
		aggsReq = obj(req["aggs"])
	}
	if aggsReq != nil && len(names) > 0 {
		aggs := map[string]any{}
		for name, a := range aggsReq {
			aggs[name] = e.aggregate(obj(a), matched)
		}
		out["aggregations"] = aggs
	}
	return out, nil
}

// matchIndices resolves index expressions (comma lists, wildcards,
// exclusions) to known index names; missing ones are ignored
// (ignore_unavailable).
func (f *SearchFake) matchIndices(exprs []string) []string {
	var parts []string
	for _, e := range exprs {
		parts = append(parts, strings.Split(e, ",")...)
	}
	if len(parts) == 0 || len(parts) == 1 && (parts[0] == "" || parts[0] == "_all") {
		parts = []string{"*"}
	}
	var out []string
	for _, name := range f.indices {
		in := false
		for _, p := range parts {
			ex, exclude := strings.CutPrefix(p, "-")
			if exclude && in {
				if f.nameMatches(ex, name) {
					in = false
				}
				continue
			}
			if f.nameMatches(p, name) {
				in = true
			}
		}
		if in {
			out = append(out, name)
		}
	}
	return out
}

// nameMatches reports whether pattern names index directly or through an alias.
func (f *SearchFake) nameMatches(pattern, index string) bool {
	if m, _ := path.Match(pattern, index); m {
		return true
	}
	for alias, members := range f.aliases {
		if m, _ := path.Match(pattern, alias); m && slices.Contains(members, index) {
			return true
		}
	}
	return false
}

// hits returns the first size matching documents (default 10), sorted as
// requested (insertion order otherwise).
func (e *evaluator) hits(req map[string]any, docs []*stored) []any {
	size := 10
	if n, ok := req["size"].(json.Number); ok {
		v, _ := n.Int64()
		size = int(v)
	}
	if size <= 0 || len(docs) == 0 {
		return []any{}
	}
	return e.topHits(map[string]any{"size": json.Number(fmt.Sprint(size)), "sort": req["sort"],
		"_source": req["_source"], "fields": req["fields"]}, docs)
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func arr(v any) []any          { a, _ := v.([]any); return a }

// clauses returns a query's clause list, given as an array or one object.
func clauses(v any) []any {
	if a, ok := v.([]any); ok {
		return a
	}
	if v == nil {
		return nil
	}
	return []any{v}
}
