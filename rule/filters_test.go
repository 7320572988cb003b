package rule

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/kql"
)

// decodeJSON decodes s as filter clauses are decoded (numbers as json.Number).
func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	m, err := decodeFilter([]byte(s))
	require.NoError(t, err)
	return m
}

func TestFilterClausesAsKibana(t *testing.T) {
	nested := []kql.FieldSpec{
		{Name: "user.first", Type: "string", ESTypes: []string{"keyword"}, NestedPath: "user"},
		{Name: "ssl", Type: "boolean", ESTypes: []string{"boolean"}},
	}
	tests := []struct {
		name            string
		filters         []string
		fields          []kql.FieldSpec
		filter, mustNot []string
	}{
		{"query filter", []string{`{"meta":{"negate":false,"disabled":false},"query":{"match_phrase":{"host.name":"h1"}}}`}, nil,
			[]string{`{"match_phrase":{"host.name":"h1"}}`}, nil},
		{"phrase filter as Kibana saves it", []string{`{"meta":{"alias":null,"negate":false,"disabled":false,"type":"phrase","key":"event.dataset","params":{"query":"okta.system"},"index":"dv"},"query":{"match_phrase":{"event.dataset":"okta.system"}},"$state":{"store":"appState"}}`}, nil,
			[]string{`{"match_phrase":{"event.dataset":"okta.system"}}`}, nil},
		{"no meta", []string{`{"query":{"term":{"a":1}}}`}, nil, []string{`{"term":{"a":1}}`}, nil},
		{"negate goes to must_not", []string{`{"meta":{"negate":true},"query":{"wildcard":{"file.path":{"case_insensitive":true,"value":"?:\\Windows\\*"}}}}`}, nil,
			nil, []string{`{"wildcard":{"file.path":{"case_insensitive":true,"value":"?:\\Windows\\*"}}}`}},
		{"disabled is dropped", []string{`{"meta":{"disabled":true,"negate":true},"query":{"term":{"a":1}}}`, `{"meta":{"disabled":false},"query":{"term":{"b":2}}}`}, nil,
			[]string{`{"term":{"b":2}}`}, nil},
		{"legacy exists", []string{`{"meta":{},"exists":{"field":"x"}}`}, nil, []string{`{"exists":{"field":"x"}}`}, nil},
		{"legacy range and other keys", []string{`{"meta":{"negate":true},"range":{"n":{"gte":1}},"$state":{"store":"appState"}}`}, nil,
			nil, []string{`{"range":{"n":{"gte":1}}}`}},
		{"query wins over top-level keys", []string{`{"query":{"term":{"a":1}},"exists":{"field":"x"}}`}, nil, []string{`{"term":{"a":1}}`}, nil},
		{"bool query", []string{`{"meta":{"type":"custom"},"query":{"bool":{"should":[{"term":{"a":1}},{"term":{"a":2}}],"minimum_should_match":1}}}`}, nil,
			[]string{`{"bool":{"should":[{"term":{"a":1}},{"term":{"a":2}}],"minimum_should_match":1}}`}, nil},
		{"match_all is dropped from filter only", []string{`{"query":{"match_all":{}}}`, `{"meta":{"negate":true},"match_all":{}}`}, nil,
			[]string{`{"match_all":{}}`}, []string{`{"match_all":{}}`}},
		{"deprecated match phrase", []string{`{"query":{"match":{"host.name":{"query":"h1","type":"phrase"}}}}`}, nil,
			[]string{`{"match_phrase":{"host.name":{"query":"h1"}}}`}, nil},
		{"deprecated match phrase on a boolean field", []string{`{"match":{"ssl":{"query":"true","type":"phrase"}}}`}, nested,
			[]string{`{"match_phrase":{"ssl":{"query":true}}}`}, nil},
		{"nested field", []string{`{"query":{"match_phrase":{"user.first":"a"}}}`, `{"meta":{"negate":true},"query":{"exists":{"field":"user.first"}}}`}, nested,
			[]string{`{"nested":{"path":"user","query":{"match_phrase":{"user.first":"a"}}}}`},
			[]string{`{"nested":{"path":"user","query":{"exists":{"field":"user.first"}}}}`}},
		{"combined AND", []string{`{"meta":{"type":"combined","relation":"AND","params":[{"query":{"term":{"a":1}}},{"meta":{"negate":true},"query":{"term":{"b":2}}},{"meta":{"disabled":true},"query":{"term":{"c":3}}}]}}`}, nil,
			[]string{`{"bool":{"must":[],"filter":[{"term":{"a":1}}],"should":[],"must_not":[{"term":{"b":2}}]}}`}, nil},
		{"combined OR negated", []string{`{"meta":{"type":"combined","relation":"OR","negate":true,"params":[{"query":{"term":{"a":1}}},{"meta":{"negate":true},"query":{"term":{"b":2}}}]}}`}, nil,
			nil, []string{`{"bool":{"should":[{"bool":{"must":[],"filter":[{"term":{"a":1}}],"should":[],"must_not":[]}},{"bool":{"must":[],"filter":[],"should":[],"must_not":[{"term":{"b":2}}]}}],"minimum_should_match":1}}`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raws := make([]json.RawMessage, len(tc.filters))
			for i, f := range tc.filters {
				raws[i] = json.RawMessage(f)
			}
			filter, mustNot, err := FilterClauses(raws, tc.fields)
			require.NoError(t, err)
			want := func(list []string) []any {
				out := []any{}
				for _, s := range list {
					out = append(out, decodeJSON(t, s))
				}
				return out
			}
			got := func(list []any) []any {
				b, err := json.Marshal(list)
				require.NoError(t, err)
				out := []any{}
				var raw []json.RawMessage
				require.NoError(t, json.Unmarshal(b, &raw))
				for _, r := range raw {
					out = append(out, decodeJSON(t, string(r)))
				}
				return out
			}
			if tc.name == "match_all is dropped from filter only" {
				// FilterClauses keeps it; buildEsQuery's removeMatchAll drops it.
				require.True(t, IsMatchAll(filter[0]))
			}
			require.Equal(t, want(tc.filter), got(filter))
			require.Equal(t, want(tc.mustNot), got(mustNot))
		})
	}
}

