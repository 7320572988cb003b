package notify

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func TestCollectorsRegister(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics()
	for _, c := range m.Collectors() {
		require.NoError(t, reg.Register(c))
	}
	m.initAction("metrics-test")
	families, err := reg.Gather()
	require.NoError(t, err)
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	require.Subset(t, names, []string{"esrule_notify_sent_total", "esrule_notify_failed_total",
		"esrule_notify_retryable_errors_total", "esrule_notify_pending"})
}
