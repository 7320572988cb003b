package rule

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"

	"github.com/esrule/esrule/kql"
)

// A rule's filters are Kibana filter objects: {"meta": {...}, "query": {...}},
// or a legacy filter whose clause sits next to meta ({"meta": {...},
// "exists": {...}}). FilterClauses translates them exactly as Kibana's
// buildQueryFromFilters (kbn-es-query) does for the detection engine:
//
//   - meta.disabled true drops the filter;
//   - meta.negate true puts the clause in must_not, false or absent in filter
//     (any other value of negate matches neither list, so Kibana drops the
//     filter; esrule refuses it when loading);
//   - a legacy filter's keys other than meta and $state become its query;
//     when query is present, other top-level keys are ignored;
//   - a deprecated {"match": {field: {"query": v, "type": "phrase"}}} becomes
//     match_phrase, with v converted for boolean fields;
//   - meta.type "combined" builds a bool of meta.params (relation AND: all,
//     OR: minimum_should_match 1);
//   - a phrase, phrases, range or exists filter on a field below a nested
//     field is wrapped in a nested query;
//   - a clause equal to {"match_all": {}} is left out of filter.

// filterMeta is the part of meta that changes the translation.
type filterMeta struct {
	Disabled any `json:"disabled"`
	Negate   any `json:"negate"`
	Type     any `json:"type"`
	Relation any `json:"relation"`
	Key      any `json:"key"`
	// Params are a combined filter's sub-filters (a phrase filter's params
	// are an object, which the translation does not read).
	Params any `json:"params"`
}

// subFilters returns a combined filter's params as a list.
func (m filterMeta) subFilters() []any {
	list, _ := m.Params.([]any)
	return list
}

// decodeFilter decodes one filter object, keeping numbers exact.
func decodeFilter(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("want a Kibana filter object: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want a Kibana filter object {meta, query}, got %s", describe(v))
	}
	return m, nil
}

// checkFilter reports what makes a filter unusable: a meta that is not an
// object, negate or disabled that are not booleans, a filter without any
// query clause, a query that is not a non-empty object, and combined
// filters whose params are not filters.
func checkFilter(f map[string]any) error {
	meta, err := metaOf(f)
	if err != nil {
		return err
	}
	if _, ok := meta.Disabled.(bool); meta.Disabled != nil && !ok {
		return fmt.Errorf("meta.disabled: want true or false, got %s", describe(meta.Disabled))
	}
	if _, ok := meta.Negate.(bool); meta.Negate != nil && !ok {
		return fmt.Errorf("meta.negate: want true or false, got %s", describe(meta.Negate))
	}
	if m, _ := f["meta"].(map[string]any); m != nil {
		// Kibana compares negate with === true and === false: null matches
		// neither and the filter silently disappears.
		if v, ok := m["negate"]; ok && v == nil {
			return fmt.Errorf("meta.negate: want true or false, got null")
		}
	}
	if meta.Type == "combined" {
		if meta.Relation != "AND" && meta.Relation != "OR" {
			return fmt.Errorf("meta.relation: a combined filter wants \"AND\" or \"OR\", got %s", describeOpt(meta.Relation))
		}
		if len(meta.subFilters()) == 0 {
			return fmt.Errorf("meta.params: a combined filter wants a list of filters")
		}
		for i, p := range meta.subFilters() {
			sub, ok := p.(map[string]any)
			if !ok {
				return fmt.Errorf("meta.params[%d]: want a filter object, got %s", i, describe(p))
			}
			if err := checkFilter(sub); err != nil {
				return fmt.Errorf("meta.params[%d]: %w", i, err)
			}
		}
		return nil
	}
	if q, ok := f["query"]; ok {
		m, isObj := q.(map[string]any)
		if !isObj || len(m) == 0 {
			return fmt.Errorf("query: want a query DSL object such as {\"match_phrase\": {...}}, got %s", describe(q))
		}
		return nil
	}
	for k := range f {
		if k != "meta" && k != "$state" {
			return nil // a legacy filter: its clause is this key
		}
	}
	return fmt.Errorf("has no query: want {\"meta\": {...}, \"query\": {...}}")
}

func metaOf(f map[string]any) (filterMeta, error) {
	var meta filterMeta
	raw, ok := f["meta"]
	if !ok || raw == nil {
		return meta, nil
	}
	if _, isObj := raw.(map[string]any); !isObj {
		return meta, fmt.Errorf("meta: want an object, got %s", describe(raw))
	}
	b, err := json.Marshal(raw)
	if err == nil {
		err = json.Unmarshal(b, &meta)
	}
	if err != nil {
		return meta, fmt.Errorf("meta: %w", err)
	}
	return meta, nil
}

