package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/internal/estest"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/state"
)

// throttling answers every request first with status (429 or 503, with
// Retry-After: 1), then as Elasticsearch does (okAnswers); seen counts the
// requests by method and path.
func throttling(status int, seen map[string]int, mu *sync.Mutex) *estest.Transport {
	tr := estest.NewTransport()
	tr.OnFunc("", "/**", func(req estest.Request) estest.Reply {
		mu.Lock()
		key := req.Method + " " + req.Path
		seen[key]++
		n := seen[key]
		mu.Unlock()
		if n == 1 {
			r := estest.Error(status, "es_rejected_execution_exception", "busy")
			r.Header = http.Header{"Retry-After": {"1"}}
			return r
		}
		return estest.JSON(http.StatusOK, okAnswers(req))
	})
	return tr
}

func okAnswers(req estest.Request) string {
	switch {
	case strings.Contains(req.Path, "_field_caps"):
		return `{"indices":["logs"],"fields":{"user.name":{"keyword":{"type":"keyword","searchable":true,"aggregatable":true}}}}`
	case strings.Contains(req.Path, "_refresh"):
		return `{"_shards":{"total":1,"successful":1,"failed":0}}`
	case req.Method == http.MethodGet && strings.Contains(req.Path, "/_doc/"):
		return `{"found":true,"_seq_no":3,"_primary_term":1,"_source":{"rule_id":"r1"}}`
	default: // index
		return `{"result":"updated","_seq_no":4,"_primary_term":1}`
	}
}

// State, field caps and refresh requests all go through esclient's one
// retry policy: 429 and 503 are retried after Retry-After.
func TestNonSearchRequestsRetryThrottling(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			var mu sync.Mutex
			seen := map[string]int{}
			e, err := New(Config{Clock: time.Now, ES: esclient.Config{Transport: throttling(status, seen, &mu)}})
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()

			var st state.RuleState
			v, err := e.Store().Get(ctx, "default:r1", &st)
			require.NoError(t, err)
			require.Equal(t, "r1", st.RuleID)
			_, err = e.Store().Put(ctx, "default:r1", st, v)
			require.NoError(t, err)
			specs, err := e.Client().FieldCaps(ctx, []string{"logs"}, []string{"user.name"})
			require.NoError(t, err)
			require.NotEmpty(t, specs)
			require.NoError(t, e.backfillDeps("default", false).Refresh(ctx))

			require.GreaterOrEqual(t, time.Since(start), 4*time.Second, "each first answer's Retry-After: 1 is honoured")
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, seen, 4)
			for key, n := range seen {
				require.Equal(t, 2, n, key)
			}
		})
	}
}

// A retry that would pass the request's deadline is not attempted.
func TestRetryStaysWithinDeadline(t *testing.T) {
	var mu sync.Mutex
	e, err := New(Config{Clock: time.Now, ES: esclient.Config{Transport: throttling(http.StatusTooManyRequests, map[string]int{}, &mu)}})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var st state.RuleState
	_, err = e.Store().Get(ctx, "default:r1", &st)
	require.Error(t, err)
	require.Equal(t, 429, esclient.StatusOf(err))
}

func TestTransient(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"shard failure", &esclient.Error{Type: "shard_failure", Shards: []esclient.ShardFailure{{Index: "logs"}}}, true},
		{"timed out", fmt.Errorf("phase 1: %w", esclient.ErrTimedOut), true},
		{"429 after retries", &esclient.Error{Status: 429}, true},
		{"503 after retries", &esclient.Error{Status: 503}, true},
		{"bad request", &esclient.Error{Status: 400, Type: "parsing_exception"}, false},
		{"alerts not written", &alerts.BulkError{Total: 2, Failed: []alerts.ItemError{{ID: "a", Status: 503}}}, true},
		{"network", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"request timeout", fmt.Errorf("search: %w", context.DeadlineExceeded), true},
		{"truncated", io.ErrUnexpectedEOF, true},
		{"cancelled", context.Canceled, false},
		{"slot timeout", fmt.Errorf("%w of 5m", errSlotTimeout), false},
		{"lease lost", state.ErrLeaseLost, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, transient(tt.err))
		})
	}
}

// A shard failure in the middle of a slot fails closed, and the slot runs
// again within the tick: the second attempt succeeds and only its alerts
// count.
func TestSlotRetriedAfterShardFailure(t *testing.T) {
	tr := estest.NewTransport()
	tr.On("", "/**", estest.JSON(200, `{"indices":["logs"],"fields":{}}`))
	search := tr.On(http.MethodPost, "/logs/_search",
		estest.JSON(200, `{"took":1,"timed_out":false,"_shards":{"total":2,"successful":1,"failed":1,"failures":[{"index":"logs","shard":0,"reason":{"type":"node_disconnected_exception","reason":"gone"}}]},"hits":{"total":{"value":0,"relation":"eq"},"hits":[]}}`),
		estest.JSON(200, `{"took":1,"timed_out":false,"_shards":{"total":2,"successful":2,"failed":0},"hits":{"total":{"value":0,"relation":"eq"},"hits":[]},"aggregations":{"new_terms":{"buckets":[]}}}`))
	e, err := New(Config{Clock: time.Now, ES: esclient.Config{Transport: tr}, Detect: detect.Config{SkipCoverage: true}})
	require.NoError(t, err)
	r := &rule.Rule{RuleID: "r1", ID: "r1", Name: "t", Type: rule.TypeNewTerms, Language: "kuery", Query: "*",
		Index: []string{"logs"}, NewTermsFields: []string{"user.name"}, HistoryWindowStart: "now-1h",
		From: "now-6m", To: "now", Interval: "5m", MaxSignals: 100, Space: "default"}
	require.NoError(t, r.Normalize())
	slot := rule.AlignSlot(time.Now(), 5*time.Minute)
	res, err := e.runBounded(context.Background(), r, slot)
	require.NoError(t, err)
	require.Equal(t, r.RuleID, res.RuleID)
	require.GreaterOrEqual(t, search.Calls(), 2, "the slot ran again after the shard failure")
}
