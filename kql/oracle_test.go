package kql

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// oracleCase is one query and the result of Kibana's own parser (the
// grammar.peggy of kbn-es-query compiled with peggy, cache on, in a
// throw-away harness outside this repository), with leading wildcards
// allowed (A) and disallowed (B).
type oracleCase struct {
	Q string       `json:"q"`
	A oracleResult `json:"a"`
	B oracleResult `json:"b"`
}

type oracleResult struct {
	AST    any    `json:"ast"`
	Error  string `json:"error"`
	Offset int    `json:"offset"`
}

// oracleAST renders a node the way the harness renders Kibana's nodes.
func oracleAST(n Node) any {
	fn := func(name string, args ...any) any { return map[string]any{"f": name, "a": args} }
	switch n := n.(type) {
	case *AndNode:
		args := make([]any, len(n.Children))
		for i, c := range n.Children {
			args[i] = oracleAST(c)
		}
		return fn("and", args...)
	case *OrNode:
		args := make([]any, len(n.Children))
		for i, c := range n.Children {
			args[i] = oracleAST(c)
		}
		return fn("or", args...)
	case *NotNode:
		return fn("not", oracleAST(n.Child))
	case *IsNode:
		return fn("is", oracleTerm(n.Field), oracleTerm(n.Value))
	case *RangeNode:
		return fn("range", oracleTerm(n.Field), string(n.Op), oracleTerm(n.Value))
	case *NestedNode:
		return fn("nested", oracleTerm(n.Path), oracleAST(n.Child))
	}
	return nil
}

func oracleTerm(t Term) any {
	switch t := t.(type) {
	case *Literal:
		return map[string]any{"l": t.Value, "q": t.Quoted}
	case *Wildcard:
		parts := make([]any, len(t.Parts))
		for i, p := range t.Parts {
			parts[i] = p
		}
		return map[string]any{"w": parts}
	}
	return nil
}

// TestKibanaParserOracle compares AST, error message and error offset with
// Kibana's parser on random and mutated queries. KQL_ORACLE_FILE may name a
// larger file of the same format.
func TestKibanaParserOracle(t *testing.T) {
	path := "testdata/kibana_parser_oracle.json"
	if p := os.Getenv("KQL_ORACLE_FILE"); p != "" {
		path = p
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var cases []oracleCase
	require.NoError(t, json.Unmarshal(b, &cases))
	failures := 0
	for _, c := range cases {
		for _, mode := range []struct {
			want oracleResult
			o    ParseOptions
		}{{c.A, ParseOptions{}}, {c.B, ParseOptions{DisallowLeadingWildcards: true}}} {
			got := oracleResult{}
			n, err := ParseWith(c.Q, mode.o)
			if err != nil {
				var se *SyntaxError
				ok := errors.As(err, &se)
				require.True(t, ok, "%q: %v", c.Q, err)
				got.Error, got.Offset = se.Message, se.Offset
			} else {
				raw, err := json.Marshal(oracleAST(n))
				require.NoError(t, err)
				require.NoError(t, json.Unmarshal(raw, &got.AST))
			}
			if diff := cmp.Diff(mode.want, got); diff != "" {
				failures++
				if failures <= 20 {
					t.Errorf("%q (leading wildcards disallowed: %v): (-kibana +ours)\n%s", c.Q, mode.o.DisallowLeadingWildcards, diff)
				}
			}
		}
	}
	require.Zero(t, failures, "of %d queries", len(cases))
}
