package alerts

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/rule"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/build")

// buildCase is one testdata/build/<name>.json input.
type buildCase struct {
	Description string `json:"description"`
	// RulePatch is merged over the built-in rule's JSON.
	RulePatch map[string]any `json:"rule_patch"`
	Hit       struct {
		Index  string         `json:"_index"`
		ID     string         `json:"_id"`
		Source map[string]any `json:"_source"`
		Fields map[string]any `json:"fields"`
	} `json:"hit"`
	NewTerms []any `json:"new_terms"`
	Options  struct {
		Space             string `json:"space"`
		ExecutionType     string `json:"execution_type"`
		IntendedTimestamp string `json:"intended_timestamp"`
	} `json:"options"`
}

var testNow = time.Date(2024, 5, 13, 2, 20, 0, 123456789, time.UTC)

func decodeJSON(t *testing.T, raw []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	require.NoError(t, dec.Decode(v))
}

func caseRule(t *testing.T, patch map[string]any) *rule.Rule {
	t.Helper()
	raw, err := json.Marshal(rule.Builtin())
	require.NoError(t, err)
	var m map[string]any
	decodeJSON(t, raw, &m)
	for k, v := range patch {
		m[k] = v
	}
	raw, err = json.Marshal(m)
	require.NoError(t, err)
	r := &rule.Rule{}
	require.NoError(t, json.Unmarshal(raw, r))
	return r
}

func TestBuildGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/build/*.json")
	require.NoError(t, err)
	var cases []string
	for _, in := range inputs {
		if !strings.HasSuffix(in, ".golden.json") {
			cases = append(cases, in)
		}
	}
	require.NotEmpty(t, cases)
	for _, in := range cases {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(in)
			require.NoError(t, err)
			var c buildCase
			decodeJSON(t, raw, &c)
			r := caseRule(t, c.RulePatch)
			opts := BuildOptions{
				Space:         c.Options.Space,
				ExecutionType: c.Options.ExecutionType,
				Now:           testNow,
				KibanaVersion: "8.19.0",
				ExecutionUUID: ExecutionUUID(firstNonEmpty(c.Options.Space, "default"), r.SavedObjectID(), testNow.Truncate(5*time.Minute)),
			}
			if c.Options.IntendedTimestamp != "" {
				opts.IntendedTimestamp, err = time.Parse(time.RFC3339Nano, c.Options.IntendedTimestamp)
				require.NoError(t, err)
			}
			sourceBefore, _ := json.Marshal(c.Hit.Source)
			alert, err := Build(r, Hit{Index: c.Hit.Index, ID: c.Hit.ID, Source: c.Hit.Source, Fields: c.Hit.Fields}, c.NewTerms, opts)
			require.NoError(t, err)
			sourceAfter, _ := json.Marshal(c.Hit.Source)
			require.JSONEq(t, string(sourceBefore), string(sourceAfter), "Build must not modify the hit")

			removed := make([]string, len(alert.Removed))
			for i, f := range alert.Removed {
				removed[i] = f.Path
			}
			got, err := json.MarshalIndent(map[string]any{"_id": alert.ID, "_source": alert.Doc, "removed": removed}, "", "  ")
			require.NoError(t, err)
			golden := filepath.Join("testdata/build", name+".golden.json")
			if *update {
				require.NoError(t, os.WriteFile(golden, append(got, '\n'), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./alerts -run TestBuildGolden -update")
			require.JSONEq(t, string(want), string(got))
		})
	}
}

func TestBuildErrors(t *testing.T) {
	r := rule.Builtin()
	ok := Hit{Index: "i", ID: "d", Source: map[string]any{}}
	now := BuildOptions{Now: testNow}
	tests := []struct {
		name string
		r    *rule.Rule
		hit  Hit
		o    BuildOptions
	}{
		{"no rule", nil, ok, now},
		{"no index", r, Hit{ID: "d", Source: map[string]any{}}, now},
		{"no id", r, Hit{Index: "i", Source: map[string]any{}}, now},
		{"no source", r, Hit{Index: "i", ID: "d"}, now},
		{"no now", r, ok, BuildOptions{}},
		{"bad execution type", r, ok, BuildOptions{Now: testNow, ExecutionType: "cron"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(tt.r, tt.hit, nil, tt.o)
			require.Error(t, err)
		})
	}
}
