package main

import (
	"io"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/esrule/esrule/cliconfig"
	"github.com/esrule/esrule/completion"
	"github.com/esrule/esrule/engine"
	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/esconfig"
	"github.com/esrule/esrule/logging"
	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/output"
	"github.com/esrule/esrule/rule"
)

// globalOptions are the flags every command shares (docs/commands.md).
type globalOptions struct {
	rulesPaths []string
	ruleIDs    []string
	dryRun     bool
	logFormat  string
	logLevel   string
	es         esconfig.Options
	// target and kibanaVersion say where alerts go and what kibana.version
	// they carry (--alerts-target, --kibana-version).
	target        mappings.Target
	kibanaVersion string

	// log is the command's logger, built once the flags are final.
	log            zerolog.Logger
	stdin          io.Reader
	stdout, stderr io.Writer
	// started is set once flags and arguments were accepted; errors before
	// that are usage errors.
	started bool
}

func newRootCommand(stdin io.Reader, stdout, stderr io.Writer) (*cobra.Command, *globalOptions) {
	g := &globalOptions{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "esrule",
		Short:         "Run Elastic Security new_terms detection rules without Kibana",
		Long:          longHelp("esrule"),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			g.started = true
			if err := cliconfig.ApplyEnv(cmd.Flags(), os.LookupEnv); err != nil {
				return asUsage(err)
			}
			if err := g.applyConfig(cmd); err != nil {
				return err
			}
			log, err := g.logger()
			g.log = log
			return err
		},
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return asUsage(err) })

	f := root.PersistentFlags()
	f.StringSliceVar(&g.rulesPaths, "rules", nil, "rule files or directories (TOML, NDJSON); default: the built-in rule only")
	f.StringSliceVar(&g.ruleIDs, "rule", nil, "select rules by id or rule_id (repeatable)")
	f.BoolVar(&g.dryRun, "dry-run", false, "write nothing; print would-be alerts as NDJSON on stdout")
	f.StringVar(&g.logFormat, "log-format", "json", "log format: json or console")
	f.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	g.es.AddFlags(f)
	g.es.LookupEnv = os.LookupEnv
	g.target = mappings.TargetEsrule
	f.Var(&g.target, "alerts-target",
		"where alerts are written: esrule (esrule-alerts-<space>, installed by esrule) or kibana (Kibana's .alerts-security.alerts-<space>, created by Kibana)")
	f.StringVar(&g.kibanaVersion, "kibana-version", "",
		"kibana.version written in the alerts (default: the version of the Elasticsearch cluster, which a Kibana of the same stack has)")

	root.AddCommand(
		newServeCommand(g), newRunCommand(g), newBackfillCommand(g), newSetupCommand(g),
		newRulesCommand(g), newKQLCommand(g), newAlertsCommand(g), newDemoCommand(g),
		newNotifyCommand(g), newVersionCommand(),
	)
	completion.Register(root, func(cmd *cobra.Command) ([]*rule.Rule, error) {
		_ = cliconfig.ApplyEnv(cmd.Flags(), os.LookupEnv)
		_ = g.applyConfig(cmd)
		return g.readRules(zerolog.Nop())
	})
	return root, g
}

// logOptions are --log-format and --log-level, with colour when stderr is
// a terminal and NO_COLOR is unset.
func (g *globalOptions) logOptions() logging.Options {
	return logging.Options{Format: g.logFormat, Level: g.logLevel, Color: logging.Color(g.stderr, os.LookupEnv)}
}

// logger builds the root logger from --log-format and --log-level.
func (g *globalOptions) logger() (zerolog.Logger, error) {
	log, err := logging.New(g.stderr, g.logOptions())
	return log, asUsage(err)
}

// newEngine assembles the engine from cfg and the connection settings, with
// the process clock: the one place a command gets its engine.
func (g *globalOptions) newEngine(cfg engine.Config) (*engine.Engine, error) {
	log := g.log
	es, err := g.es.Config(log)
	if err != nil {
		return nil, asUsage(err)
	}
	cfg.ES, cfg.Clock, cfg.Logger = es, time.Now, log
	// --alerts-target and --kibana-version (default: the cluster's version).
	cfg.Target, cfg.KibanaVersion, cfg.DetectKibanaVersion = g.target, g.kibanaVersion, true
	e, err := engine.New(cfg)
	if err != nil {
		return nil, asUsage(err)
	}
	esconfig.LogConnection(log, e.Client(), es)
	return e, nil
}

// client builds an Elasticsearch client for commands that need no engine.
func (g *globalOptions) client() (*esclient.Client, error) {
	c, err := g.es.Client(g.log)
	return c, asUsage(err)
}

// alias is the alerts write alias of space (--alerts-target).
func (g *globalOptions) alias(space string) string { return g.target.Alias(space) }

// start is the start of every command that works on rules: it checks
// --format (when the command has one) and loads the rules (loadRules).
func (g *globalOptions) start(format string) ([]*rule.Rule, error) {
	if err := output.CheckFormat(format); format != "" && err != nil {
		return nil, asUsage(err)
	}
	return g.loadRules(g.log)
}

// loadRules returns the rules every command works on: the files named by
// --rules (the built-in rule when there are none), narrowed to --rule ids
// (matching id or rule_id). Invalid rules and unknown --rule ids are usage
// errors (exit 2); files skipped for their extension are logged at debug.
func (g *globalOptions) loadRules(log zerolog.Logger) ([]*rule.Rule, error) {
	rules, err := g.readRules(log)
	if err != nil {
		return nil, asUsage(err)
	}
	return g.selectRules(rules)
}

// readRules loads --rules (or the built-in rule) without selecting.
func (g *globalOptions) readRules(log zerolog.Logger) ([]*rule.Rule, error) {
	res, err := rule.LoadOrBuiltin(g.rulesPaths)
	for _, path := range res.Skipped {
		log.Debug().Str("file", path).Msg("skipping file that is not a rule file")
	}
	return res.Rules, err
}

// selectRules keeps the rules named by --rule, in load order.
func (g *globalOptions) selectRules(rules []*rule.Rule) ([]*rule.Rule, error) {
	selected, unknown := rule.Select(rules, g.ruleIDs)
	if len(unknown) > 0 {
		return nil, usagef("--rule %s: no loaded rule has this id or rule_id", strings.Join(unknown, ", "))
	}
	return selected, nil
}

// applyConfig is called once the flags are parsed and ESRULE_* applied: it
// fills every flag of the command still unset from the --config file
// (package cliconfig) and reads its [elasticsearch] table (package
// esconfig). The config file has the lowest precedence: flags >
// environment (ESRULE_*, ELASTICSEARCH_*) > config file. Errors are usage
// errors.
func (g *globalOptions) applyConfig(cmd *cobra.Command) error {
	path := g.es.ConfigPath
	if path == "" {
		return nil
	}
	return asUsage(cliconfig.ApplyFile(cmd.Root(), cmd, path, "elasticsearch", func() error {
		file, err := esconfig.ReadFile(path)
		g.es.SetFile(file)
		return err
	}))
}