// FilterClauses translates filters (the rule's Filters) into the filter and
// must_not clauses of Kibana's buildQueryFromFilters. fields are the field
// specs of the rule's indices (nil when unknown): they decide nested wrapping
// and boolean conversion of deprecated phrase filters, as the data view's
// fields do in Kibana.
func FilterClauses(filters []json.RawMessage, fields []kql.FieldSpec) (filter, mustNot []any, err error) {
	decoded := make([]map[string]any, 0, len(filters))
	for i, raw := range filters {
		f, err := decodeFilter(raw)
		if err == nil {
			err = checkFilter(f)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("filter %d: %w", i, err)
		}
		decoded = append(decoded, f)
	}
	filter, mustNot, err = buildFromFilters(decoded, fields)
	return filter, mustNot, err
}

// buildFromFilters is Kibana's buildQueryFromFilters over decoded filters.
func buildFromFilters(filters []map[string]any, fields []kql.FieldSpec) (filter, mustNot []any, err error) {
	filter, mustNot = []any{}, []any{}
	for _, f := range filters {
		meta, err := metaOf(f)
		if err != nil {
			return nil, nil, err
		}
		if meta.Disabled == true {
			continue
		}
		clause, err := filterToQuery(f, meta, fields)
		if err != nil {
			return nil, nil, err
		}
		switch meta.Negate {
		case nil, false:
			filter = append(filter, clause)
		case true:
			mustNot = append(mustNot, clause)
		}
	}
	return filter, mustNot, nil
}

// filterToQuery is Kibana's filterToQueryDsl: migrate, nest, combine, clean.
func filterToQuery(f map[string]any, meta filterMeta, fields []kql.FieldSpec) (any, error) {
	query := migrate(f, fields)
	if path := nestedPath(query, meta, fields); path != "" {
		query = map[string]any{"nested": map[string]any{"path": path, "query": query}}
	}
	if meta.Type == "combined" {
		subs := make([]map[string]any, 0, len(meta.subFilters()))
		for _, p := range meta.subFilters() {
			subs = append(subs, p.(map[string]any))
		}
		if meta.Relation == "AND" {
			filter, mustNot, err := buildFromFilters(subs, fields)
			if err != nil {
				return nil, err
			}
			return map[string]any{"bool": boolOf(filter, mustNot)}, nil
		}
		should := make([]any, 0, len(subs))
		for _, s := range subs {
			filter, mustNot, err := buildFromFilters([]map[string]any{s}, fields)
			if err != nil {
				return nil, err
			}
			should = append(should, map[string]any{"bool": boolOf(filter, mustNot)})
		}
		return map[string]any{"bool": map[string]any{"should": should, "minimum_should_match": 1}}, nil
	}
	return query, nil
}

// boolOf is the bool query body buildQueryFromFilters returns.
func boolOf(filter, mustNot []any) map[string]any {
	return map[string]any{"must": []any{}, "filter": filter, "should": []any{}, "must_not": mustNot}
}

// migrate is Kibana's migrateFilter followed by translateToQuery: the
// filter's query clause.
func migrate(f map[string]any, fields []kql.FieldSpec) map[string]any {
	if field, params, ok := deprecatedPhrase(f); ok {
		p := make(map[string]any, len(params))
		for k, v := range params {
			if k != "type" {
				p[k] = v
			}
		}
		if spec := findField(fields, field); spec != nil && spec.Type == "boolean" {
			p["query"] = booleanValue(params["query"])
		}
		return map[string]any{"match_phrase": map[string]any{field: p}}
	}
	if q, ok := f["query"].(map[string]any); ok {
		return q
	}
	q := map[string]any{}
	for k, v := range f {
		if k != "meta" && k != "$state" {
			q[k] = v
		}
	}
	return q
}

// deprecatedPhrase recognises {"match": {field: {"query": v, "type": "phrase"}}}
// at the top level or under query.
func deprecatedPhrase(f map[string]any) (string, map[string]any, bool) {
	match, _ := f["match"].(map[string]any)
	if match == nil {
		if q, ok := f["query"].(map[string]any); ok {
			match, _ = q["match"].(map[string]any)
		}
	}
	if len(match) == 0 {
		return "", nil, false
	}
	field := firstKey(match)
	params, _ := match[field].(map[string]any)
	if params == nil || params["type"] != "phrase" {
		return "", nil, false
	}
	return field, params, true
}

// booleanValue is Kibana's getConvertedValueForField for boolean fields:
// "true" and 1 are true, "false" and 0 are false; other values stay as they
// are (Kibana throws; Elasticsearch then reports the value).
func booleanValue(v any) any {
	switch x := v.(type) {
	case string:
		switch x {
		case "true":
			return true
		case "false":
			return false
		}
	case json.Number:
		switch x.String() {
		case "1":
			return true
		case "0":
			return false
		}
	case int64:
		switch x {
		case 1:
			return true
		case 0:
			return false
		}
	}
	return v
}

