package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/esrule/esrule/metrics"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/schedule"
	"github.com/esrule/esrule/state"
)

func init() { registerCommand(newServeCommand) }

// serveOptions are the flags of `esrule serve`.
type serveOptions struct {
	tickOptions
	notify        notifyFlags
	listen        string
	shutdownGrace time.Duration
	schedules     []string
	delay         time.Duration
}

func newServeCommand(g *globalOptions) *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run every loaded rule on its schedule, with health and metrics endpoints",
		Long: `serve runs every selected rule on its interval: at each slot boundary (a multiple of
the interval since the Unix epoch, UTC, plus --schedule-delay) it executes every slot due
since the rule's checkpoint, oldest first, then records the checkpoint. On start and on
every tick missed slots are caught up, up to --max-catchup; older ones are reported as a
gap (log, metric esrule_gap_seconds, state document) with the esrule backfill command
that fills them. A per-rule lease in the state index lets several replicas run serve:
one executes a rule at a time, another takes over when its lease expires.

Endpoints on --listen: /healthz (the process is alive), /readyz (Elasticsearch reachable,
indices installed, rules loaded), /metrics (Prometheus).

SIGTERM or SIGINT stops new executions; the running one may finish within
--shutdown-grace, after that it is abandoned without moving its checkpoint. Exit 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, g, o, time.Now)
		},
	}
	f := cmd.Flags()
	o.addFlags(f)
	o.addMaxResponseBytes(f)
	o.notify.addFlags(f)
	f.StringVar(&o.listen, "listen", ":8080", "address of the /healthz, /readyz and /metrics endpoints")
	f.DurationVar(&o.shutdownGrace, "shutdown-grace", schedule.DefaultShutdownGrace,
		"how long a running execution may finish after SIGTERM before it is abandoned")
	f.StringArrayVar(&o.schedules, "schedule", nil,
		"RULE_ID=CRON: tick a rule on a cron expression (UTC) instead of at its slot boundaries (repeatable)")
	f.DurationVar(&o.delay, "schedule-delay", 0, "wait after each slot boundary before executing it (late data)")
	return cmd
}

// parseSchedules parses --schedule RULE_ID=CRON values; every id must name a rule.
func parseSchedules(values []string, rules []*rule.Rule) (map[string]cron.Schedule, error) {
	out := map[string]cron.Schedule{}
	for _, v := range values {
		id, spec, ok := strings.Cut(v, "=")
		if !ok || id == "" || strings.TrimSpace(spec) == "" {
			return nil, usagef("--schedule %q: want RULE_ID=CRON, e.g. %s='*/5 * * * *'", v, rule.Builtin().RuleID)
		}
		known := false
		for _, r := range rules {
			known = known || r.RuleID == id || r.SavedObjectID() == id
		}
		if !known {
			return nil, usagef("--schedule %q: no loaded rule has id or rule_id %s", v, id)
		}
		sched, err := schedule.ParseCron(strings.TrimSpace(spec))
		if err != nil {
			return nil, usagef("--schedule %q: %w", v, err)
		}
		out[id] = sched
	}
	return out, nil
}

func serve(ctx context.Context, g *globalOptions, o serveOptions, now func() time.Time) error {
	log, err := g.logger()
	if err != nil {
		return err
	}
	if g.dryRun {
		return usagef("serve does not support --dry-run; use esrule run --dry-run --at T")
	}
	rules, err := g.loadRules(log)
	if err != nil {
		return err
	}
	startFrom, err := o.validate()
	if err != nil {
		return err
	}
	schedules, err := parseSchedules(o.schedules, rules)
	if err != nil {
		return err
	}
	if o.shutdownGrace < 0 || o.delay < 0 {
		return usagef("--shutdown-grace and --schedule-delay must not be negative")
	}
	if _, err := o.notify.loadActions(); err != nil {
		return err
	}
	c, err := g.es.client()
	if err != nil {
		return err
	}
	m := metrics.New()
	c.Transport = m.Performer(c.Transport)
	for _, r := range rules {
		m.InitRule(r.RuleID)
	}
	owner := o.ownerID()
	spaces := rulesSpaces(rules)
	runner := newSpaceRunner(c, log, spaces, o.maxResponseBytes)
	s, err := schedule.New(schedule.Config{
		Rules: rules, Store: state.NewStore(c, o.stateIndex), Runner: runner,
		Execute: catchupExecute(c, log, o.tickOptions, spaces, runner),
		Clock:   now, Owner: owner, LeaseTTL: o.leaseTTL, Timeout: o.timeout, MaxCatchup: o.maxCatchup,
		StartFrom: startFrom, Delay: o.delay, Schedules: schedules, KeepLease: true,
		ShutdownGrace: o.shutdownGrace, Logger: log, Observer: m,
	})
	if err != nil {
		return asUsage(err)
	}

	ready := &readiness{c: c, rules: len(rules)}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return usagef("--listen %s: %w", o.listen, err)
	}
	srv := &http.Server{Handler: serveMux(ready, m), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("http server stopped")
		}
	}()
	defer shutdownHTTP(srv, log)
	log.Info().Str("listen", ln.Addr().String()).Str("owner", owner).Int("rules", len(rules)).Msg("serving")

	if err := installWithRetry(ctx, c, spaces, o.stateIndex, ready, log); err != nil {
		return nil // shutdown before the indices could be installed
	}
	d, waitNotify, err := startNotifications(ctx, o.notify, c, spaces, owner, m.Registry, log, now)
	if err != nil {
		return err
	}
	defer waitNotify()
	for _, ex := range runner {
		ex.Alerts = d.Waking(ex.Alerts) // wakes the delivery loop with the ids just created
	}
	return s.Serve(ctx)
}

// installWithRetry installs missing indices, retrying with backoff while
// Elasticsearch is unreachable; /readyz says why it is not ready meanwhile.
// It returns an error only when ctx ends first.
func installWithRetry(ctx context.Context, c *elasticsearch.Client, spaces []string, stateIndex string, ready *readiness, log zerolog.Logger) error {
	wait := time.Second
	for {
		err := ensureMappings(ctx, c, spaces, stateIndex)
		if err == nil {
			ready.setInstalled(nil)
			return nil
		}
		ready.setInstalled(err)
		log.Warn().Err(err).Dur("retry_in", wait).Msg("indices not installed, will retry")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

func shutdownHTTP(srv *http.Server, log zerolog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn().Err(err).Msg("http server shutdown")
	}
}

func serveMux(ready *readiness, m *metrics.Metrics) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := ready.check(r.Context()); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", m.Handler())
	return mux
}

// readiness answers /readyz: Elasticsearch reachable, indices installed,
// rules loaded.
type readiness struct {
	c     *elasticsearch.Client
	rules int

	mu         sync.Mutex
	installed  bool
	installErr error
}

func (r *readiness) setInstalled(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.installed, r.installErr = err == nil, err
}

func (r *readiness) check(ctx context.Context) error {
	if r.rules == 0 {
		return errors.New("no rules loaded")
	}
	r.mu.Lock()
	installed, installErr := r.installed, r.installErr
	r.mu.Unlock()
	if !installed {
		if installErr == nil {
			return errors.New("installing index templates and indices")
		}
		return fmt.Errorf("index templates and indices not installed: %w", installErr)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	res, err := r.c.Cluster.Health(r.c.Cluster.Health.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("elasticsearch unreachable: %w", err)
	}
	res.Body.Close()
	if res.IsError() {
		return fmt.Errorf("elasticsearch unreachable: status %d", res.StatusCode)
	}
	return nil
}
