package notify

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the notification metrics, all labelled by action:
// esrule_notify_sent_total, esrule_notify_failed_total,
// esrule_notify_retryable_errors_total, esrule_notify_pending,
// esrule_notify_request_duration_seconds and esrule_notify_state_errors_total.
type Metrics struct {
	sent, failed, retries *prometheus.CounterVec
	stateErrors           *prometheus.CounterVec
	pending               *prometheus.GaugeVec
	requestSeconds        *prometheus.HistogramVec
}

// NewMetrics creates the notification metrics; register Collectors on the
// process's registry.
func NewMetrics() *Metrics {
	return &Metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "esrule_notify_sent_total",
			Help: "Alert notifications accepted by the destination, by action.",
		}, []string{"action"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "esrule_notify_failed_total",
			Help: "Alert notifications given up (permanent error or too many attempts), by action.",
		}, []string{"action"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "esrule_notify_retryable_errors_total",
			Help: "Sends that failed with a retryable error (429, 5xx, timeout, connection), by action.",
		}, []string{"action"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "esrule_notify_pending",
			Help: "Alerts the action applies to and has neither sent nor given up on, at the last search.",
		}, []string{"action"}),
		stateErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "esrule_notify_state_errors_total",
			Help: "Claims and delivery results that could not be written to the alert (e.g. 403: the role lacks the index privilege on the alerts indices), by action.",
		}, []string{"action"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "esrule_notify_request_duration_seconds",
			Help:    "Duration of notification requests, by action.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"action"}),
	}
}

// Collectors returns the metrics for the caller's registry.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.sent, m.failed, m.retries, m.pending, m.requestSeconds, m.stateErrors}
}

// initAction creates the series of action with zero values.
func (m *Metrics) initAction(action string) {
	m.sent.WithLabelValues(action)
	m.failed.WithLabelValues(action)
	m.retries.WithLabelValues(action)
	m.pending.WithLabelValues(action)
	m.stateErrors.WithLabelValues(action)
}
