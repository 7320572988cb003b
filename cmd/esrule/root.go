package main

import (
	"io"
	"os"
	"strings"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// globalOptions are the flags every command shares (SPEC §1).
type globalOptions struct {
	rulesPaths []string
	ruleIDs    []string
	dryRun     bool
	logFormat  string
	logLevel   string
	es         esOptions

	stdout, stderr io.Writer
	// started is set once flags and arguments were accepted; errors before
	// that are usage errors.
	started bool
}

func newRootCommand(stdout, stderr io.Writer) (*cobra.Command, *globalOptions) {
	g := &globalOptions{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "esrule",
		Short: "Run Elastic Security new_terms detection rules without Kibana",
		Long: `esrule runs Elastic Security new_terms detection rules as an Elasticsearch-native job:
it finds terms not seen in a rule's history window and writes the same alerts Kibana would.

Flags have environment equivalents: ESRULE_<FLAG> (for example ESRULE_LOG_LEVEL),
and the Elasticsearch connection follows ELASTICSEARCH_URL, ELASTICSEARCH_API_KEY, ...`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			g.started = true
			if err := applyEnv(cmd.Flags()); err != nil {
				return err
			}
			return g.applyConfig(cmd)
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return asUsage(err) })

	f := root.PersistentFlags()
	f.StringSliceVar(&g.rulesPaths, "rules", nil, "rule files or directories (TOML, NDJSON); default: the built-in rule only")
	f.StringSliceVar(&g.ruleIDs, "rule", nil, "select rules by id or rule_id (repeatable)")
	f.BoolVar(&g.dryRun, "dry-run", false, "write nothing; print would-be alerts as NDJSON on stdout")
	f.StringVar(&g.logFormat, "log-format", "json", "log format: json or console")
	f.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	g.es.addFlags(f)

	root.AddCommand(newVersionCommand())
	for _, add := range subcommands {
		root.AddCommand(add(g))
	}
	return root, g
}

// subcommands are registered by the files that define them (init functions),
// so each command lives in its own file.
var subcommands []func(*globalOptions) *cobra.Command

func registerCommand(f func(*globalOptions) *cobra.Command) { subcommands = append(subcommands, f) }

// applyEnv fills every flag not set on the command line from ESRULE_<NAME>
// (dashes become underscores). Flags take precedence over the environment.
func applyEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(fl *pflag.Flag) {
		if fl.Changed || err != nil {
			return
		}
		name := "ESRULE_" + strings.ToUpper(strings.ReplaceAll(fl.Name, "-", "_"))
		v, ok := os.LookupEnv(name)
		if !ok {
			return
		}
		if e := fs.Set(fl.Name, v); e != nil {
			err = usagef("environment %s: %v", name, e)
		}
	})
	return err
}

// logger builds the root logger from --log-format and --log-level.
func (g *globalOptions) logger() (zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(g.logLevel)
	if err != nil || g.logLevel == "" {
		return zerolog.Nop(), usagef("--log-level %q: want debug, info, warn or error", g.logLevel)
	}
	var w io.Writer = g.stderr
	switch g.logFormat {
	case "json":
	case "console":
		w = zerolog.ConsoleWriter{Out: g.stderr, TimeFormat: "15:04:05"}
	default:
		return zerolog.Nop(), usagef("--log-format %q: want json or console", g.logFormat)
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger(), nil
}
