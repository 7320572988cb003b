package detect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/esquery"
	"github.com/esrule/esrule/kql"
	"github.com/esrule/esrule/rule"
)

// Searcher runs one search request (a JSON body) over indices, the response
// cut to filterPath besides its envelope when filterPath is not empty. The
// Elasticsearch implementation is esclient.Client: it retries, bounds the
// response size and returns an error for error statuses, shard failures and
// timed-out searches (fail closed, docs/semantics.md D2). Errors that mean
// "too large" match esquery.ErrTooLarge, and "too many clauses"
// esquery.ErrTooManyClauses.
type Searcher interface {
	Search(ctx context.Context, indices []string, body []byte, filterPath []string) (esquery.Response, error)
}

// AlertStore is where alerts go (alerts.Writer).
type AlertStore interface {
	// Existing returns, for the ids already in the alerts index, their
	// kibana.alert.rule.execution.uuid.
	Existing(ctx context.Context, ids []string) (map[string]string, error)
	// Create writes alerts with bulk create; it fails if any could not be written.
	Create(ctx context.Context, as []alerts.Alert) (alerts.WriteResult, error)
}

// FieldCapsFunc returns the field specs of fields over indices (esquery.FieldCaps).
type FieldCapsFunc func(ctx context.Context, indices, fields []string) ([]kql.FieldSpec, error)

// Config tunes the executor. The zero value is Kibana's sizes.
type Config struct {
	// PageSize is the phase-1 composite page size and the largest include
	// list of a single-field phase 2 or 3 request. Defaults to 10,000
	// (Kibana's PAGE_SIZE); smaller values are for tests.
	PageSize int
	// BatchSize is the number of combinations per multi-field batch, and the
	// initial number of new terms per phase-3 request with several fields.
	// Defaults to 500 (Kibana's BATCH_SIZE).
	BatchSize int
	// HistoryPageSize is the composite page size of the multi-field history
	// phase. Defaults to 10,000.
	HistoryPageSize int
	// MaxClauseHalvings bounds how often a multi-field batch is halved on a
	// too-many-clauses error. Defaults to 2 (Kibana's retries).
	MaxClauseHalvings int
	// SkipCoverage turns the per-execution coverage check (D5) off.
	SkipCoverage bool
}

