// Package engine assembles esrule from a configuration: the Elasticsearch
// client, one executor per space (searcher, alert writer, field caps), the
// state store, the backfill fast path, the scheduler's slot executor, the
// notification deliverer and the metrics. It is the one place that wires
// these parts, for the commands, the benchmarks and the integration tests
// alike, and it holds what each command does with them: RunSlots and Tick
// (run.go), Serve (serve.go), BackfillRules (backfill.go) and Setup
// (setup.go). Nothing here reads flags or the environment, and the clock
// comes in through Config.
package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/rs/zerolog"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/backfill"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/metrics"
	"github.com/esrule/esrule/notify"
	"github.com/esrule/esrule/privileges"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/schedule"
	"github.com/esrule/esrule/state"
)

// DefaultFastCatchupSlots is the number of consecutive due slots from which
// Execute catches up through the backfill fast path instead of one by one.
const DefaultFastCatchupSlots = 12

// Config configures an Engine. ES and Clock are required.
type Config struct {
	// ES is the connection to Elasticsearch.
	ES esclient.Config
	// Clock gives the current time: alert write times, durations, leases.
	// cmd passes time.Now; tests pass a fixed clock.
	Clock func() time.Time
	// Logger receives the parts' logs.
	Logger zerolog.Logger
	// StateIndex holds the per-rule state documents. Defaults to
	// mappings.StateIndex.
	StateIndex string
	// MaxResponseBytes bounds every Elasticsearch response; larger search
	// responses halve the batch and retry. Defaults to ES.MaxResponseBytes
	// (100 MiB).
	MaxResponseBytes int64
	// Target is where alerts go: esrule's alias (the default), which Ensure
	// installs, or Kibana's Security alerts alias, which Ensure only checks.
	Target mappings.Target
	// AlertsAlias names the alias alerts of a space are written to.
	// Defaults to Target's alias.
	AlertsAlias func(space string) string
	// Refresh is the refresh parameter of alert writes of scheduled and
	// one-off executions ("wait_for", "true" or "" for none). With none, the
	// writer refreshes the alias before its next duplicate pre-check, so
	// later slots still see earlier alerts; set it when a caller reads the
	// alerts back right after (tests).
	Refresh string
	// Detect tunes the executor (page and batch sizes). The zero value is
	// Kibana's sizes.
	Detect detect.Config
	// KibanaVersion is written as kibana.version in every alert (optional).
	KibanaVersion string
	// DetectKibanaVersion, without KibanaVersion, has Ensure (or
	// ResolveKibanaVersion) set kibana.version to the cluster's version.
	DetectKibanaVersion bool
	// Timeout bounds one slot's execution in Execute. Defaults to the rule's
	// interval.
	Timeout time.Duration
	// FastCatchupSlots is the number of consecutive due slots from which
	// Execute uses the backfill fast path. Defaults to DefaultFastCatchupSlots.
	FastCatchupSlots int
	// RequestDelivery marks every alert written for delivery by the
	// notification actions (backfill --notify).
	RequestDelivery bool
	// Metrics, when set, receives executions and Elasticsearch request
	// durations.
	Metrics *metrics.Metrics
	// OnSlot, when set, is called after every slot Execute runs one by one
	// (the summary lines of esrule run).
	OnSlot func(detect.Result, error)
}

// Engine is esrule assembled. Build it with New; it is safe for concurrent use.
type Engine struct {
	cfg    Config
	client *esclient.Client
	store  *state.Store
	// access checks the read privileges on a rule's indices once per list.
	access *privileges.Checker

	mu        sync.Mutex
	executors map[string]*detect.Executor
	deliverer *notify.Deliverer
	// detectedVersion is the cluster's version (ResolveKibanaVersion).
	detectedVersion atomic.Pointer[string]
}

