package main

import (
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/esrule/esrule/demo"
	"github.com/esrule/esrule/logging"
	"github.com/esrule/esrule/output"
)

// demoOptions are the generator flags shared by the demo subcommands.
type demoOptions struct {
	demo.Config
	end string
}

func (o *demoOptions) addFlags(f *pflag.FlagSet) {
	f.Uint64Var(&o.Seed, "seed", 1, "random seed; the same flags give the same documents")
	f.IntVar(&o.Days, "days", 8, "days of data ending at --end")
	f.IntVar(&o.Users, "users", 200, "background users")
	f.StringVar(&o.end, "end", "", "end of the data: RFC 3339, a date or date math (default: now, truncated to the minute)")
	f.StringVar(&o.Namespace, "namespace", "default", "data stream namespace: documents go to logs-okta.system-<namespace>")
	f.BoolVar(&o.Filebeat, "filebeat", false, "Filebeat okta module shape in filebeat-8.19.0-YYYY.MM.DD instead of the Agent integration's")
	f.BoolVar(&o.Scenarios, "scenarios", true, "add the attack and edge-case scenarios")
	f.BoolVar(&o.Lean, "lean", false, "smaller documents (no debug context, ip chain, GeoIP copies, user_agent, related) for indexing benchmarks")
}

func (o *demoOptions) generator() (*demo.Generator, error) {
	now := time.Now().UTC()
	cfg := o.Config
	cfg.End = now.Truncate(time.Minute)
	if o.end != "" {
		t, err := timeFlag("end", o.end, now)
		if err != nil {
			return nil, err
		}
		cfg.End = t
	}
	g, err := demo.New(cfg)
	return g, asUsage(err)
}

func newDemoCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Generate and load synthetic Okta System Log data with known alerts",
		Long:  longHelp("demo"),
	}
	cmd.AddCommand(newDemoGenerateCommand(g), newDemoLoadCommand(g), newDemoScenariosCommand(g), newDemoExpectedCommand(g))
	return cmd
}

func newDemoGenerateCommand(g *globalOptions) *cobra.Command {
	var (
		o      demoOptions
		format string
		stats  bool
	)
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Write the documents to stdout as bulk NDJSON (or plain documents)",
		Long:  longHelp("demo-generate"),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "bulk" && format != "docs" {
				return usagef("--format %q: want bulk or docs", format)
			}
			gen, err := o.generator()
			if err != nil {
				return err
			}
			start := time.Now()
			ws, err := demo.Write(g.stdout, gen, format == "bulk")
			if err == nil && stats {
				ws.Log(g.log, gen, time.Since(start))
			}
			return err
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&format, "format", "bulk", "output format: bulk (action and document lines) or docs (documents only)")
	cmd.Flags().BoolVar(&stats, "stats", false, "log the document count and generation throughput on stderr")
	return cmd
}

func newDemoLoadCommand(g *globalOptions) *cobra.Command {
	var (
		o          demoOptions
		workers    int
		generators int
		flushBytes int
		template   bool
	)
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Install the Okta demo template and bulk-load the documents into Elasticsearch",
		Long:  longHelp("demo-load"),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			gen, err := o.generator()
			if err != nil {
				return err
			}
			if workers < 1 {
				return usagef("--workers %d: want 1 or more", workers)
			}
			if generators < 1 {
				return usagef("--generators %d: want 1 or more", generators)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			opts := demo.SeedOptions{Template: template, Generators: generators,
				Load: demo.LoadConfig{NumWorkers: workers, FlushBytes: flushBytes, Clock: time.Now, Logger: g.log}}
			if logging.IsTerminal(g.stderr) {
				opts.Reporter = func(total int64) func(demo.LoadProgress) { return demo.BarReporter(g.stderr, total) }
				opts.Load.ReportEvery = 200 * time.Millisecond
			} else {
				opts.Load.Report = demo.LogReporter(g.log)
			}
			return demo.Seed(ctx, c, gen, opts)
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().IntVar(&workers, "workers", 2, "concurrent bulk requests")
	cmd.Flags().IntVar(&generators, "generators", 2, "goroutines generating documents")
	cmd.Flags().IntVar(&flushBytes, "flush-bytes", 5<<20, "bulk request size in bytes")
	cmd.Flags().BoolVar(&template, "template", true, "install the Okta demo index template first")
	return cmd
}

func newDemoScenariosCommand(g *globalOptions) *cobra.Command {
	var (
		o      demoOptions
		format string
	)
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "Print the scenarios and their expected alerts (JSON lines, or a table)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := output.CheckFormat(format); err != nil {
				return asUsage(err)
			}
			o.Scenarios = true
			gen, err := o.generator()
			if err != nil {
				return err
			}
			return output.Scenarios(g.stdout, format, gen.Scenarios())
		},
	}
	o.addFlags(cmd.Flags())
	output.AddFormatFlag(cmd.Flags(), &format, output.JSON)
	return cmd
}

func newDemoExpectedCommand(g *globalOptions) *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "expected",
		Short: "Print every alert the built-in rule raises on the data (brute-force oracle), as JSON lines",
		Long:  longHelp("demo-expected"),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			gen, err := o.generator()
			if err != nil {
				return err
			}
			return demo.WriteExpected(g.stdout, gen)
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}
