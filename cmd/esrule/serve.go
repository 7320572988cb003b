package main

import (
	"context"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/spf13/cobra"

	"github.com/esrule/esrule/engine"
	"github.com/esrule/esrule/metrics"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/schedule"
)

// serveOptions are the flags of `esrule serve`.
type serveOptions struct {
	tickOptions
	notify    notifyFlags
	listen    string
	schedules []string
}

func newServeCommand(g *globalOptions) *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run every loaded rule on its schedule, with health and metrics endpoints",
		Long:  longHelp("serve"),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, g, o)
		},
	}
	f := cmd.Flags()
	o.addFlags(f)
	o.notify.addFlags(f)
	f.StringVar(&o.listen, "listen", ":8080", "address of the /healthz, /readyz and /metrics endpoints")
	f.DurationVar(&o.sched.ShutdownGrace, "shutdown-grace", schedule.DefaultShutdownGrace,
		"how long a running execution may finish after SIGTERM before it is abandoned")
	f.StringArrayVar(&o.schedules, "schedule", nil,
		"RULE_ID=CRON: tick a rule on a cron expression (UTC) instead of at its slot boundaries (repeatable)")
	f.DurationVar(&o.sched.Delay, "schedule-delay", 0, "wait after each slot boundary before executing it (late data)")
	return cmd
}

// parseSchedules parses --schedule RULE_ID=CRON values; every id must name a rule.
func parseSchedules(values []string, rules []*rule.Rule) (map[string]cron.Schedule, error) {
	s, err := schedule.ParseRuleSchedules(values, rules)
	if err != nil {
		return nil, usagef("--schedule %w", err)
	}
	return s, nil
}

// serve checks the flags of serve, builds the engine and serves until ctx ends.
func serve(ctx context.Context, g *globalOptions, o serveOptions) error {
	if g.dryRun {
		return usagef("serve does not support --dry-run; use esrule run --dry-run --at T")
	}
	rules, err := g.start("")
	if err != nil {
		return err
	}
	startFrom, err := o.validate(time.Now())
	if err != nil {
		return err
	}
	schedules, err := parseSchedules(o.schedules, rules)
	if err != nil {
		return err
	}
	if o.sched.ShutdownGrace < 0 || o.sched.Delay < 0 {
		return usagef("--shutdown-grace and --schedule-delay must not be negative")
	}
	actions, err := o.notify.loadActions()
	if err != nil {
		return err
	}
	m := metrics.New()
	b := currentBuild()
	m.SetBuildInfo(b.Version, b.Revision, b.GoVersion)
	cfg := o.engine
	cfg.Metrics = m
	e, err := g.newEngine(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return usagef("--listen %s: %w", o.listen, err)
	}
	sc := o.schedule(rules, startFrom)
	sc.Schedules, sc.KeepLease = schedules, true
	return e.Serve(ctx, engine.ServeOptions{Schedule: sc, Actions: actions, Listener: ln})
}