// New checks cfg, fills in defaults and builds the client.
func New(cfg Config) (*Engine, error) {
	if cfg.Clock == nil {
		return nil, errors.New("configure engine: no clock")
	}
	if cfg.StateIndex == "" {
		cfg.StateIndex = mappings.StateIndex
	}
	if cfg.AlertsAlias == nil {
		cfg.AlertsAlias = cfg.Target.Alias
	}
	if cfg.FastCatchupSlots <= 0 {
		cfg.FastCatchupSlots = DefaultFastCatchupSlots
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("configure engine: negative execution timeout")
	}
	es := cfg.ES
	if cfg.MaxResponseBytes > 0 {
		es.MaxResponseBytes = cfg.MaxResponseBytes
	}
	if es.Clock == nil {
		es.Clock = cfg.Clock
	}
	if cfg.Metrics != nil && es.Observe == nil {
		es.Observe = cfg.Metrics.ObserveRequest
	}
	es.Logger = cfg.Logger
	c, err := esclient.New(es)
	if err != nil {
		return nil, err
	}
	return &Engine{
		cfg: cfg, client: c, store: state.NewStore(c, cfg.StateIndex), access: privileges.NewChecker(c),
		executors: map[string]*detect.Executor{},
	}, nil
}

// Client is the engine's Elasticsearch client.
func (e *Engine) Client() *esclient.Client { return e.client }

// Store is the state store.
func (e *Engine) Store() *state.Store { return e.store }

// StateIndex is the index of the state documents.
func (e *Engine) StateIndex() string { return e.cfg.StateIndex }

// Executor returns the executor that writes alerts to the alias of space.
func (e *Engine) Executor(space string) *detect.Executor {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ex, ok := e.executors[space]; ok {
		return ex
	}
	ex := e.newExecutor(space, e.cfg.Refresh, e.cfg.Logger)
	if e.deliverer != nil {
		ex.Alerts = e.deliverer.Waking(ex.Alerts)
	}
	e.executors[space] = ex
	return ex
}

func (e *Engine) newExecutor(space, refresh string, log zerolog.Logger) *detect.Executor {
	var store detect.AlertStore = e.writer(space, refresh)
	if e.cfg.RequestDelivery {
		store = notify.RequestDelivery(store)
	}
	return &detect.Executor{
		Searcher:      e.client,
		Alerts:        store,
		FieldCaps:     e.client.FieldCaps,
		CheckRead:     e.access.CheckRead,
		Logger:        log,
		Clock:         e.cfg.Clock,
		KibanaVersion: e.kibanaVersion(),
		Config:        e.cfg.Detect,
	}
}

func (e *Engine) writer(space, refresh string) *alerts.Writer {
	return alerts.NewWriter(e.client, alerts.WriterConfig{
		Alias: e.cfg.AlertsAlias(space), Refresh: refresh, Logger: e.cfg.Logger,
	})
}

// Run executes slot of r with the executor of the rule's space.
func (e *Engine) Run(ctx context.Context, r *rule.Rule, slot time.Time, o detect.RunOptions) (detect.Result, error) {
	return e.Executor(r.Space).Run(ctx, r, slot, o)
}

// Backfill executes every slot of r whose end falls in (o.From, o.To] (see
// package backfill), with checkpoints in the state index.
func (e *Engine) Backfill(ctx context.Context, r *rule.Rule, o backfill.Options) (backfill.Summary, error) {
	return backfill.Run(ctx, e.backfillDeps(r.Space, true), r, o)
}

// backfillDeps are the parts of a backfill of space; with checkpoints, its
// progress is recorded in the state index (catch-up records it through the
// scheduler instead).
func (e *Engine) backfillDeps(space string, checkpoints bool) backfill.Deps {
	alias := e.cfg.AlertsAlias(space)
	var bulk detect.AlertStore = e.writer(space, "")
	// Exactly executed slots write without a refresh: their writer refreshes
	// before the next slot's duplicate pre-check; Refresh below makes the
	// bulk writer's alerts visible to it.
	exact := e.newExecutor(space, "", e.cfg.Logger.Level(max(e.cfg.Logger.GetLevel(), zerolog.WarnLevel)))
	exact.Config.SkipCoverage = true
	if e.cfg.RequestDelivery {
		bulk = notify.RequestDelivery(bulk)
	}
	d := backfill.Deps{
		Searcher: e.client,
		Alerts:   bulk,
		Executor: exact,
		Refresh: func(ctx context.Context) error {
			yes := true
			_, err := esclient.Call(ctx, e.client, esapi.IndicesRefreshRequest{
				Index: []string{alias}, IgnoreUnavailable: &yes, AllowNoIndices: &yes,
			})
			if err != nil {
				return fmt.Errorf("refresh %s: %w", alias, err)
			}
			return nil
		},
		Logger: e.cfg.Logger,
		Clock:  e.cfg.Clock,
	}
	if checkpoints {
		d.Checkpoints = e.store
	}
	return d
}

