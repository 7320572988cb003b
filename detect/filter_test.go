package detect

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/kql"
)

func TestQueryFilterTypedAndFallback(t *testing.T) {
	r := testRule("user")
	r.Query = "port:443"
	var asked []string
	typed := func(_ context.Context, indices, fields []string) ([]kql.FieldSpec, error) {
		asked = append(asked, fields...)
		require.Equal(t, []string{"logs-test"}, indices)
		return []kql.FieldSpec{{Name: "port", Type: "number", ESTypes: []string{"long"}}}, nil
	}
	withTypes, err := QueryFilter(context.Background(), typed, r)
	require.NoError(t, err)
	require.Equal(t, []string{"port"}, asked)

	nothing := func(context.Context, []string, []string) ([]kql.FieldSpec, error) { return nil, nil }
	fallback, err := QueryFilter(context.Background(), nothing, r)
	require.NoError(t, err)
	untyped, err := QueryFilter(context.Background(), nil, r)
	require.NoError(t, err)
	require.Equal(t, untyped, fallback, "no field specs: untyped translation")

	want, err := kql.BuildEsQuery("port:443", kql.DetectionEngine([]kql.FieldSpec{{Name: "port", Type: "number", ESTypes: []string{"long"}}}))
	require.NoError(t, err)
	require.Equal(t, want, withTypes)
}

func TestQueryFilterAddsKibanaFilters(t *testing.T) {
	r := testRule("user")
	r.Query = "a:1"
	r.Filters = []json.RawMessage{
		json.RawMessage(`{"meta":{"negate":false,"disabled":false},"query":{"match_phrase":{"host.name":"h1"}}}`),
		json.RawMessage(`{"meta":{"negate":true},"query":{"exists":{"field":"x"}}}`),
		json.RawMessage(`{"meta":{"disabled":true},"query":{"term":{"y":1}}}`),
		json.RawMessage(`{"meta":{},"exists":{"field":"legacy"}}`),
	}
	q, err := QueryFilter(context.Background(), nil, r)
	require.NoError(t, err)
	b := q["bool"].(map[string]any)
	filter := b["filter"].([]any)
	require.Contains(t, filter, map[string]any{"match_phrase": map[string]any{"host.name": "h1"}})
	require.Contains(t, filter, map[string]any{"exists": map[string]any{"field": "legacy"}})
	require.Equal(t, []any{map[string]any{"exists": map[string]any{"field": "x"}}}, b["must_not"])
	require.NotContains(t, filter, map[string]any{"term": map[string]any{"y": float64(1)}})
}

func TestQueryFilterRejectsBadKQL(t *testing.T) {
	r := testRule("user")
	r.Query = "a:(b"
	_, err := QueryFilter(context.Background(), nil, r)
	require.ErrorContains(t, err, "parse query of rule rule-1")
}

func TestExplainPhases(t *testing.T) {
	w, err := WindowAt(testRule("user"), testSlot)
	require.NoError(t, err)
	for _, tc := range []struct {
		fields []string
		want   []string
	}{
		{[]string{"user"}, []string{"coverage check", "phase 1 (recent terms), first page", "phase 1 (recent terms), next pages",
			"phase 2 (history), include = the page's terms", "phase 3 (document fetch), include = the new terms"}},
		{[]string{"user", "host"}, []string{"coverage check", "phase 1 (recent terms), first page", "phase 1 (recent terms), next pages",
			"phase 2 (history), per batch of up to 500 combinations, after = the key before the batch", "phase 3 (document fetch), per batch of new combinations"}},
	} {
		phases, err := ExplainPhases(testRule(tc.fields...), w, nil)
		require.NoError(t, err)
		var names []string
		for _, p := range phases {
			names = append(names, p.Name)
			require.True(t, json.Valid(p.Body))
			require.Equal(t, []string{"logs-test"}, p.Indices)
		}
		require.Equal(t, tc.want, names)
	}
}

func TestQueryFilterLucene(t *testing.T) {
	r := testRule("user")
	r.Language, r.Query = "lucene", "event.outcome:success AND NOT user.name:svc_*"
	r.Filters = []json.RawMessage{
		json.RawMessage(`{"meta":{"negate":true},"query":{"wildcard":{"host.name":{"value":"lab-*","case_insensitive":true}}}}`),
		json.RawMessage(`{"query":{"match_all":{}}}`),
	}
	var asked []string
	fc := func(_ context.Context, _, fields []string) ([]kql.FieldSpec, error) {
		asked = append(asked, fields...)
		return nil, nil
	}
	q, err := QueryFilter(context.Background(), fc, r)
	require.NoError(t, err)
	require.Equal(t, []string{"host.name"}, asked, "a Lucene query's fields are Elasticsearch's business")
	require.Equal(t, map[string]any{"bool": map[string]any{
		"must": []any{map[string]any{"query_string": map[string]any{
			"query": r.Query, "analyze_wildcard": true, "time_zone": "Zulu"}}},
		"filter": []any{},
		"should": []any{},
		"must_not": []any{map[string]any{"wildcard": map[string]any{"host.name": map[string]any{
			"value": "lab-*", "case_insensitive": true}}}},
	}}, q)

	r.Query = "  "
	q, err = QueryFilter(context.Background(), nil, r)
	require.NoError(t, err)
	require.Empty(t, q["bool"].(map[string]any)["must"], "a blank Lucene query is match_all, which buildEsQuery drops")
}
