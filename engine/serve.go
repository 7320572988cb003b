package engine

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/esrule/esrule/endpoints"
	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/notify"
	"github.com/esrule/esrule/rulecheck"
	"github.com/esrule/esrule/schedule"
)

// ServeOptions are the options of Serve.
type ServeOptions struct {
	// Schedule is the scheduler's configuration: the rules, the owner, the
	// lease, catch-up and shutdown settings.
	Schedule schedule.Config
	// Actions are the notification actions (none: no notifications).
	Actions notify.Config
	// Listener receives the requests of /healthz, /readyz and /metrics
	// (Config.Metrics); Serve closes it.
	Listener net.Listener
}

// Serve is esrule serve: it runs every rule on its schedule until ctx ends,
// with the health, readiness and metrics endpoints on o.Listener. It
// installs the missing indices first, retrying while Elasticsearch is not
// usable (/readyz says why meanwhile), logs the rules' problems on the
// cluster, and starts the notification delivery loop. It returns nil when
// ctx ends, also before the indices could be installed.
func (e *Engine) Serve(ctx context.Context, o ServeOptions) error {
	log, rules := e.cfg.Logger, o.Schedule.Rules
	m := e.cfg.Metrics
	if m == nil {
		_ = o.Listener.Close()
		return &ConfigError{errors.New("configure serve: the engine has no metrics (Config.Metrics)")}
	}
	for _, r := range rules {
		m.InitRule(r.RuleID)
	}
	s, err := e.Scheduler(o.Schedule)
	if err != nil {
		_ = o.Listener.Close()
		return &ConfigError{err}
	}
	ready := endpoints.NewReadiness(e.client, len(rules), log, e.cfg.Clock)
	srv := endpoints.NewServer(endpoints.Mux(ready, m.Handler()))
	go func() {
		if err := srv.Serve(endpoints.LimitListener(o.Listener, endpoints.MaxConns)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("http server stopped")
		}
	}()
	defer shutdownHTTP(srv, log)
	log.Info().Str("listen", o.Listener.Addr().String()).Str("owner", o.Schedule.Owner).Int("rules", len(rules)).Msg("serving")

	spaces := Spaces(rules)
	if err := e.installWithRetry(ctx, spaces, ready); err != nil {
		return nil // shutdown before the indices could be installed
	}
	rulecheck.Warn(ctx, e.client, rules, log)
	waitNotify, err := e.StartNotifications(ctx, Notifications{Config: o.Actions, Owner: o.Schedule.Owner}, spaces)
	if err != nil {
		return &ConfigError{err}
	}
	defer waitNotify()
	return s.Serve(ctx)
}

// installWithRetry installs missing indices, retrying with backoff while
// Elasticsearch is unreachable; /readyz says why it is not ready meanwhile.
// It returns an error only when ctx ends first.
func (e *Engine) installWithRetry(ctx context.Context, spaces []string, ready *endpoints.Readiness) error {
	log := e.cfg.Logger
	wait := time.Second
	for {
		err := e.Ensure(ctx, spaces)
		ready.SetInstalled(err)
		if err == nil {
			return nil
		}
		if cause := esclient.Cause(err); cause != nil {
			log.Warn().Err(cause).Int64("retry_in_ms", wait.Milliseconds()).Msg("Elasticsearch not usable, will retry")
		} else {
			log.Warn().Err(err).Int64("retry_in_ms", wait.Milliseconds()).Msg("indices not installed, will retry")
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
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
