// Package metrics defines esrule's Prometheus metrics (docs/commands.md) on a registry
// of its own: executions, their duration, Elasticsearch request durations,
// alerts written, new terms, last success, gaps and leases. *Metrics
// implements schedule.Observer; Transport instruments the Elasticsearch client.
package metrics

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/notify"
	"github.com/esrule/esrule/schedule"
)

// Label values of esrule_executions_total{result}.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
)

// Metrics holds esrule's collectors, registered on Registry.
type Metrics struct {
	// Registry holds every esrule collector plus the Go and process collectors.
	Registry *prometheus.Registry

	executions       *prometheus.CounterVec
	executionSeconds *prometheus.HistogramVec
	esRequestSeconds *prometheus.HistogramVec
	alertsWritten    *prometheus.CounterVec
	newTerms         *prometheus.CounterVec
	lastSuccess      *prometheus.GaugeVec
	gapSeconds       *prometheus.GaugeVec
	leaseHeld        *prometheus.GaugeVec
	buildInfo        *prometheus.GaugeVec
	coverageDocs     *prometheus.GaugeVec
	coverageRatio    *prometheus.GaugeVec
	tickFailures     *prometheus.CounterVec
	ticksStuck       *prometheus.CounterVec
	leaseSkips       *prometheus.CounterVec

	notifyOnce sync.Once
	notify     *notify.Metrics
}

// New creates the collectors on a new registry.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		executions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "esrule_executions_total",
			Help: "Rule executions (one per slot: scheduled, catch-up and background gap fill alike) by rule, execution type (scheduled, catchup, backfill) and result (success or failure).",
		}, []string{"rule_id", "type", "result"}),
		executionSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "esrule_execution_duration_seconds",
			Help:    "Duration of rule executions (a run of slots executed at once counts once), successful or not, by execution type.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"rule_id", "type"}),
		esRequestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "esrule_es_request_duration_seconds",
			Help:    "Duration of HTTP requests to Elasticsearch by endpoint and status code (0: no response).",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"endpoint", "code"}),
		alertsWritten: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "esrule_alerts_written_total",
			Help: "Alerts offered to Elasticsearch by rule, execution type and result: created, duplicate (already written) or failed.",
		}, []string{"rule_id", "type", "result"}),
		newTerms: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "esrule_new_terms_total",
			Help: "New terms (or combinations) found by successful executions, by execution type (runs of slots executed at once: the alerts offered).",
		}, []string{"rule_id", "type"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "esrule_last_success_timestamp_seconds",
			Help: "Unix time of the rule's last successful execution.",
		}, []string{"rule_id"}),
		gapSeconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "esrule_gap_seconds",
			Help: "Length of the rule's recorded gap: missed slots older than the catch-up limit, to be filled with esrule backfill (0: none).",
		}, []string{"rule_id"}),
		leaseHeld: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "esrule_lease_held",
			Help: "1 when this replica holds the rule's lease, else 0.",
		}, []string{"rule_id"}),
		buildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "esrule_build_info",
			Help: "Always 1; the labels name the esrule version, the source revision and the Go version of the binary.",
		}, []string{"version", "revision", "goversion"}),
		coverageDocs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "esrule_coverage_documents",
			Help: "Documents matching the rule in the history window at its last coverage check (docs/semantics.md D5).",
		}, []string{"rule_id"}),
		coverageRatio: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "esrule_new_terms_field_coverage_ratio",
			Help: "Share of the documents matching the rule in the history window that hold the new-terms field, at the last coverage check; below 0.5 the rule warns, since only documents with the field can alert. Absent while no document matches.",
		}, []string{"rule_id", "field"}),
		tickFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "esrule_tick_failures_total",
			Help: "Ticks of a rule that failed, by stage: lease (reading or taking the lease), state (a state write), execute (a slot), lost (the lease was lost), gapfill.",
		}, []string{"rule_id", "stage"}),
		ticksStuck: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "esrule_ticks_stuck_total",
			Help: "Ticks of a rule without progress for the execution timeout plus the lease TTL.",
		}, []string{"rule_id"}),
		leaseSkips: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "esrule_lease_skips_total",
			Help: "Ticks of a rule skipped because another replica held its lease.",
		}, []string{"rule_id"}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.executions, m.executionSeconds, m.esRequestSeconds, m.alertsWritten,
		m.newTerms, m.lastSuccess, m.gapSeconds, m.leaseHeld, m.buildInfo, m.coverageDocs, m.coverageRatio,
		m.tickFailures, m.ticksStuck, m.leaseSkips,
	)
	return m
}

