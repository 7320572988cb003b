package kql

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// vectorFile is testdata/kql_vectors.json: Kibana's output for each query.
type vectorFile struct {
	FieldSpecs []FieldSpec `json:"field_specs"`
	Vectors    []struct {
		ID                   string          `json:"id"`
		KQL                  string          `json:"kql"`
		Note                 string          `json:"note"`
		Untyped              json.RawMessage `json:"untyped"`
		Typed                json.RawMessage `json:"typed"`
		TypedCaseInsensitive json.RawMessage `json:"typed_case_insensitive"`
		NoLeadingWildcards   json.RawMessage `json:"no_leading_wildcards"`
	} `json:"vectors"`
}

func loadVectors(t testing.TB) vectorFile {
	t.Helper()
	b, err := os.ReadFile("testdata/kql_vectors.json")
	require.NoError(t, err)
	var v vectorFile
	require.NoError(t, json.Unmarshal(b, &v))
	return v
}

// translateJSON runs parse+translate and returns the result as a generic JSON
// value, or {"error": message} like the vectors.
func translateJSON(t testing.TB, query string, o Options, parse ParseOptions) any {
	t.Helper()
	var out any
	n, err := ParseWith(query, parse)
	var dsl map[string]any
	if err == nil {
		dsl, err = ToDSL(n, o)
	}
	if err != nil {
		var se *SyntaxError
		msg := err.Error()
		if errors.As(err, &se) {
			msg = se.Message
		}
		return map[string]any{"error": msg}
	}
	b, err := json.Marshal(dsl)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func TestVectors(t *testing.T) {
	v := loadVectors(t)
	yes := true
	modes := []struct {
		name  string
		want  func(i int) json.RawMessage
		opts  Options
		parse ParseOptions
	}{
		{"untyped", func(i int) json.RawMessage { return v.Vectors[i].Untyped }, DetectionEngine(nil), ParseOptions{}},
		{"typed", func(i int) json.RawMessage { return v.Vectors[i].Typed }, DetectionEngine(v.FieldSpecs), ParseOptions{}},
		{"typed_case_insensitive", func(i int) json.RawMessage { return v.Vectors[i].TypedCaseInsensitive },
			Options{Fields: v.FieldSpecs, DateFormatTZ: "Zulu", CaseInsensitive: &yes}, ParseOptions{}},
		{"no_leading_wildcards", func(i int) json.RawMessage { return v.Vectors[i].NoLeadingWildcards },
			Options{}, ParseOptions{DisallowLeadingWildcards: true}},
	}
	count := 0
	for i, vec := range v.Vectors {
		for _, m := range modes {
			raw := m.want(i)
			if raw == nil {
				continue
			}
			count++
			t.Run(vec.ID+"/"+m.name, func(t *testing.T) {
				var want any
				require.NoError(t, json.Unmarshal(raw, &want))
				got := translateJSON(t, vec.KQL, m.opts, m.parse)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s %q (%s): (-want +got)\n%s", vec.ID, vec.KQL, vec.Note, diff)
				}
			})
		}
	}
	require.Equal(t, 44, len(v.Vectors))
	require.GreaterOrEqual(t, count, 84)
}