// nestedPath is the nested path of the field a phrase, phrases, range or
// exists filter is about (Kibana's getFilterField), or "".
func nestedPath(query map[string]any, meta filterMeta, fields []kql.FieldSpec) string {
	var field string
	switch {
	case query["exists"] != nil:
		if e, ok := query["exists"].(map[string]any); ok {
			field, _ = e["field"].(string)
		}
	case query["match_phrase"] != nil:
		if m, ok := query["match_phrase"].(map[string]any); ok {
			field = firstKey(m)
		}
	case meta.Type == "phrases":
		field, _ = meta.Key.(string)
	case query["range"] != nil:
		if m, ok := query["range"].(map[string]any); ok {
			field = firstKey(m)
		}
	}
	if spec := findField(fields, field); spec != nil {
		return spec.NestedPath
	}
	return ""
}

func findField(fields []kql.FieldSpec, name string) *kql.FieldSpec {
	if name == "" {
		return nil
	}
	for i := range fields {
		if fields[i].Name == name {
			return &fields[i]
		}
	}
	return nil
}

// firstKey is the first key of m in sorted order (filter clauses name one field).
func firstKey(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

// IsMatchAll reports whether clause is {"match_all": {}}, which Kibana's
// buildEsQuery leaves out of must, filter and should.
func IsMatchAll(clause any) bool {
	return reflect.DeepEqual(clause, map[string]any{"match_all": map[string]any{}})
}

// FilterFields lists the field names the rule's filters refer to, in order
// and without duplicates, for field capabilities and field checks. It reads
// the field-level queries of Elasticsearch's DSL (term, terms, match,
// match_phrase, wildcard, prefix, regexp, fuzzy, range, exists,
// query_string fields, ...) through bool, nested, constant_score, dis_max
// and boosting, and the sub-filters of combined filters. Disabled filters
// are skipped.
func FilterFields(filters []json.RawMessage) []string {
	var names []string
	add := func(n string) {
		if n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	var walkFilter func(f map[string]any)
	walkFilter = func(f map[string]any) {
		meta, err := metaOf(f)
		if err != nil || meta.Disabled == true {
			return
		}
		if meta.Type == "combined" {
			for _, p := range meta.subFilters() {
				if sub, ok := p.(map[string]any); ok {
					walkFilter(sub)
				}
			}
			return
		}
		queryFields(migrate(f, nil), add)
	}
	for _, raw := range filters {
		if f, err := decodeFilter(raw); err == nil {
			walkFilter(f)
		}
	}
	return names
}

// fieldLevelQueries are DSL queries whose object keys are field names.
var fieldLevelQueries = []string{
	"term", "terms", "match", "match_phrase", "match_phrase_prefix", "match_bool_prefix",
	"wildcard", "prefix", "regexp", "fuzzy", "range", "term_set",
}

// queryFields calls add for every field a DSL clause refers to.
func queryFields(clause any, add func(string)) {
	m, ok := clause.(map[string]any)
	if !ok {
		if list, isList := clause.([]any); isList {
			for _, c := range list {
				queryFields(c, add)
			}
		}
		return
	}
	for _, kind := range slices.Sorted(maps.Keys(m)) {
		body, _ := m[kind].(map[string]any)
		switch {
		case slices.Contains(fieldLevelQueries, kind):
			for _, k := range slices.Sorted(maps.Keys(body)) {
				if k != "boost" && k != "_name" {
					add(k)
				}
			}
		case kind == "exists":
			f, _ := body["field"].(string)
			add(f)
		case kind == "query_string" || kind == "simple_query_string":
			if f, ok := body["default_field"].(string); ok && f != "*" {
				add(f)
			}
			if list, ok := body["fields"].([]any); ok {
				for _, f := range list {
					if s, ok := f.(string); ok {
						add(stripBoost(s))
					}
				}
			}
		case kind == "bool":
			for _, occ := range []string{"must", "filter", "should", "must_not"} {
				queryFields(body[occ], add)
			}
		case kind == "nested" || kind == "constant_score" || kind == "boosting":
			for _, k := range []string{"query", "filter", "positive", "negative"} {
				queryFields(body[k], add)
			}
		case kind == "dis_max":
			queryFields(body["queries"], add)
		}
	}
}

// stripBoost removes a "^2" boost suffix from a query_string field.
func stripBoost(f string) string {
	for i := len(f) - 1; i >= 0; i-- {
		if f[i] == '^' {
			return f[:i]
		}
	}
	return f
}

// filters reports every filter Kibana would not translate as written.
func (v *validator) filters(filters []json.RawMessage) {
	for i, raw := range filters {
		f, err := decodeFilter(raw)
		if err == nil {
			err = checkFilter(f)
		}
		if err != nil {
			v.add(fmt.Sprintf("filters[%d]", i), "%v", err)
		}
	}
}