// Notify returns the notification metrics, registered on Registry at the
// first call.
func (m *Metrics) Notify() *notify.Metrics {
	m.notifyOnce.Do(func() {
		m.notify = notify.NewMetrics()
		m.Registry.MustRegister(m.notify.Collectors()...)
	})
	return m.notify
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// SetBuildInfo sets esrule_build_info{version,revision,goversion} to 1.
func (m *Metrics) SetBuildInfo(version, revision, goVersion string) {
	m.buildInfo.Reset()
	m.buildInfo.WithLabelValues(version, revision, goVersion).Set(1)
}

// InitRule creates the per-rule series with zero values, so dashboards see a
// rule before its first execution.
func (m *Metrics) InitRule(ruleID string) {
	for _, kind := range []string{schedule.ExecScheduled, schedule.ExecCatchUp, schedule.ExecBackfill} {
		for _, r := range []string{ResultSuccess, ResultFailure} {
			m.executions.WithLabelValues(ruleID, kind, r)
		}
		for _, r := range []string{"created", "duplicate", "failed"} {
			m.alertsWritten.WithLabelValues(ruleID, kind, r)
		}
		m.newTerms.WithLabelValues(ruleID, kind)
	}
	for _, stage := range []string{schedule.StageLease, schedule.StageState, schedule.StageExecute, schedule.StageLost, schedule.StageGapFill} {
		m.tickFailures.WithLabelValues(ruleID, stage)
	}
	m.ticksStuck.WithLabelValues(ruleID)
	m.leaseSkips.WithLabelValues(ruleID)
	m.gapSeconds.WithLabelValues(ruleID)
	m.leaseHeld.WithLabelValues(ruleID)
}

// Executed records the execution of slots slots of type kind that ended at at.
func (m *Metrics) Executed(ruleID, kind string, at time.Time, slots int, res detect.Result, err error) {
	m.executionSeconds.WithLabelValues(ruleID, kind).Observe(res.Took.Seconds())
	m.alertsWritten.WithLabelValues(ruleID, kind, "created").Add(float64(res.AlertsCreated))
	m.alertsWritten.WithLabelValues(ruleID, kind, "duplicate").Add(float64(res.AlertsDuplicate))
	if res.Coverage != nil {
		m.Coverage(ruleID, *res.Coverage)
	}
	if err != nil {
		m.executions.WithLabelValues(ruleID, kind, ResultFailure).Add(float64(slots))
		var be *alerts.BulkError
		if errors.As(err, &be) {
			m.alertsWritten.WithLabelValues(ruleID, kind, "failed").Add(float64(len(be.Failed)))
		}
		return
	}
	m.executions.WithLabelValues(ruleID, kind, ResultSuccess).Add(float64(slots))
	m.newTerms.WithLabelValues(ruleID, kind).Add(float64(res.NewTerms))
	m.lastSuccess.WithLabelValues(ruleID).Set(float64(at.UnixNano()) / 1e9)
}

// TickFailed counts a failed tick of the rule at stage.
func (m *Metrics) TickFailed(ruleID, stage string) {
	m.tickFailures.WithLabelValues(ruleID, stage).Inc()
}

// TickStuck counts a tick of the rule without progress.
func (m *Metrics) TickStuck(ruleID string) { m.ticksStuck.WithLabelValues(ruleID).Inc() }

// LeaseSkipped counts a tick skipped because another replica held the lease.
func (m *Metrics) LeaseSkipped(ruleID string) { m.leaseSkips.WithLabelValues(ruleID).Inc() }

// GapSeconds sets the length of the rule's recorded gap.
func (m *Metrics) GapSeconds(ruleID string, seconds float64) {
	m.gapSeconds.WithLabelValues(ruleID).Set(seconds)
}

// LeaseHeld sets whether this replica holds the rule's lease.
func (m *Metrics) LeaseHeld(ruleID string, held bool) {
	v := 0.0
	if held {
		v = 1
	}
	m.leaseHeld.WithLabelValues(ruleID).Set(v)
}

// Coverage records a coverage check (docs/semantics.md D5): the matching documents and,
// when there are any, the share holding each new-terms field (the series is
// removed while none match).
func (m *Metrics) Coverage(ruleID string, c detect.Coverage) {
	m.coverageDocs.WithLabelValues(ruleID).Set(float64(c.Total))
	for _, f := range c.Fields {
		if c.Total <= 0 {
			m.coverageRatio.DeleteLabelValues(ruleID, f.Field) // no share of nothing
			continue
		}
		m.coverageRatio.WithLabelValues(ruleID, f.Field).Set(float64(f.Docs) / float64(c.Total))
	}
}

// Executions is the esrule_executions_total counter of one rule, execution
// type and result (tests and benchmarks read it).
func (m *Metrics) Executions(ruleID, kind, result string) prometheus.Counter {
	return m.executions.WithLabelValues(ruleID, kind, result)
}

// AlertsWritten is the esrule_alerts_written_total counter of one rule,
// execution type and result.
func (m *Metrics) AlertsWritten(ruleID, kind, result string) prometheus.Counter {
	return m.alertsWritten.WithLabelValues(ruleID, kind, result)
}
