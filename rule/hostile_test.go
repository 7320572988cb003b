package rule

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// minimalTOML is testdata/good/minimal.toml with extra [rule] keys.
func minimalTOML(t *testing.T, replace ...string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/good/minimal.toml")
	require.NoError(t, err)
	s := string(b)
	for i := 0; i+1 < len(replace); i += 2 {
		require.Contains(t, s, replace[i])
		s = strings.Replace(s, replace[i], replace[i+1], 1)
	}
	return s
}

func loadProblems(t *testing.T, src string) []string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rule.toml")
	require.NoError(t, os.WriteFile(p, []byte(src), 0o600))
	_, err := Load([]string{p})
	if err == nil {
		return nil
	}
	var out []string
	for _, pr := range problemsOf(t, err) {
		out = append(out, pr.String())
	}
	return out
}

// TestValidateCatchesWhatRunRejects: every rule the executor would refuse
// (exit 1 at run time) is a validation problem (exit 2), with a message that
// says what is wrong.
func TestValidateCatchesWhatRunRejects(t *testing.T) {
	typeLine := `type = "new_terms"` + "\n"
	cases := map[string]struct {
		src  []string
		want string
	}{
		"to in the future": {[]string{typeLine, typeLine + `to = "now+100y"` + "\n"},
			"history_window_start: History window size is smaller"},
		"300-character space": {[]string{typeLine, typeLine + `space_id = "` + strings.Repeat("a", 300) + `"` + "\n"},
			"space: is 300 characters long; at most 200"},
		"space named like a rollover index": {[]string{typeLine, typeLine + `space_id = "default-000001"` + "\n"},
			`space: "default-000001" ends like a rollover index`},
		"history a million years back": {[]string{`"now-7d"`, `"now-1000000y"`},
			"amount 1000000y is out of range: one step may move at most 10000 years"},
		"history beyond year 1 in steps": {[]string{`"now-7d"`, `"now-9000y-9000y"`},
			"history_window_start: evaluates to -"},
		"overflowing from": {[]string{typeLine, typeLine + `from = "now-9223372036854775807ms"` + "\n"},
			"from: parse date math \"now-9223372036854775807ms\": amount 9223372036854775807ms is out of range"},
		"amount beyond int64": {[]string{typeLine, typeLine + `from = "now-99999999999999999999s"` + "\n"},
			"amount 99999999999999999999s is out of range"},
		"max_signals beyond int32": {[]string{typeLine, typeLine + "max_signals = 2147483648\n"},
			"max_signals: 2147483648 is out of range: Kibana's rule schema takes integers from -2147483648 to 2147483647"},
		"_id as new terms field": {[]string{`["user.name", "user_agent.original"]`, `["_id"]`},
			`new_terms_fields[0]: "_id" is a metadata field`},
		"wildcard new terms field": {[]string{`["user.name", "user_agent.original"]`, `["user.*"]`},
			`new_terms_fields[0]: "user.*" is a wildcard pattern`},
		"path injection in index": {[]string{`["logs-proxy-*"]`, `["secret-hr/_cache/clear#"]`},
			`index[0]: "secret-hr/_cache/clear#": an index name cannot contain '/'`},
		"uppercase index": {[]string{`["logs-proxy-*"]`, `["Logs"]`}, "index names are lowercase"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			problems := loadProblems(t, minimalTOML(t, c.src...))
			require.Len(t, problems, 1, "%v", problems)
			require.Contains(t, problems[0], c.want)
		})
	}
	require.Empty(t, loadProblems(t, minimalTOML(t, `["logs-proxy-*"]`, `["logs-a,-logs-b*", "remote:logs-*", "<logs-{now/d}>"]`)))
}

// hostileTOML are the worst TOML files for the decoder: deep nesting of
// every kind, and many small tables, each 1 MiB at most.
func hostileTOML() map[string]string {
	fill := func(prefix, unit, suffix string) string {
		n := (MaxFileSize - len(prefix) - len(suffix)) / len(unit)
		return prefix + strings.Repeat(unit, n) + suffix
	}
	nested := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	return map[string]string{
		"inline tables 32 KB": "[rule]\nx = " + nested("{a=", "}", 8000) + "\n",
		"inline tables 1 MB":  "[rule]\nx = " + nested("{a=", "}", MaxFileSize/5) + "\n",
		"arrays":              "[rule]\nx = " + nested("[", "]", MaxFileSize/3) + "\n",
		"dotted key":          "[rule]\n" + strings.Repeat("a.", 100000) + "b = 1\n",
		"table header":        "[" + strings.Repeat("a.", 100000) + "b]\n[rule]\n",
		"arrays of tables":    fill("[[a]]\n[[a.a]]\n[[a.a.a]]\n[[a.a.a.a]]\n", "[[a.a.a.a.a.a.a.a.a.a.a.a]]\n", ""),
		"many small tables":   fill("[rule]\nx = [", "{},", "]\n"),
		"many keys":           fill("[rule]\n", "k=1\n", ""),
		"shallow inline":      fill("[rule]\nx = [", "{a={a={a=1}}},", "]\n"),
	}
}

// TestHostileTOMLBounded: no rule file makes the loader allocate more than
// 100 MB; the limits refuse the worst ones before decoding, with the line.
func TestHostileTOMLBounded(t *testing.T) {
	for name, src := range hostileTOML() {
		t.Run(name, func(t *testing.T) {
			require.LessOrEqual(t, len(src), MaxFileSize)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			problems := loadProblems(t, src)
			runtime.ReadMemStats(&after)
			allocated := after.TotalAlloc - before.TotalAlloc
			require.Less(t, allocated, uint64(100<<20), "allocated %d bytes", allocated)
			require.NotEmpty(t, problems)
			require.Regexp(t, `rule\.toml:\d+: TOML (nested deeper than 24 levels|has more than 20000 keys, tables and arrays)`, problems[0])
		})
	}
}
