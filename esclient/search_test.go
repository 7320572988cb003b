package esclient_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/esquery"
	"github.com/esrule/esrule/internal/estest"
)

// newTestRunner returns a client over a fake answering with replies, in
// order and once each, and the fake.
func newTestRunner(t *testing.T, cfg esclient.Config, replies ...estest.Reply) (*esclient.Client, *estest.Transport) {
	t.Helper()
	tr := estest.NewTransport()
	tr.Script("", "/**", replies...)
	return tr.ClientWith(t, cfg), tr
}

const okBody = `{"took":7,"timed_out":false,"_shards":{"total":2,"successful":2,"skipped":0,"failed":0},
 "hits":{"total":{"value":12,"relation":"eq"},"hits":[]},
 "aggregations":{"new_terms":{"buckets":[]}}}`

func TestRunnerSearch(t *testing.T) {
	shardFailure := `{"took":3,"timed_out":false,"_shards":{"total":2,"successful":1,"skipped":0,"failed":1,
	  "failures":[{"shard":1,"index":"logs-okta-1","node":"n","reason":{"type":"query_shard_exception","reason":"No mapping found for [x]"}}]},
	  "hits":{"hits":[]},"aggregations":{"new_terms":{"buckets":[]}}}`
	timedOut := `{"took":30000,"timed_out":true,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"hits":[]},"aggregations":{"new_terms":{"buckets":[]}}}`
	allShards := `{"error":{"root_cause":[{"type":"query_shard_exception","reason":"failed to create query: maxClauseCount is set to 1024"}],
	  "type":"search_phase_execution_exception","reason":"all shards failed","phase":"query","grouped":true,
	  "failed_shards":[{"shard":0,"index":"logs-okta-1","node":"n","reason":{"type":"query_shard_exception","reason":"failed to create query: maxClauseCount is set to 1024"}}]},"status":400}`
	breaker := `{"error":{"root_cause":[{"type":"circuit_breaking_exception","reason":"[parent] Data too large"}],"type":"circuit_breaking_exception","reason":"[parent] Data too large","bytes_wanted":1,"bytes_limit":1,"durability":"TRANSIENT"},"status":429}`
	overloaded := `{"error":{"type":"es_rejected_execution_exception","reason":"rejected execution"},"status":429}`
	unavailable := `{"error":{"type":"unavailable_shards_exception","reason":"primary shard is not active"},"status":503}`

	cases := []struct {
		name      string
		cfg       esclient.Config
		responses []estest.Reply
		requests  int
		check     func(t *testing.T, resp esquery.Response, err error)
	}{
		{
			name: "ok", responses: []estest.Reply{estest.JSON(200, okBody)}, requests: 1,
			check: func(t *testing.T, resp esquery.Response, err error) {
				require.NoError(t, err)
				require.Equal(t, int64(7), resp.Took)
				require.Equal(t, 2, resp.Shards)
				require.Equal(t, int64(12), resp.TotalHits)
				require.JSONEq(t, `{"new_terms":{"buckets":[]}}`, string(resp.Aggregations))
			},
		},
		{
			name: "429 then ok", responses: []estest.Reply{estest.JSON(429, overloaded), estest.JSON(200, okBody)}, requests: 2,
			check: func(t *testing.T, resp esquery.Response, err error) {
				require.NoError(t, err)
				require.Equal(t, int64(7), resp.Took)
			},
		},
		{
			name: "transport error then ok", responses: []estest.Reply{estest.Fail(errors.New("connection refused")), estest.JSON(200, okBody)}, requests: 2,
			check: func(t *testing.T, _ esquery.Response, err error) { require.NoError(t, err) },
		},
		{
			name: "5xx exhausted", cfg: esclient.Config{MaxRetries: 2},
			responses: []estest.Reply{estest.JSON(503, unavailable), estest.JSON(503, unavailable), estest.JSON(503, unavailable), estest.JSON(200, okBody)},
			requests:  3,
			check: func(t *testing.T, _ esquery.Response, err error) {
				require.ErrorContains(t, err, "primary shard is not active")
				var se *esclient.Error
				require.ErrorAs(t, err, &se)
				require.Equal(t, 503, se.Status)
			},
		},
		{
			name: "shard failure in a 200", responses: []estest.Reply{estest.JSON(200, shardFailure)}, requests: 1,
			check: func(t *testing.T, _ esquery.Response, err error) {
				var se *esclient.Error
				require.ErrorAs(t, err, &se)
				require.Equal(t, []esclient.ShardFailure{{Index: "logs-okta-1", Shard: 1, Type: "query_shard_exception", Reason: "No mapping found for [x]"}}, se.Shards)
				require.ErrorContains(t, err, "[index logs-okta-1 shard 1] query_shard_exception: No mapping found for [x]")
			},
		},
		{
			name: "timed out", responses: []estest.Reply{estest.JSON(200, timedOut)}, requests: 1,
			check: func(t *testing.T, _ esquery.Response, err error) { require.ErrorIs(t, err, esclient.ErrTimedOut) },
		},
		{
			name: "all shards failed is not retried and names the shard", responses: []estest.Reply{estest.JSON(400, allShards)}, requests: 1,
			check: func(t *testing.T, _ esquery.Response, err error) {
				require.ErrorIs(t, err, esquery.ErrTooManyClauses)
				require.NotErrorIs(t, err, esquery.ErrTooLarge)
				require.ErrorContains(t, err, "index logs-okta-1 shard 0")
			},
		},
		{
			name: "circuit breaker is too large, not retried", responses: []estest.Reply{estest.JSON(429, breaker)}, requests: 1,
			check: func(t *testing.T, _ esquery.Response, err error) { require.ErrorIs(t, err, esquery.ErrTooLarge) },
		},
		{
			name: "too large body", cfg: esclient.Config{MaxResponseBytes: 64}, responses: []estest.Reply{estest.JSON(200, okBody)}, requests: 1,
			check: func(t *testing.T, _ esquery.Response, err error) {
				require.ErrorIs(t, err, esclient.ErrResponseTooLarge)
				require.ErrorIs(t, err, esquery.ErrTooLarge)
			},
		},
		{
			name: "truncated body", responses: []estest.Reply{estest.JSON(200, okBody[:60])}, requests: 1,
			check: func(t *testing.T, _ esquery.Response, err error) {
				require.ErrorContains(t, err, "decode search response")
			},
		},
		{
			name: "non-JSON body", responses: []estest.Reply{estest.JSON(200, "<html>proxy error</html>")}, requests: 1,
			check: func(t *testing.T, _ esquery.Response, err error) {
				require.ErrorContains(t, err, "decode search response")
			},
		},
		{
			name: "JSON that is not a search response", responses: []estest.Reply{estest.JSON(200, `{"acknowledged":true}`)}, requests: 1,
			check: func(t *testing.T, _ esquery.Response, err error) {
				require.ErrorContains(t, err, "not a search response")
			},
		},
		{
			name: "non-JSON error body", responses: []estest.Reply{estest.JSON(404, "no handler")}, requests: 1,
			check: func(t *testing.T, _ esquery.Response, err error) {
				var se *esclient.Error
				require.ErrorAs(t, err, &se)
				require.Equal(t, 404, se.Status)
				require.Equal(t, "no handler", se.Reason)
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, ft := newTestRunner(t, tc.cfg, tc.responses...)
			resp, err := r.Search(context.Background(), []string{"logs-okta*", "filebeat-*"}, []byte(`{"size":0}`), nil)
			tc.check(t, resp, err)
			require.Len(t, ft.Requests(), tc.requests)
		})
	}
}

