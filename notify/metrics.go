package notify

import "github.com/prometheus/client_golang/prometheus"

var (
	sentTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "esrule_notify_sent_total",
		Help: "Alert notifications accepted by the destination, by action.",
	}, []string{"action"})
	failedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "esrule_notify_failed_total",
		Help: "Alert notifications given up (permanent error or too many attempts), by action.",
	}, []string{"action"})
	retriesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "esrule_notify_retryable_errors_total",
		Help: "Sends that failed with a retryable error (429, 5xx, timeout, connection), by action.",
	}, []string{"action"})
	pendingGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "esrule_notify_pending",
		Help: "Alerts the action applies to and has neither sent nor given up on, at the last search.",
	}, []string{"action"})
	requestSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "esrule_notify_request_duration_seconds",
		Help:    "Duration of notification requests, by action.",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"action"})
)

// Collectors returns the notification metrics for the caller's registry:
// esrule_notify_sent_total, esrule_notify_failed_total,
// esrule_notify_retryable_errors_total, esrule_notify_pending and
// esrule_notify_request_duration_seconds, all labelled by action.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{sentTotal, failedTotal, retriesTotal, pendingGauge, requestSeconds}
}

func initMetrics(action string) {
	sentTotal.WithLabelValues(action)
	failedTotal.WithLabelValues(action)
	retriesTotal.WithLabelValues(action)
	pendingGauge.WithLabelValues(action)
}
