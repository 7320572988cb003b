package kql

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// translateOracle is the output of a line-by-line JavaScript transliteration
// of Kibana's kuery translation functions (is, range, nested, and, or, not,
// getFields, getFullFieldNameNode, wildcard) run on the AST of Kibana's own
// parser, untyped and typed with Fields, dateFormatTZ "Zulu" (a throw-away
// harness outside this repository). It checks JavaScript semantics the Go
// code has to imitate: truthiness, string coercion, === comparisons.
type translateOracle struct {
	Fields []FieldSpec `json:"fields"`
	Cases  []struct {
		Q       string          `json:"q"`
		Untyped json.RawMessage `json:"untyped"`
		Typed   json.RawMessage `json:"typed"`
	} `json:"cases"`
}

func TestKibanaTranslateOracle(t *testing.T) {
	path := "testdata/kibana_translate_oracle.json"
	if p := os.Getenv("KQL_TRANSLATE_ORACLE_FILE"); p != "" {
		path = p
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var o translateOracle
	require.NoError(t, json.Unmarshal(b, &o))
	failures := 0
	check := func(q string, raw json.RawMessage, opts Options) {
		var want any
		require.NoError(t, json.Unmarshal(raw, &want))
		n, err := Parse(q)
		require.NoError(t, err, q)
		var got any
		if dsl, err := ToDSL(n, opts); err != nil {
			got = map[string]any{"error": err.Error()}
		} else {
			got = map[string]any{"dsl": jsonRoundTrip(t, dsl)}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			failures++
			if failures <= 20 {
				t.Errorf("%q typed=%v: (-kibana +ours)\n%s", q, opts.Fields != nil, diff)
			}
		}
	}
	for _, c := range o.Cases {
		check(c.Q, c.Untyped, DetectionEngine(nil))
		check(c.Q, c.Typed, DetectionEngine(o.Fields))
	}
	require.Zero(t, failures, "of %d queries", len(o.Cases))
}

func jsonRoundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}