// Execute executes the due slots of a scheduler tick (schedule.ExecuteFunc):
// a few one by one, each bounded by the execution timeout, and a longer run
// of consecutive missed slots (a restart after downtime, a late CronJob)
// through the backfill fast path, which writes the same alerts with one scan
// instead of one history search per slot.
func (e *Engine) Execute(ctx context.Context, r *rule.Rule, slots []time.Time, done func(schedule.SlotDone) error) error {
	if len(slots) >= e.cfg.FastCatchupSlots && consecutive(r, slots) {
		return e.catchUp(ctx, r, slots, done)
	}
	for _, slot := range slots {
		res, err := e.runBounded(ctx, r, slot)
		if e.cfg.OnSlot != nil {
			e.cfg.OnSlot(res, err)
		}
		if err != nil {
			return &schedule.SlotError{Slot: slot, Result: res, Err: err}
		}
		if err := done(schedule.SlotDone{Through: slot, Slots: 1, Result: res}); err != nil {
			return err
		}
	}
	return nil
}

// errSlotTimeout is the cause of a slot cancelled by its timeout.
var errSlotTimeout = errors.New("execution timeout")

// runBounded executes slot within the execution timeout, repeating it
// after a transient failure (see retry.go).
func (e *Engine) runBounded(ctx context.Context, r *rule.Rule, slot time.Time) (detect.Result, error) {
	limit := e.cfg.Timeout
	if limit <= 0 {
		limit = r.Timing.Interval
	}
	ctx, cancel := context.WithTimeoutCause(ctx, limit, fmt.Errorf("%w of %s", errSlotTimeout, limit))
	defer cancel()
	// Alerts created by failed attempts count as created; the next attempt
	// finds them existing, and they are not its duplicates.
	earlier := 0
	for n := 1; ; n++ {
		res, err := e.Run(ctx, r, slot, detect.RunOptions{ExecutionType: alerts.ExecutionScheduled})
		if err != nil && ctx.Err() != nil && errors.Is(context.Cause(ctx), errSlotTimeout) {
			err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
		}
		if err == nil || ctx.Err() != nil || n > slotRetries || !transient(err) {
			res.AlertsDuplicate -= min(earlier, res.AlertsDuplicate)
			res.AlertsCreated += earlier
			return res, err
		}
		earlier += res.AlertsCreated
		e.cfg.Logger.Warn().Err(err).Str("rule_id", r.RuleID).Time("slot", slot).Int("attempt", n).
			Msg("slot failed for a transient reason; executing it again")
		if !pause(ctx, n, e.cfg.Clock) {
			return res, err
		}
	}
}

// catchUp runs consecutive slots through the backfill fast path as
// scheduled executions; the scheduler's done records the checkpoints.
func (e *Engine) catchUp(ctx context.Context, r *rule.Rule, slots []time.Time, done func(schedule.SlotDone) error) error {
	iv := r.Timing.Interval
	return e.runRange(ctx, r, slots[0].Add(-iv), slots[len(slots)-1], alerts.ExecutionScheduled, done)
}

// FillGap executes every slot of r whose end falls in (from, to] through the
// backfill fast path, as `esrule backfill` does (manual executions), without
// a backfill checkpoint: done records the progress in the rule's state
// (schedule.GapFillFunc).
func (e *Engine) FillGap(ctx context.Context, r *rule.Rule, from, to time.Time, done func(schedule.SlotDone) error) error {
	return e.runRange(ctx, r, from, to, "", done)
}

