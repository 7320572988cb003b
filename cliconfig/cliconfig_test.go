package cliconfig

import (
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"
)

type tree struct {
	root, serve, explain *cobra.Command
	level, listen, at    string
	rules                []string
	typed                bool
	workers              int
}

func newTree() *tree {
	t := &tree{}
	t.root = &cobra.Command{Use: "esrule"}
	t.root.PersistentFlags().StringVar(&t.level, "log-level", "info", "")
	t.root.PersistentFlags().StringSliceVar(&t.rules, "rules", nil, "")
	t.root.PersistentFlags().String("config", "", "")
	t.serve = &cobra.Command{Use: "serve", Run: func(*cobra.Command, []string) {}}
	t.serve.Flags().StringVar(&t.listen, "listen", ":8080", "")
	t.serve.Flags().IntVar(&t.workers, "workers", 1, "")
	rules := &cobra.Command{Use: "rules"}
	t.explain = &cobra.Command{Use: "explain", Run: func(*cobra.Command, []string) {}}
	t.explain.Flags().StringVar(&t.at, "at", "", "")
	t.explain.Flags().BoolVar(&t.typed, "typed", false, "")
	rules.AddCommand(t.explain)
	t.root.AddCommand(t.serve, rules)
	return t
}

// Read parses text as the config file esrule.toml.
func Read(text string) (*File, error) { return Parse("esrule.toml", []byte(text)) }

func write(_ *testing.T, text string) string { return text }

func TestApplyCommandTables(t *testing.T) {
	f, err := Read(write(t, `
log_level = "warn"
rules = ["a.toml", "b,c.toml"]
[serve]
listen = ":9090"
workers = 3
log-level = "debug"
["rules explain"]
at = 2026-05-01T10:05:00Z
typed = true
[elasticsearch]
url = "http://x"
`))
	require.NoError(t, err)
	tr := newTree()
	require.NoError(t, f.Check(tr.root, "elasticsearch"))

	require.NoError(t, tr.serve.ParseFlags([]string{"--workers", "5"}))
	require.NoError(t, f.Apply(tr.root, tr.serve))
	require.Equal(t, ":9090", tr.listen)
	require.Equal(t, 5, tr.workers, "the command line wins")
	require.Equal(t, "debug", tr.level, "[serve] wins over the top level")
	require.Equal(t, []string{"a.toml", "b,c.toml"}, tr.rules, "list items stay whole")

	tr = newTree()
	require.NoError(t, tr.explain.ParseFlags(nil))
	require.NoError(t, f.Apply(tr.root, tr.explain))
	require.Equal(t, "2026-05-01T10:05:00Z", tr.at)
	require.True(t, tr.typed)
	require.Equal(t, "warn", tr.level)
	require.Equal(t, ":8080", tr.listen, "not serve's table")
}

func TestNestedCommandTable(t *testing.T) {
	f, err := Read(write(t, "[rules.explain]\ntyped = true\n"))
	require.NoError(t, err)
	tr := newTree()
	require.NoError(t, f.Check(tr.root))
	require.NoError(t, tr.explain.ParseFlags(nil))
	require.NoError(t, f.Apply(tr.root, tr.explain))
	require.True(t, tr.typed)
}

func TestCheckRefusesUnknownKeysWithSuggestions(t *testing.T) {
	f, err := Read(write(t, `
log_levle = "warn"
listen = ":9090"
config = "other.toml"
[serve]
listn = ":9090"
typed = true
[serv]
listen = ":1"
[rules.explain]
at = { x = 1 }
["rules explain"]
typd = 1
`))
	require.NoError(t, err)
	err = f.Check(newTree().root, "elasticsearch")
	require.Error(t, err)
	for _, want := range []string{
		"unknown key log_levle at the top level (did you mean log_level?)",
		"unknown key listen at the top level (a flag of serve: put it under [serve])",
		"config: a config file cannot name another one",
		"unknown key serve.listn in [serve] (did you mean listen?)",
		"unknown key serve.typed in [serve] (a flag of rules.explain: put it under [rules.explain])",
		"unknown key serv at the top level (did you mean serve?)",
		"rules.explain.at: a flag, not a table",
		"unknown key rules.explain.typd in [rules.explain] (did you mean typed?)",
	} {
		require.ErrorContains(t, err, want)
	}
}

func TestApplyBadValue(t *testing.T) {
	f, err := Read(write(t, "[serve]\nworkers = \"many\"\nlisten = [\"a\", \"b\"]\n"))
	require.NoError(t, err)
	tr := newTree()
	require.NoError(t, tr.serve.ParseFlags(nil))
	err = f.Apply(tr.root, tr.serve)
	require.ErrorContains(t, err, "serve.workers: strconv.ParseInt")
	require.ErrorContains(t, err, "serve.listen: want one value, not a list")
}
