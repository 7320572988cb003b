package metrics

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/schedule"
)

func TestMetricsFollowPrometheusConventions(t *testing.T) {
	m := New()
	m.InitRule("r1")
	m.Executed("r1", schedule.ExecScheduled, time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC), 1, detect.Result{AlertsCreated: 2, NewTerms: 3, Took: time.Second,
		Coverage: &detect.Coverage{Total: 10, Fields: []detect.FieldCoverage{{Field: "okta.actor.id", Docs: 10}}}}, nil)
	m.TickFailed("r1", schedule.StageLease)
	m.TickStuck("r1")
	m.LeaseSkipped("r1")
	m.GapSeconds("r1", 600)
	m.LeaseHeld("r1", true)
	m.ObserveRequest(httptest.NewRequest(http.MethodPost, "/logs-*/_search", nil), 200, time.Millisecond)

	problems, err := testutil.CollectAndLint(m.Registry)
	require.NoError(t, err)
	require.Empty(t, problems)

	names := []string{
		"esrule_executions_total", "esrule_execution_duration_seconds", "esrule_es_request_duration_seconds",
		"esrule_alerts_written_total", "esrule_new_terms_total", "esrule_last_success_timestamp_seconds",
		"esrule_gap_seconds", "esrule_lease_held", "esrule_coverage_documents", "esrule_new_terms_field_coverage_ratio",
		"esrule_tick_failures_total", "esrule_ticks_stuck_total", "esrule_lease_skips_total",
	}
	n, err := testutil.GatherAndCount(m.Registry, names...)
	require.NoError(t, err)
	require.Positive(t, n)
	for _, name := range names {
		c, err := testutil.GatherAndCount(m.Registry, name)
		require.NoError(t, err)
		require.Positive(t, c, name)
	}
}

func TestExecutedCountsResults(t *testing.T) {
	m := New()
	at := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	sch := schedule.ExecScheduled
	m.Executed("r1", sch, at, 1, detect.Result{AlertsCreated: 2, AlertsDuplicate: 1, NewTerms: 3}, nil)
	failed := &alerts.BulkError{Total: 4, Failed: []alerts.ItemError{{ID: "a"}, {ID: "b"}}}
	m.Executed("r1", sch, at.Add(time.Minute), 1, detect.Result{AlertsCreated: 2}, errors.Join(errors.New("phase 3"), failed))
	// A catch-up group of 12 slots written at once counts 12 executions.
	m.Executed("r1", schedule.ExecCatchUp, at.Add(time.Hour), 12, detect.Result{AlertsCreated: 5, NewTerms: 5}, nil)

	require.InDelta(t, 1, testutil.ToFloat64(m.executions.WithLabelValues("r1", sch, ResultSuccess)), 0)
	require.InDelta(t, 1, testutil.ToFloat64(m.executions.WithLabelValues("r1", sch, ResultFailure)), 0)
	require.InDelta(t, 12, testutil.ToFloat64(m.executions.WithLabelValues("r1", schedule.ExecCatchUp, ResultSuccess)), 0)
	require.InDelta(t, 4, testutil.ToFloat64(m.alertsWritten.WithLabelValues("r1", sch, "created")), 0)
	require.InDelta(t, 5, testutil.ToFloat64(m.alertsWritten.WithLabelValues("r1", schedule.ExecCatchUp, "created")), 0)
	require.InDelta(t, 1, testutil.ToFloat64(m.alertsWritten.WithLabelValues("r1", sch, "duplicate")), 0)
	require.InDelta(t, 2, testutil.ToFloat64(m.alertsWritten.WithLabelValues("r1", sch, "failed")), 0)
	require.InDelta(t, 3, testutil.ToFloat64(m.newTerms.WithLabelValues("r1", sch)), 0)
	require.InDelta(t, float64(at.Add(time.Hour).Unix()), testutil.ToFloat64(m.lastSuccess.WithLabelValues("r1")), 0)
}

func TestEndpoint(t *testing.T) {
	tests := []struct {
		name, method, path, want string
	}{
		{"search", http.MethodPost, "/filebeat-*,logs-okta*/_search", "search"},
		{"bulk", http.MethodPost, "/_bulk", "bulk"},
		{"get state", http.MethodGet, "/esrule-state/_doc/default:abc", "get"},
		{"put state", http.MethodPut, "/esrule-state/_doc/default:abc", "index"},
		{"field caps", http.MethodGet, "/logs-*/_field_caps", "field_caps"},
		{"info", http.MethodGet, "/", "info"},
		{"index exists", http.MethodHead, "/esrule-state", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, Endpoint(tt.method, tt.path))
		})
	}
}

func TestBuildInfo(t *testing.T) {
	m := New()
	m.SetBuildInfo("v1.2.3", "0123abcd", "go1.26.8")
	m.SetBuildInfo("v1.2.4", "4567ef01", "go1.26.8") // the last call wins: one series
	want := `# HELP esrule_build_info Always 1; the labels name the esrule version, the source revision and the Go version of the binary.
# TYPE esrule_build_info gauge
esrule_build_info{goversion="go1.26.8",revision="4567ef01",version="v1.2.4"} 1
`
	require.NoError(t, testutil.GatherAndCompare(m.Registry, strings.NewReader(want), "esrule_build_info"))
	problems, err := testutil.CollectAndLint(m.Registry)
	require.NoError(t, err)
	require.Empty(t, problems)
}

func TestCoverageGauges(t *testing.T) {
	m := New()
	c := detect.Coverage{Total: 8, AllFields: 2, Fields: []detect.FieldCoverage{{Field: "okta.actor.id", Docs: 8}, {Field: "cloud.account.id", Docs: 2}}}
	m.Executed("pair", schedule.ExecScheduled, time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC), 1, detect.Result{Coverage: &c}, nil)
	require.InDelta(t, 8, testutil.ToFloat64(m.coverageDocs.WithLabelValues("pair")), 0)
	require.InDelta(t, 1, testutil.ToFloat64(m.coverageRatio.WithLabelValues("pair", "okta.actor.id")), 0)
	require.InDelta(t, 0.25, testutil.ToFloat64(m.coverageRatio.WithLabelValues("pair", "cloud.account.id")), 0)

	// No matching document: no ratio.
	m.Coverage("pair", detect.Coverage{Fields: c.Fields})
	require.InDelta(t, 0, testutil.ToFloat64(m.coverageDocs.WithLabelValues("pair")), 0)
	n, err := testutil.GatherAndCount(m.Registry, "esrule_new_terms_field_coverage_ratio")
	require.NoError(t, err)
	require.Zero(t, n)
}
