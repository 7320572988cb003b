package kql

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// testFields is a small data view for typed golden tests.
var testFields = []FieldSpec{
	{Name: "@timestamp", Type: "date", ESTypes: []string{"date"}},
	{Name: "a.b.c", Type: "string", ESTypes: []string{"keyword"}, NestedPath: "a.b"},
	{Name: "host.name", Type: "string", ESTypes: []string{"keyword"}},
	{Name: "message", Type: "string", ESTypes: []string{"text"}},
	{Name: "user.id", Type: "number", ESTypes: []string{"long"}},
	{Name: "x.y", Type: "string", ESTypes: []string{"keyword"}},
}

func jsonValue(t *testing.T, s string) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(s), &v), s)
	return v
}

// TestTranslateGolden covers the translation rules of Kibana's kbn-es-query
// (typed and untyped, docs/semantics.md) and the pitfalls that show in the DSL.
func TestTranslateGolden(t *testing.T) {
	yes, no := true, false
	typed := DetectionEngine(testFields)
	untyped := DetectionEngine(nil)
	tests := []struct {
		name  string
		query string
		opts  Options
		want  string
	}{
		{"pitfall 2 multi-word value is one match", `message:a b`, untyped,
			`{"bool":{"should":[{"match":{"message":"a b"}}],"minimum_should_match":1}}`},
		{"pitfall 3 wildcard with space untyped splits", `host.name:*a b*`, untyped,
			`{"bool":{"should":[{"query_string":{"fields":["host.name"],"query":"*a b*"}}],"minimum_should_match":1}}`},
		{"pitfall 3 wildcard with space typed keyword", `host.name:*a b*`, typed,
			`{"bool":{"should":[{"wildcard":{"host.name":{"value":"*a b*"}}}],"minimum_should_match":1}}`},
		{"pitfall 4 wildcard field untyped", `host.*:x`, untyped,
			`{"bool":{"should":[{"match":{"host.*":"x"}}],"minimum_should_match":1}}`},
		{"pitfall 4 wildcard field typed expands", `h*:x`, typed,
			`{"bool":{"should":[{"term":{"host.name":{"value":"x"}}}],"minimum_should_match":1}}`},
		{"wildcard field matching nothing keeps name", `nope.*:x`, typed,
			`{"bool":{"should":[{"match":{"nope.*":"x"}}],"minimum_should_match":1}}`},
		{"pitfall 6 numbers stay strings", `user.id:007 and user.id:12345678901234567890`, typed,
			`{"bool":{"filter":[{"bool":{"should":[{"match":{"user.id":"007"}}],"minimum_should_match":1}},{"bool":{"should":[{"match":{"user.id":"12345678901234567890"}}],"minimum_should_match":1}}]}}`},
		{"pitfall 7 case_insensitive only when set", `host.name:X`, Options{Fields: testFields, CaseInsensitive: &no},
			`{"bool":{"should":[{"term":{"host.name":{"value":"X","case_insensitive":false}}}],"minimum_should_match":1}}`},
		{"pitfall 7 case_insensitive on wildcard", `host.name:X*`, Options{Fields: testFields, CaseInsensitive: &yes},
			`{"bool":{"should":[{"wildcard":{"host.name":{"value":"X*","case_insensitive":true}}}],"minimum_should_match":1}}`},
		{"pitfall 8 unfielded wildcard", `mimi*`, typed, `{"query_string":{"query":"mimi*"}}`},
		{"pitfall 9 quoted star literal", `host.name:"a*"`, typed,
			`{"bool":{"should":[{"term":{"host.name":{"value":"a*"}}}],"minimum_should_match":1}}`},
		{"pitfall 11 date equality typed", `@timestamp:2024-01-01`, typed,
			`{"bool":{"should":[{"range":{"@timestamp":{"gte":"2024-01-01","lte":"2024-01-01","time_zone":"Zulu"}}}],"minimum_should_match":1}}`},
		{"pitfall 11 epoch range no time_zone", `@timestamp < 1704067200000`, typed,
			`{"bool":{"should":[{"range":{"@timestamp":{"lt":"1704067200000"}}}],"minimum_should_match":1}}`},
		{"date without DateFormatTZ", `@timestamp > now-1d`, Options{Fields: testFields},
			`{"bool":{"should":[{"range":{"@timestamp":{"gt":"now-1d"}}}],"minimum_should_match":1}}`},
		{"date Browser is UTC", `@timestamp > now-1d`, Options{Fields: testFields, DateFormatTZ: "Browser"},
			`{"bool":{"should":[{"range":{"@timestamp":{"gt":"now-1d","time_zone":"UTC"}}}],"minimum_should_match":1}}`},
		{"date wildcard value goes to query_string", `@timestamp:2024*`, typed,
			`{"bool":{"should":[{"query_string":{"fields":["@timestamp"],"query":"2024*"}}],"minimum_should_match":1}}`},
		{"pitfall 12 nested untyped silently plain", `a.b.c:x`, untyped,
			`{"bool":{"should":[{"match":{"a.b.c":"x"}}],"minimum_should_match":1}}`},
		{"nested typed in group", `a.b:{ c:x }`, typed,
			`{"nested":{"path":"a.b","query":{"bool":{"should":[{"term":{"a.b.c":{"value":"x"}}}],"minimum_should_match":1}},"score_mode":"none"}}`},
		{"nested ignore_unmapped", `a.b:{ c:x }`, Options{NestedIgnoreUnmapped: &no},
			`{"nested":{"path":"a.b","query":{"bool":{"should":[{"match":{"a.b.c":"x"}}],"minimum_should_match":1}},"score_mode":"none","ignore_unmapped":false}}`},
		{"wildcard name auto nested wrap", `a.*:x`, typed,
			`{"bool":{"should":[{"nested":{"path":"a.b","query":{"term":{"a.b.c":{"value":"x"}}},"score_mode":"none"}}],"minimum_should_match":1}}`},
		{"wildcard name exists auto nested wrap", `a.*.c:*`, typed,
			`{"bool":{"should":[{"nested":{"path":"a.b","query":{"exists":{"field":"a.b.c"}},"score_mode":"none"}}],"minimum_should_match":1}}`},
		{"wildcard name inside nested group no wrap", `a.b:{ c* : x }`, typed,
			`{"nested":{"path":"a.b","query":{"bool":{"should":[{"term":{"a.b.c":{"value":"x"}}}],"minimum_should_match":1}},"score_mode":"none"}}`},
		{"pitfall 15 unfielded in nested group", `p:{ foo }`, untyped,
			`{"nested":{"path":"p","query":{"bool":{"should":[{"match":{"p.null":"foo"}}],"minimum_should_match":1}},"score_mode":"none"}}`},
		{"match_all inside and kept", `a:b and *:*`, untyped,
			`{"bool":{"filter":[{"bool":{"should":[{"match":{"a":"b"}}],"minimum_should_match":1}},{"match_all":{}}]}}`},
		{"filters in must clause", `a:b and c:d`, Options{FiltersInMustClause: true},
			`{"bool":{"must":[{"bool":{"should":[{"match":{"a":"b"}}],"minimum_should_match":1}},{"bool":{"should":[{"match":{"c":"d"}}],"minimum_should_match":1}}]}}`},
		{"field written true stays boolean in exists", `true:*`, untyped, `{"bool":{"should":[{"exists":{"field":true}}],"minimum_should_match":1}}`},
		{"null value", `a:null`, untyped, `{"bool":{"should":[{"match":{"a":null}}],"minimum_should_match":1}}`},
		{"null field is unfielded", `null:foo`, untyped, `{"multi_match":{"type":"best_fields","query":"foo","lenient":true}}`},
		{"range on boolean literal", `a < true`, untyped, `{"bool":{"should":[{"range":{"a":{"lt":true}}}],"minimum_should_match":1}}`},
		{"range wildcard value flattened", `a < 5*`, untyped, `{"bool":{"should":[{"range":{"a":{"lt":"5*"}}}],"minimum_should_match":1}}`},
		{"not is object", `not a:b`, untyped, `{"bool":{"must_not":{"bool":{"should":[{"match":{"a":"b"}}],"minimum_should_match":1}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := translateJSON(t, tt.query, tt.opts, ParseOptions{})
			if diff := cmp.Diff(jsonValue(t, tt.want), got); diff != "" {
				t.Errorf("%q (-want +got)\n%s", tt.query, diff)
			}
		})
	}
}

func TestQueryStringEscaping(t *testing.T) {
	n, err := Parse(`a:*+-=&|\>\<!\(\)\{\}[]^\"~?\:/*`)
	require.NoError(t, err)
	w := n.(*IsNode).Value.(*Wildcard)
	require.Equal(t, `*\+\-\=\&\|\>\<\!\(\)\{\}\[\]\^\"\~\?\:\/*`, w.QueryString())
	require.Equal(t, `*+-=&|><!(){}[]^"~?:/*`, w.String())
	require.Equal(t, `a b\*c*`, (&Wildcard{Parts: []string{"a b*c", ""}}).QueryString())
}

func TestWildcardMatches(t *testing.T) {
	tests := []struct {
		pattern []string
		name    string
		want    bool
	}{
		{[]string{"host.", ""}, "host.name", true},
		{[]string{"host.", ""}, "host", false},
		{[]string{"", ".name"}, "host.os.name", true},
		{[]string{"a", "a"}, "a", false},
		{[]string{"a", "a"}, "aa", true},
		{[]string{"threat.", ".matched.field"}, "threat.enrichments.matched.field", true},
		{[]string{"", "b", "d", ""}, "abcde", true},
		{[]string{"", "d", "b", ""}, "abcde", false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, (&Wildcard{Parts: tt.pattern}).Matches(tt.name), "%q %q", tt.pattern, tt.name)
	}
}

// TestNestedErrors checks typed nested validation: errors name the field.
func TestNestedErrors(t *testing.T) {
	tests := []struct {
		query string
		want  string
	}{
		{`a.b.c:x`, `a.b.c is a nested field, but is not in a nested group in the KQL expression.`},
		{`a.b.c < 5`, `a.b.c is a nested field, but is not in a nested group in the KQL expression.`},
		{`x:{ y:1 }`, `x.y is not a nested field but is in nested group "x" in the KQL expression.`},
		{`a:{ b.c:1 }`, `Nested field a.b.c is being queried with the incorrect nested path. The correct path is a.b.`},
		{`x:{ * : 1 }`, `x.y is not a nested field but is in nested group "x" in the KQL expression.`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			n, err := Parse(tt.query)
			require.NoError(t, err)
			_, err = ToDSL(n, DetectionEngine(testFields))
			var ne *NestedFieldError
			require.True(t, errors.As(err, &ne), "%v", err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestNestedErrorsJoined(t *testing.T) {
	fields := []FieldSpec{
		{Name: "m.n.a", Type: "string", ESTypes: []string{"keyword"}, NestedPath: "m.n"},
		{Name: "m.n.b", Type: "string", ESTypes: []string{"keyword"}, NestedPath: "m.n"},
	}
	n, err := Parse(`m:{ n.* : x }`)
	require.NoError(t, err)
	_, err = ToDSL(n, DetectionEngine(fields))
	require.EqualError(t, err, "Nested field m.n.a is being queried with the incorrect nested path. The correct path is m.n.\n"+
		"Nested field m.n.b is being queried with the incorrect nested path. The correct path is m.n.")
	var ne *NestedFieldError
	require.ErrorAs(t, err, &ne)
	require.Equal(t, "m.n.a", ne.Field)
}

func TestBuildEsQuery(t *testing.T) {
	tests := []struct {
		query string
		opts  Options
		want  string
	}{
		{`a:b`, Options{}, `{"bool":{"must":[],"filter":[{"bool":{"should":[{"match":{"a":"b"}}],"minimum_should_match":1}}],"should":[],"must_not":[]}}`},
		{`*:*`, Options{}, `{"bool":{"must":[],"filter":[],"should":[],"must_not":[]}}`},
		{``, Options{}, `{"bool":{"must":[],"filter":[],"should":[],"must_not":[]}}`},
		{`a:b`, Options{FiltersInMustClause: true}, `{"bool":{"must":[{"bool":{"should":[{"match":{"a":"b"}}],"minimum_should_match":1}}],"filter":[],"should":[],"must_not":[]}}`},
	}
	for _, tt := range tests {
		got, err := BuildEsQuery(tt.query, tt.opts)
		require.NoError(t, err)
		b, err := json.Marshal(got)
		require.NoError(t, err)
		require.JSONEq(t, tt.want, string(b), tt.query)
	}
	_, err := BuildEsQuery(`a:*foo`, Options{DisallowLeadingWildcards: true})
	var se *SyntaxError
	require.ErrorAs(t, err, &se)
	_, err = BuildEsQuery(`a.b.c:x`, DetectionEngine(testFields))
	var ne *NestedFieldError
	require.ErrorAs(t, err, &ne)
	require.Equal(t, "a.b.c", ne.Field)
}

func TestFieldSpecJSON(t *testing.T) {
	in := `[{"name":"n.f","type":"string","esTypes":["keyword"],"subType":{"nested":{"path":"n"}}},
	        {"name":"p.text","type":"string","esTypes":["text"],"subType":{"multi":{"parent":"p"}}},
	        {"name":"d","type":"date","esTypes":["date"]}]`
	var specs []FieldSpec
	require.NoError(t, json.Unmarshal([]byte(in), &specs))
	require.Equal(t, []FieldSpec{
		{Name: "n.f", Type: "string", ESTypes: []string{"keyword"}, NestedPath: "n"},
		{Name: "p.text", Type: "string", ESTypes: []string{"text"}, MultiParent: "p"},
		{Name: "d", Type: "date", ESTypes: []string{"date"}},
	}, specs)
	out, err := json.Marshal(specs)
	require.NoError(t, err)
	require.JSONEq(t, in, string(out))
}
