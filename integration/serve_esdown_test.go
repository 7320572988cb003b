//go:build integration

package integration

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/state"
)

// flakyProxy forwards to Elasticsearch; while down it answers 503 or drops
// the connection, alternately.
type flakyProxy struct {
	*httptest.Server
	down     atomic.Bool
	requests atomic.Int64
	refused  atomic.Int64
}

func newFlakyProxy(t *testing.T) *flakyProxy {
	t.Helper()
	target, err := url.Parse(esURL)
	require.NoError(t, err)
	p := &flakyProxy{}
	rp := httputil.NewSingleHostReverseProxy(target)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := p.requests.Add(1)
		if p.down.Load() {
			p.refused.Add(1)
			if n%2 == 0 {
				panic(http.ErrAbortHandler) // connection closed without a response
			}
			http.Error(w, `{"error":{"type":"unavailable","reason":"proxy down"},"status":503}`, http.StatusServiceUnavailable)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// TestIntegrationServeElasticsearchDown: serve talks to Elasticsearch through
// a proxy that goes down for a few slots (the scheduler's clock moves on by
// them while it is down). Executions (and state writes) fail meanwhile; when
// it is back, serve catches up: nothing lost, nothing duplicated, and every
// slot completed once.
func TestIntegrationServeElasticsearchDown(t *testing.T) {
	t.Parallel()
	e := newServeEnv(t)
	proxy := newFlakyProxy(t)
	eng := e.newEngine(t, proxy.URL, e.alias, 5*time.Second)
	run := newCountingRunner(eng)
	cfg := e.config("replica-a", eng.Store(), run)
	cfg.Timeout = 5 * time.Second
	cfg.LeaseTTL = 10 * time.Second
	logs := &syncBuffer{}
	cfg.Logger = zerolog.New(logs)
	stop := startServe(t, cfg)
	e.waitCheckpoint(t, e.slot(1))

	proxy.down.Store(true)
	downFrom := *e.ruleState(t).LastCompletedSlot
	// A tick fails while Elasticsearch is down; then six slots pass, and a
	// tick after them fails as well.
	failures := func() int {
		l := logs.String()
		return strings.Count(l, `"message":"rule tick failed"`) + strings.Count(l, `"message":"rule execution failed"`)
	}
	waitFailures := func(n int) {
		waitFor(t, fmt.Sprintf("%d failed ticks", n), func() (bool, string) {
			return failures() >= n, fmt.Sprintf("%d failed ticks, proxy refused %d of %d requests", failures(), proxy.refused.Load(), proxy.requests.Load())
		})
	}
	waitFailures(1)
	e.clock.AdvanceTo(downFrom.Add(6 * serveInterval))
	waitFailures(failures() + 1)
	stalled := e.ruleState(t)
	require.True(t, stalled.LastCompletedSlot.Before(downFrom.Add(2*serveInterval)),
		"no checkpoint can be written while Elasticsearch is down: %v", stalled.LastCompletedSlot)
	proxy.down.Store(false)

	e.waitCheckpoint(t, downFrom.Add(6*serveInterval))
	stop()
	st := e.ruleState(t)
	require.Equal(t, state.StatusSucceeded, st.LastStatus)
	runs, failed := run.counts()
	t.Logf("proxy refused %d requests; %d executions failed", proxy.refused.Load(), failed)
	// A slot that failed while Elasticsearch was down ran again later (a slot
	// whose checkpoint could not be written also runs again: idempotent).
	for slot := e.s0; !slot.After(*st.LastCompletedSlot); slot = slot.Add(serveInterval) {
		require.GreaterOrEqual(t, runs[slot], 1, "slot %s executed", slot.Format("15:04:05"))
	}
	e.requireSameAlerts(t, *st.LastCompletedSlot)
}
