package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/cliconfig"
)

// TestConfigFileAcceptsEveryFlag writes a config file with every flag of
// every command at its default, under the command's table, and checks
// that the file is accepted and applied for every command.
func TestConfigFileAcceptsEveryFlag(t *testing.T) {
	root, _ := newRootCommand(strings.NewReader(""), nil, nil)
	var b strings.Builder
	root.PersistentFlags().VisitAll(func(fl *pflag.Flag) {
		if fl.Name != "config" {
			b.WriteString(tomlLine(fl))
		}
	})
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			path := strings.TrimPrefix(sub.CommandPath(), "esrule ")
			if sub.LocalNonPersistentFlags().HasFlags() {
				fmt.Fprintf(&b, "[%q]\n", path)
			}
			sub.LocalNonPersistentFlags().VisitAll(func(fl *pflag.Flag) {
				if fl.Name != "help" {
					b.WriteString(tomlLine(fl))
					n++
				}
			})
			walk(sub)
		}
	}
	walk(root)
	require.Greater(t, n, 50, "flags of the commands")
	path := filepath.Join(t.TempDir(), "esrule.toml")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	f, err := cliconfig.Parse(path, []byte(b.String()))
	require.NoError(t, err)
	require.NoError(t, f.Check(root, "elasticsearch"), b.String())
	var apply func(c *cobra.Command)
	apply = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			require.NoError(t, sub.ParseFlags(nil))
			require.NoError(t, f.Apply(root, sub), sub.CommandPath())
			apply(sub)
		}
	}
	apply(root)
}

// tomlLine is "name = default" in TOML.
func tomlLine(fl *pflag.Flag) string {
	key := strings.ReplaceAll(fl.Name, "-", "_")
	switch fl.Value.Type() {
	case "bool":
		return key + " = " + fl.DefValue + "\n"
	case "int", "int64", "uint64", "float64":
		return key + " = " + fl.DefValue + "\n"
	case "stringSlice", "stringArray":
		return key + " = []\n"
	}
	return key + " = " + strconv.Quote(fl.DefValue) + "\n"
}

func TestConfigFileCommandTables(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "esrule.toml")
	require.NoError(t, os.WriteFile(cfg, []byte(`
[version]
format = "json"
["rules explain"]
at = "2026-11-26T17:07:31Z"
format = "table"
`), 0o600))
	code, out, errOut := runCLI(t, "--config", cfg, "version")
	require.Equal(t, exitOK, code, errOut)
	require.True(t, strings.HasPrefix(out, `{"version":"dev"`), out)

	code, out, errOut = runCLI(t, "--config", cfg, "rules", "explain")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "  slot           2026-11-26T17:05:00Z\n")

	code, out, errOut = runCLI(t, "--config", cfg, "version", "--format", "table")
	require.Equal(t, exitOK, code, errOut)
	require.True(t, strings.HasPrefix(out, "esrule dev"), "the flag beats the file")

	require.NoError(t, os.WriteFile(cfg, []byte("[serve]\nlistn = \":9090\"\n"), 0o600))
	code, _, errOut = runCLI(t, "--config", cfg, "version")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, "unknown key serve.listn in [serve] (did you mean listen?)")

	require.NoError(t, os.WriteFile(cfg, []byte("[serve]\nlog_level = \"verbose\"\n"), 0o600))
	code, _, errOut = runCLI(t, "--config", cfg, "serve")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, `--log-level "verbose": want debug, info, warn or error`)
}