// runRange runs the slots in (from, to] through the backfill engine,
// reporting each group of written slots to done with the alerts it wrote,
// and resumes after the last reported group when a transient failure stops
// it (at most slotRetries times).
func (e *Engine) runRange(ctx context.Context, r *rule.Rule, from, to time.Time, executionType string, done func(schedule.SlotDone) error) error {
	iv := r.Timing.Interval
	last := from
	carry := 0 // alerts of a failed attempt's unfinished group: the next attempt finds them existing
	for n := 1; ; n++ {
		deps := e.backfillDeps(r.Space, false)
		count := &countingStore{AlertStore: deps.Alerts}
		deps.Alerts = count
		exact := *deps.Executor
		exact.Alerts = &countingStore{AlertStore: exact.Alerts, into: count}
		deps.Executor = &exact
		start := e.cfg.Clock()
		_, err := backfill.Run(ctx, deps, r, backfill.Options{
			From: last, To: to, ExecutionType: executionType,
			Done: func(through time.Time, slots int) error {
				last = through
				created, dup := count.take()
				moved := min(carry, dup)
				created, dup, carry = created+carry, dup-moved, 0
				now := e.cfg.Clock()
				res := detect.Result{RuleID: r.RuleID, Slot: through, AlertsCreated: created, AlertsDuplicate: dup,
					NewTerms: created + dup, Took: now.Sub(start)}
				start = now
				return done(schedule.SlotDone{Through: through, Slots: slots, Result: res})
			},
		})
		if err == nil {
			return nil
		}
		var se *schedule.SlotError
		if errors.As(err, &se) {
			return err
		}
		created, dup := count.take() // written after the last group reported
		created += carry
		if ctx.Err() == nil && n <= slotRetries && transient(err) && last.Before(to) {
			e.cfg.Logger.Warn().Err(err).Str("rule_id", r.RuleID).Time("resume_after", last).Int("attempt", n).
				Msg("catch-up failed for a transient reason; resuming it")
			if pause(ctx, n, e.cfg.Clock) {
				carry = created
				continue
			}
		}
		failed := last.Add(iv)
		return &schedule.SlotError{Slot: failed, Err: err, Result: detect.Result{
			RuleID: r.RuleID, Slot: failed, AlertsCreated: created, AlertsDuplicate: dup, Took: e.cfg.Clock().Sub(start),
		}}
	}
}

// consecutive reports whether slots are aligned, one interval apart, oldest first.
func consecutive(r *rule.Rule, slots []time.Time) bool {
	iv := r.Timing.Interval
	for i, s := range slots {
		if detect.CheckSlot(r, s) != nil || (i > 0 && !s.Equal(slots[i-1].Add(iv))) {
			return false
		}
	}
	return true
}

// Scheduler returns a scheduler of sc's rules whose slots run through
// Execute, with the engine's state store, clock, logger and metrics.
func (e *Engine) Scheduler(sc schedule.Config) (*schedule.Scheduler, error) {
	sc.Store = e.store
	sc.Execute = e.Execute
	if sc.FillGap == nil {
		sc.FillGap = e.FillGap
	}
	sc.Clock = e.cfg.Clock
	sc.Logger = e.cfg.Logger
	if sc.Timeout == 0 {
		sc.Timeout = e.cfg.Timeout
	}
	if e.cfg.Metrics != nil && sc.Observer == nil {
		sc.Observer = e.cfg.Metrics
	}
	return schedule.New(sc)
}

// Spaces returns the distinct spaces of rules, in order.
func Spaces(rules []*rule.Rule) []string {
	var spaces []string
	seen := map[string]bool{}
	for _, r := range rules {
		if !seen[r.Space] {
			seen[r.Space] = true
			spaces = append(spaces, r.Space)
		}
	}
	return spaces
}

// Ensure installs the alerts template and alias of every space and the
// state index when one of them is missing (with the Kibana target it checks
// Kibana's alias instead, see mappings.CheckKibanaAlias), then resolves
// kibana.version (ResolveKibanaVersion).
func (e *Engine) Ensure(ctx context.Context, spaces []string) error {
	for _, space := range spaces {
		o := mappings.Options{Space: space, StateIndex: e.cfg.StateIndex, Target: e.cfg.Target}
		missing, err := mappings.Missing(ctx, e.client, o)
		if err != nil {
			return fmt.Errorf("check the alerts and state indices of space %s: %w", space, err)
		}
		if len(missing) == 0 {
			continue
		}
		if err := mappings.Ensure(ctx, e.client, o); err != nil {
			if esclient.StatusOf(err) == http.StatusForbidden {
				return fmt.Errorf("install the alerts and state indices of space %s (missing: %v; run esrule setup with the esrule-setup role first): %w",
					space, missing, err)
			}
			return fmt.Errorf("install the alerts and state indices of space %s: %w", space, err)
		}
	}
	if e.cfg.RequestDelivery {
		aliases := make([]string, len(spaces))
		for i, s := range spaces {
			aliases[i] = e.cfg.AlertsAlias(s)
		}
		if err := notify.EnsureMapping(ctx, e.client, aliases); err != nil {
			return err
		}
	}
	return e.ResolveKibanaVersion(ctx)
}