func (c Config) withDefaults() Config {
	if c.PageSize <= 0 {
		c.PageSize = esquery.PageSize
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.HistoryPageSize <= 0 {
		c.HistoryPageSize = esquery.PageSize
	}
	if c.MaxClauseHalvings <= 0 {
		c.MaxClauseHalvings = 2
	}
	return c
}

// Executor runs executions of new_terms rules. Searcher is required; Alerts
// is required unless every run is a dry run.
type Executor struct {
	Searcher  Searcher
	Alerts    AlertStore
	FieldCaps FieldCapsFunc // nil: untyped KQL
	// CheckRead, when set, is asked before the first search of an execution
	// whether the credential may read the rule's indices
	// (privileges.Checker.CheckRead): searches ignore unavailable indices,
	// which hides a 403.
	CheckRead func(ctx context.Context, indices []string) error
	Logger    zerolog.Logger
	// Clock gives the alert write time and measures durations; nil uses the
	// slot time (and reports zero durations).
	Clock func() time.Time
	// KibanaVersion is written as kibana.version (optional).
	KibanaVersion string
	Config        Config
}

// RunOptions vary one execution.
type RunOptions struct {
	// DryRun does everything except writing alerts; Result.Alerts holds the
	// would-be alerts.
	DryRun bool
	// ExecutionType is "scheduled" (default) or "manual" (backfill).
	ExecutionType string
}

// Result describes one execution.
type Result struct {
	RuleID        string
	Slot          time.Time
	Window        Window
	ExecutionUUID string
	DryRun        bool
	// TermsChecked counts phase-1 buckets (terms or combinations).
	TermsChecked int
	// NewTerms counts new terms or combinations (before dedup and max_signals).
	NewTerms int
	// Candidates counts (document, new terms) pairs offered to alert creation.
	Candidates int
	// AlertsCreated counts alerts written now (dry run: that would be written).
	AlertsCreated int
	// AlertsDuplicate counts candidates whose alert already existed: from
	// another execution (dropped), from this slot's earlier run (a re-run;
	// counted toward max_signals), or a 409 on create.
	AlertsDuplicate int
	// AlertsTruncated counts creatable candidates dropped by max_signals.
	AlertsTruncated int
	Warnings        []string
	// Coverage is the D5 check (nil when skipped).
	Coverage *Coverage
	Took     time.Duration
	// ESTook is the sum of Elasticsearch's "took" over all requests.
	ESTook time.Duration
	// Requests counts search requests.
	Requests int
	// Alerts holds the would-be alerts of a dry run, in creation order.
	Alerts []alerts.Alert
}

// MaxSignalsWarning is Kibana's warning when max_signals cut alerts.
const MaxSignalsWarning = "This rule reached the maximum alert limit for the rule execution. Some alerts were not created."

// Phase names used in errors and explain output.
const (
	phaseRecent   = "phase 1 (recent terms)"
	phaseHistory  = "phase 2 (history)"
	phaseDocFetch = "phase 3 (document fetch)"
	phaseCoverage = "coverage check"
)

func (e *Executor) now(fallback time.Time) time.Time {
	if e.Clock == nil {
		return fallback
	}
	return e.Clock().UTC()
}

// Run executes r once for slot (D3): the window is WindowAt(r, slot). It
// returns an error, naming the phase, when any search failed (D2); alerts
// written before the failure stay (they are idempotent).
func (e *Executor) Run(ctx context.Context, r *rule.Rule, slot time.Time, o RunOptions) (Result, error) {
	start := e.now(slot)
	slot = slot.UTC()
	res := Result{RuleID: r.RuleID, Slot: slot, DryRun: o.DryRun}
	if e.Searcher == nil {
		return res, errors.New("run rule: executor has no Searcher")
	}
	if e.Alerts == nil && !o.DryRun {
		return res, errors.New("run rule: executor has no AlertStore")
	}
	if n := len(r.NewTermsFields); n < 1 || n > rule.MaxNewTermsFields {
		return res, fmt.Errorf("run rule %s: %d new-terms fields, want 1 to %d", r.RuleID, n, rule.MaxNewTermsFields)
	}
	w, err := WindowAt(r, slot)
	if err != nil {
		return res, err
	}
	res.Window = w
	res.ExecutionUUID = alerts.ExecutionUUID(r.Space, r.SavedObjectID(), slot)
	filter, err := QueryFilter(ctx, e.FieldCaps, r)
	if err != nil {
		return res, err
	}
	cfg := e.Config.withDefaults()
	x := &execution{
		e: e, r: r, w: w, res: &res, cfg: cfg,
		q: esquery.Query{
			Fields: r.NewTermsFields, Timestamps: r.Timestamps, Filter: filter,
			PageSize: cfg.PageSize,
		},
		fromMs:  w.From.UnixMilli(),
		log:     e.Logger.With().Str("rule_id", r.RuleID).Time("slot", slot).Logger(),
		options: o,
	}
	x.sink = newAlertSink(x)
	err = x.run(ctx)
	res.Took = e.now(slot).Sub(start)
	if err != nil {
		return res, fmt.Errorf("run rule %s for slot %s: %w", r.RuleID, slot.Format(time.RFC3339), err)
	}
	x.log.Info().
		Time("window_start", w.From).Time("window_end", w.To).Time("history_start", w.HistoryStart).
		Int("terms", res.TermsChecked).Int("new_terms", res.NewTerms).
		Int("alerts_created", res.AlertsCreated).Int("alerts_duplicate", res.AlertsDuplicate).
		Int("alerts_truncated", res.AlertsTruncated).Int("requests", res.Requests).
		Dur("event.duration", res.Took).Int64("es_took_ms", res.ESTook.Milliseconds()).Bool("dry_run", o.DryRun).
		Msg("rule executed")
	return res, nil
}

// execution is the state of one Run.
type execution struct {
	e       *Executor
	r       *rule.Rule
	w       Window
	q       esquery.Query
	cfg     Config
	res     *Result
	sink    *alertSink
	log     zerolog.Logger
	options RunOptions
	fromMs  int64
	noIndex bool // warned that no index matched
}

func (x *execution) warn(msg string) {
	for _, w := range x.res.Warnings {
		if w == msg {
			return
		}
	}
	x.res.Warnings = append(x.res.Warnings, msg)
	x.log.Warn().Msg(msg)
}

// search sends one request and accounts for it; errors name the phase.
func (x *execution) search(ctx context.Context, phase string, body []byte) (esquery.Response, error) {
	x.res.Requests++
	resp, err := x.e.Searcher.Search(ctx, x.r.Index, body, nil)
	if err != nil {
		return resp, fmt.Errorf("%s: %w", phase, err)
	}
	x.res.ESTook += time.Duration(resp.Took) * time.Millisecond
	if resp.Shards == 0 && !x.noIndex {
		x.noIndex = true
		x.warn(fmt.Sprintf("no index matches %v", x.r.Index))
	}
	return resp, nil
}

func (x *execution) run(ctx context.Context) error {
	if x.e.CheckRead != nil {
		if err := x.e.CheckRead(ctx, x.r.Index); err != nil {
			return fmt.Errorf("rule %s: %w", x.r.RuleID, err)
		}
	}
	if !x.cfg.SkipCoverage {
		c, err := x.coverage(ctx)
		if err != nil {
			return err
		}
		x.res.Coverage = &c
	}
	var after esquery.Key
	for {
		body, err := x.q.RecentTerms(x.w.Recent(), after)
		if err != nil {
			return err
		}
		resp, err := x.search(ctx, phaseRecent, body)
		if err != nil && errors.Is(err, esquery.ErrTooLarge) && x.q.PageSize > 1 {
			x.q.PageSize /= 2
			x.warn(fmt.Sprintf("%s: response too large, page size reduced to %d", phaseRecent, x.q.PageSize))
			continue
		}
		if err != nil {
			return err
		}
		page, err := x.q.DecodeComposite(resp)
		if err != nil {
			return fmt.Errorf("%s: %w", phaseRecent, err)
		}
		if page.AfterKey == nil {
			return nil
		}
		x.res.TermsChecked += len(page.Buckets)
		var stop bool
		if len(x.q.Fields) == 1 {
			stop, err = x.singleFieldPage(ctx, page.Buckets)
		} else {
			stop, err = x.multiFieldPage(ctx, page.Buckets, after)
		}
		if err != nil || stop {
			return err
		}
		after = page.AfterKey
	}
}

func (x *execution) coverage(ctx context.Context) (Coverage, error) {
	body, err := x.q.Coverage(x.w.History())
	if err != nil {
		return Coverage{}, err
	}
	resp, err := x.search(ctx, phaseCoverage, body)
	if err != nil {
		return Coverage{}, err
	}
	c, err := decodeCoverage(x.q, resp)
	if err != nil {
		return Coverage{}, fmt.Errorf("%s: %w", phaseCoverage, err)
	}
	for _, msg := range c.Warnings() {
		x.warn(msg)
	}
	return c, nil
}

// candidate is one (document, new terms) pair that may become an alert.
type candidate struct {
	hit   esquery.TopHit
	terms esquery.Key
}

// errStop ends a batch loop early because max_signals was reached.
var errStop = errors.New("max signals reached")

// offer hands candidates to alert creation and returns errStop when
// max_signals ended the execution.
func (x *execution) offer(ctx context.Context, cands []candidate) error {
	stop, err := x.sink.offer(ctx, cands)
	if err != nil {
		return err
	}
	if stop {
		return errStop
	}
	return nil
}

// stopped turns the result of a batch loop into (max_signals reached, error).
func stopped(err error) (bool, error) {
	if errors.Is(err, errStop) {
		return true, nil
	}
	return false, err
}

// inHalvingBatches calls fn on consecutive chunks of items of at most size
// items. A chunk whose response is too large (D6) is halved and retried, down
// to one item; the smaller size is kept for the remaining chunks.
func inHalvingBatches[T any](x *execution, phase string, items []T, size int, fn func([]T) error) error {
	for i := 0; i < len(items); {
		n := min(size, len(items)-i)
		err := fn(items[i : i+n])
		if err != nil && n > 1 && errors.Is(err, esquery.ErrTooLarge) {
			size = n / 2
			x.warn(fmt.Sprintf("%s: response too large, batch size reduced to %d", phase, size))
			continue
		}
		if err != nil {
			return err
		}
		i += n
	}
	return nil
}
