package inputbound

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/require"
)

// depthOf is the smallest max TOMLDepth accepts src with.
func depthOf(t *testing.T, src string) int {
	t.Helper()
	for d := 0; d < 100; d++ {
		if CheckTOML([]byte(src), TOMLLimits{MaxDepth: d, MaxItems: 1 << 30}) == nil {
			return d
		}
	}
	t.Fatalf("depth of %q is 100 or more", src)
	return 0
}

func TestTOMLDepthCounts(t *testing.T) {
	cases := []struct {
		src  string
		want int
	}{
		{"", 0},
		{"a = 1", 1},
		{"a.b.c = 1", 3},
		{`"a.b".c = 1`, 2},
		{"a . b = 1", 2},
		{"[rule]\nname = 'x'", 2},
		{"[rule.threat]\ntactic.id = 'x'", 4},
		{"[[rule.threat.technique.subtechnique]]\nid = 'x'", 6},
		{"[ rule . 'a.b' ]\nx = 1", 3},
		{"a = [1, 2]", 2},
		{"a = [[1], [2, [3]]]", 4},
		{"a = {b = 1}", 2},
		{"a = {b = {c = 1}, d = 2}", 3},
		{"a = {b.c.d = 1}", 4},
		{"a = {}", 1},
		{"a = [{}, {x = [1]}]", 4},
		{"a = '[[[[{{{{'", 1},
		{`a = "\"[[[[{{"`, 1},
		{"a = '''\n[[[[\n'''\nb = 1", 1},
		{"a = \"\"\"\n\\\"\"\"[[[[\"\"\"\nb = 1", 1},
		{"a = 1 # [[[[{{{{\n", 1},
		{"a = [\n  1, # [[[[\n  [2],\n]\n[t]\nb = 1", 3},
		{"[[a]]\n[a.b]\nc = 1", 4},
		{"[[a]]\n[[a.b]]\nc = 1", 5},
		{"[[a]]\n[[a]]\n[[a.b]]\n[[a.b]]\nc = 1", 5},
		{"[[a]]\n[b.a]\nc = 1", 3},
		{"a = '''x''''\nb.c = 1", 2},
	}
	for _, c := range cases {
		require.Equal(t, c.want, depthOf(t, c.src), "%q", c.src)
	}
}

func TestTOMLDepthLine(t *testing.T) {
	src := "[rule]\nname = 'x'\nx = " + strings.Repeat("{a=", 30) + "1" + strings.Repeat("}", 30)
	err := CheckTOML([]byte(src), DefaultTOMLLimits)
	var le *LimitError
	require.True(t, errors.As(err, &le), "%v", err)
	require.Equal(t, 3, le.Line)
	require.Contains(t, err.Error(), "line 3: TOML nested deeper than 24 levels")
}

// TestTOMLDepthNeverUndercounts decodes documents accepted at depth d and
// checks that the decoder's own nesting is at most d.
func TestTOMLDepthNeverUndercounts(t *testing.T) {
	docs := []string{
		"a = [[[1]]]",
		"[x.y]\nz = {a = [{b = 1}]}",
		"[[x]]\n[x.y]\nk.l = [[{m = 1}]]",
		"t = { a = { b = [ { c = 'd' } ] } }",
	}
	for _, doc := range docs {
		var v map[string]any
		_, err := toml.Decode(doc, &v)
		require.NoError(t, err, doc)
		require.LessOrEqual(t, nesting(v), depthOf(t, doc), doc)
	}
}

// nesting is the depth of decoded TOML: maps and slices add one level.
func nesting(v any) int {
	deepest := 0
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			deepest = max(deepest, 1+nesting(e))
		}
	case []map[string]any:
		for _, e := range x {
			deepest = max(deepest, 1+nesting(e))
		}
	case []any:
		for _, e := range x {
			deepest = max(deepest, 1+nesting(e))
		}
	default:
		return 0
	}
	return deepest
}

// TestTOMLDepthShippedRules accepts every rule of rules/ with room to spare.
func TestTOMLDepthShippedRules(t *testing.T) {
	files, err := filepath.Glob("../../rules/*/*.toml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, CheckTOML(b, TOMLLimits{MaxDepth: 8, MaxItems: 1000}), f) // a third of the limit
	}
}

func TestCheckTOMLItems(t *testing.T) {
	lim := TOMLLimits{MaxDepth: 10, MaxItems: 5}
	require.NoError(t, CheckTOML([]byte("a = 1\nb = [1, 2, 3]\n[t]\nc = 2"), lim)) // a, b, [...], [t] and c
	err := CheckTOML([]byte("a = 1\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6"), lim)
	require.ErrorContains(t, err, "line 6: TOML has more than 5 keys, tables and arrays")
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(p, []byte("12345"), 0o600))
	b, err := ReadFile(p, 5)
	require.NoError(t, err)
	require.Equal(t, "12345", string(b))
	_, err = ReadFile(p, 4)
	require.ErrorContains(t, err, "larger than 4 bytes")
	_, err = ReadFile(dir, 4)
	require.ErrorContains(t, err, "not a regular file")
	_, err = ReadFile("/dev/zero", 4)
	require.ErrorContains(t, err, "not a regular file")
}
