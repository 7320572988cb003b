package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"text/template"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"
)

// Deliverer runs the delivery loop: one worker per action searches the
// alerts aliases, claims, sends and records (see the package comment).
type Deliverer struct {
	cfg     Config
	store   *store
	workers []*worker
}

// New checks cfg and returns a Deliverer; nothing is sent before Run.
func New(c esapi.Transport, cfg Config) (*Deliverer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	d := &Deliverer{cfg: cfg, store: &store{es: c, aliases: cfg.Aliases}}
	for _, a := range cfg.Actions {
		link, _ := parseLinkTemplate(a.LinkTemplate) // checked by Validate
		burst := max(1, int(a.Rate))
		d.workers = append(d.workers, &worker{
			d: d, a: a, link: link,
			limiter: rate.NewLimiter(rate.Limit(a.Rate), burst),
			wake:    make(chan struct{}, 1),
			log:     cfg.Logger.With().Str("action", a.Name).Str("type", a.Type).Logger(),
		})
		cfg.Metrics.initAction(a.Name)
	}
	return d, nil
}

// Run adds the esrule.notify mapping to the alerts indices (retrying while
// Elasticsearch is unavailable), then delivers until ctx ends. It returns
// nil on shutdown, or the error of a Config.AfterSend hook.
func (d *Deliverer) Run(ctx context.Context) error {
	if len(d.workers) == 0 {
		<-ctx.Done()
		return nil
	}
	if err := d.ensureMapping(ctx); err != nil {
		return nil // shutdown first
	}
	errs := make(chan error, len(d.workers))
	for _, w := range d.workers {
		go func() { errs <- w.run(ctx) }()
	}
	var err error
	for range d.workers {
		err = errors.Join(err, <-errs)
	}
	return err
}

// RunOnce adds the esrule.notify mapping, refreshes the aliases and runs one
// round of every action: search, send, record. One-shot commands (esrule
// run) call it after writing alerts; a destination that fails is left for
// the next call.
func (d *Deliverer) RunOnce(ctx context.Context) error {
	if len(d.workers) == 0 {
		return nil
	}
	if err := EnsureMapping(ctx, d.store.es, d.cfg.Aliases); err != nil {
		return fmt.Errorf("%w: %w", ErrStateNotRecorded, err)
	}
	var err error
	for i, w := range d.workers {
		err = errors.Join(err, w.round(ctx, i == 0))
	}
	return err
}

// Wake makes every action search now rather than at its next interval,
// after a refresh of the aliases: the scheduler calls it with
// alerts.WriteResult.CreatedIDs for a low latency. Only the search decides
// what is sent; ids merely say that there is something new. A nil d does
// nothing.
func (d *Deliverer) Wake(ids []string) {
	if d == nil || len(ids) == 0 {
		return
	}
	for _, w := range d.workers {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

func (d *Deliverer) ensureMapping(ctx context.Context) error {
	wait := time.Second
	for {
		err := EnsureMapping(ctx, d.store.es, d.cfg.Aliases)
		if err == nil {
			return nil
		}
		d.cfg.Logger.Warn().Err(err).Int64("retry_in_ms", wait.Milliseconds()).Msg("cannot add the notification mapping to the alerts indices; will retry")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Minute)
	}
}

// errCrashed stops a worker whose AfterSend hook failed.
var errCrashed = errors.New("delivery stopped by the AfterSend hook")

func (d *Deliverer) now() time.Time { return d.cfg.Clock().UTC() }

// backoff is the pause of a destination after n consecutive retryable
// failures: MinBackoff doubling, capped at MaxBackoff, at least retryAfter.
func (d *Deliverer) backoff(n int, retryAfter time.Duration) time.Duration {
	b := d.cfg.MaxBackoff
	if n < 20 {
		b = min(d.cfg.MinBackoff<<max(n-1, 0), d.cfg.MaxBackoff)
	}
	return max(b, retryAfter)
}

// worker delivers the alerts of one action.
type worker struct {
	d       *Deliverer
	a       Action
	link    *template.Template
	limiter *rate.Limiter
	wake    chan struct{}
	log     zerolog.Logger

	mu          sync.Mutex
	pausedUntil time.Time
	failures    int // consecutive retryable failures
	crashed     bool
	stateErrs   []error // delivery states this round could not write
}

func (w *worker) run(ctx context.Context) error {
	refresh := false
	for {
		err := w.round(ctx, refresh)
		if errors.Is(err, errCrashed) {
			return fmt.Errorf("action %s: %w", w.a.Name, err)
		}
		switch {
		case errors.Is(err, ErrStateNotRecorded):
			// logged per alert by stateFailed, counted in esrule_notify_state_errors_total
		case err != nil && ctx.Err() == nil:
			w.log.Warn().Err(err).Msg("notification round incomplete; will retry")
		}
		wait := w.d.cfg.Interval
		if p := w.pause(); p > 0 {
			wait = p
		}
		t := time.NewTimer(wait)
		refresh = false
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		case <-w.wake:
			t.Stop()
			refresh = true
			if p := w.pause(); p > 0 { // a woken paused destination still waits
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(p):
				}
			}
		}
	}
}

// pause is how long the destination still rests after failures.
func (w *worker) pause() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pausedUntil.Sub(w.d.now())
}
