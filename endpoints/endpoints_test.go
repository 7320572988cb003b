package endpoints

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/metrics"
)

func TestEndpoints(t *testing.T) {
	m := metrics.New()
	m.InitRule("r1")
	get := func(ready *Readiness, path string) (int, string) {
		rec := httptest.NewRecorder()
		Mux(ready, m.Handler()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	code, _ := get(NewReadiness(nil, 1, zerolog.Nop(), time.Now), "/healthz")
	require.Equal(t, http.StatusOK, code)

	code, body := get(NewReadiness(nil, 0, zerolog.Nop(), time.Now), "/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, "no rules loaded")

	r := NewReadiness(nil, 1, zerolog.Nop(), time.Now)
	code, body = get(r, "/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, "installing index templates")
	r = NewReadiness(nil, 1, zerolog.Nop(), time.Now)
	r.SetInstalled(errors.New("403 forbidden: user esrule lacks manage_index_templates"))
	_, body = get(r, "/readyz")
	require.Equal(t, "not ready: index templates and indices not installed\n", body, "the cause, not the internal error")

	code, body = get(r, "/metrics")
	require.Equal(t, http.StatusOK, code)
	require.True(t, strings.Contains(body, `esrule_executions_total{result="success",rule_id="r1",type="scheduled"} 0`), body)
}