func TestRunnerRequest(t *testing.T) {
	r, ft := newTestRunner(t, esclient.Config{}, estest.JSON(200, okBody))
	_, err := r.Search(context.Background(), []string{"logs-okta*", "filebeat-*"}, []byte(`{"size":0}`), nil)
	require.NoError(t, err)
	req := ft.Requests()[0]
	require.Equal(t, "/logs-okta*,filebeat-*/_search", req.Path)
	q := req.Query
	require.Equal(t, "true", q.Get("ignore_unavailable"))
	require.Equal(t, "true", q.Get("allow_no_indices"))
	require.Equal(t, "false", q.Get("allow_partial_search_results"))
	require.Equal(t, `{"size":0}`, string(req.Body))
}

func TestRunnerStopsRetryingOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, ft := newTestRunner(t, esclient.Config{Backoff: func(int) time.Duration { cancel(); return time.Hour }},
		estest.JSON(503, `{"error":{"type":"x","reason":"y"},"status":503}`), estest.JSON(200, okBody))
	_, err := r.Search(ctx, []string{"i"}, []byte(`{}`), nil)
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, ft.Requests(), 1)
}

func TestRunnerLogsBodyHashNotBody(t *testing.T) {
	var buf strings.Builder
	r, _ := newTestRunner(t, esclient.Config{Logger: zerolog.New(&buf).Level(zerolog.DebugLevel)}, estest.JSON(200, okBody))
	_, err := r.Search(context.Background(), []string{"i"}, []byte(`{"query":{"term":{"secret.field":"s3cr3t"}}}`), nil)
	require.NoError(t, err)
	require.Contains(t, buf.String(), `"query_hash":"`)
	require.NotContains(t, buf.String(), "s3cr3t")
}