func TestFilterProblems(t *testing.T) {
	for _, c := range []struct{ filter, want string }{
		{`"x"`, `want a Kibana filter object {meta, query}, got string "x"`},
		{`{"meta":{"negate":"true"},"query":{"term":{"a":1}}}`, `meta.negate: want true or false, got string "true"`},
		{`{"meta":{"negate":null},"query":{"term":{"a":1}}}`, `meta.negate: want true or false, got null`},
		{`{"meta":{"disabled":1},"query":{"term":{"a":1}}}`, `meta.disabled: want true or false, got number 1`},
		{`{"meta":[],"query":{"term":{"a":1}}}`, `meta: want an object, got a list`},
		{`{"meta":{"negate":true}}`, `has no query`},
		{`{"query":{}}`, `query: want a query DSL object`},
		{`{"query":"a:b"}`, `query: want a query DSL object`},
		{`{"meta":{"type":"combined","relation":"XOR","params":[]}}`, `meta.relation: a combined filter wants "AND" or "OR"`},
		{`{"meta":{"type":"combined","relation":"AND","params":[{"meta":{"negate":1},"query":{"term":{"a":1}}}]}}`, `meta.params[0]: meta.negate: want true or false`},
	} {
		_, _, err := FilterClauses([]json.RawMessage{json.RawMessage(c.filter)}, nil)
		require.ErrorContains(t, err, c.want, c.filter)
		r := validRule()
		r.Filters = []json.RawMessage{json.RawMessage(c.filter)}
		ps := r.Validate()
		require.Len(t, ps, 1, c.filter)
		require.Equal(t, "filters[0]", ps[0].Field)
		require.Contains(t, ps[0].Reason, c.want)
	}
}

func TestFilterFields(t *testing.T) {
	got := FilterFields([]json.RawMessage{
		json.RawMessage(`{"query":{"bool":{"should":[{"match_phrase":{"a":"1"}},{"range":{"b":{"gte":1}}}],"must_not":{"exists":{"field":"c"}}}}}`),
		json.RawMessage(`{"meta":{"disabled":true},"query":{"term":{"skipped":1}}}`),
		json.RawMessage(`{"exists":{"field":"d"}}`),
		json.RawMessage(`{"query":{"wildcard":{"e":{"value":"x*"}}}}`),
		json.RawMessage(`{"query":{"query_string":{"query":"x","fields":["f^2","g"]}}}`),
		json.RawMessage(`{"meta":{"type":"combined","relation":"OR","params":[{"query":{"terms":{"h":["1"],"boost":2}}}]}}`),
		json.RawMessage(`{"query":{"match":{"i":{"query":"v","type":"phrase"}}}}`),
		json.RawMessage(`{"query":{"nested":{"path":"n","query":{"term":{"n.j":1}}}}}`),
	})
	require.Equal(t, []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "n.j"}, got)
}

func TestLucene(t *testing.T) {
	require.Equal(t, map[string]any{"query_string": map[string]any{"query": "a:b", "analyze_wildcard": true, "time_zone": "Zulu"}}, LuceneClause("a:b"))
	require.True(t, IsMatchAll(LuceneClause("  ")))
	for q, want := range map[string]string{
		`a:"b`:       "invalid Lucene at character 2: the quoted phrase is not closed",
		`(a:b`:       "invalid Lucene: '(' is not closed",
		`a:b)`:       "invalid Lucene at character 3: ')' closes nothing",
		`n:[1 TO 2`:  "invalid Lucene: '[' is not closed",
		`a\`:         "a backslash must escape a character",
		`x:y]`:       "']' closes no range",
		`n:[1 TO 2}`: "",
		`a:"(b" \(c`: "",
		`event.dataset:okta.system AND NOT user.name:admin*`: "",
	} {
		err := checkLucene(q)
		if want == "" {
			require.NoError(t, err, q)
			continue
		}
		require.ErrorContains(t, err, want, q)
	}
	require.Equal(t, []string{"event.dataset", "user.name", "process.*", "a.b"},
		LuceneFields(`event.dataset:okta AND NOT (user.name:x OR "quoted c:d") +process.*:y -a.b:z _exists_:f`))
}

// FuzzFilterClauses: no filter object makes the translation panic, and an
// accepted one translates to JSON Elasticsearch can read back.
func FuzzFilterClauses(f *testing.F) {
	for _, s := range []string{
		`{"meta":{"negate":true},"query":{"wildcard":{"a":{"value":"x*"}}}}`,
		`{"meta":{"type":"combined","relation":"OR","params":[{"query":{"term":{"a":1}}}]}}`,
		`{"match":{"a":{"query":"true","type":"phrase"}}}`, `{"exists":{"field":"x"}}`, `{"meta":null}`, `[]`,
	} {
		f.Add(s)
	}
	fields := []kql.FieldSpec{{Name: "a", Type: "boolean", NestedPath: "n"}}
	f.Fuzz(func(t *testing.T, s string) {
		filter, mustNot, err := FilterClauses([]json.RawMessage{json.RawMessage(s)}, fields)
		if err != nil {
			return
		}
		if _, err := json.Marshal(append(filter, mustNot...)); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		_ = FilterFields([]json.RawMessage{json.RawMessage(s)})
	})
}
