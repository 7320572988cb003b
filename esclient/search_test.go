package esclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esquery"
)

// fakeResponse is one canned HTTP response.
type fakeResponse struct {
	status int
	body   string
	err    error // transport error instead of a response
}

// fakeTransport is an http.RoundTripper that replays responses in order and
// records the requests. Responses carry the Elasticsearch product header.
type fakeTransport struct {
	responses []fakeResponse
	requests  []*http.Request
	bodies    []string
}

func (f *fakeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	f.requests = append(f.requests, req)
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		f.bodies = append(f.bodies, string(b))
	}
	if len(f.responses) == 0 {
		return nil, errors.New("fake transport: no more responses")
	}
	r := f.responses[0]
	f.responses = f.responses[1:]
	if r.err != nil {
		return nil, r.err
	}
	h := http.Header{}
	h.Set("X-Elastic-Product", "Elasticsearch")
	h.Set("Content-Type", "application/json")
	return &http.Response{
		StatusCode: r.status, Header: h, Request: req,
		Body: io.NopCloser(strings.NewReader(r.body)),
	}, nil
}

func newTestRunner(t *testing.T, cfg Config, responses ...fakeResponse) (*Client, *fakeTransport) {
	t.Helper()
	ft := &fakeTransport{responses: responses}
	cfg.Addresses, cfg.Transport = []string{"http://es.test:9200"}, ft
	if cfg.Backoff == nil {
		cfg.Backoff = func(int) time.Duration { return time.Millisecond }
	}
	c, err := New(cfg)
	require.NoError(t, err)
	return c, ft
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
		cfg       Config
		responses []fakeResponse
		requests  int
		check     func(t *testing.T, resp esquery.Response, err error)
	}{
		{
			name: "ok", responses: []fakeResponse{{200, okBody, nil}}, requests: 1,
			check: func(t *testing.T, resp esquery.Response, err error) {
				require.NoError(t, err)
				require.Equal(t, int64(7), resp.Took)
				require.Equal(t, 2, resp.Shards)
				require.Equal(t, int64(12), resp.TotalHits)
				require.JSONEq(t, `{"new_terms":{"buckets":[]}}`, string(resp.Aggregations))
			},
		},
		{
			name: "429 then ok", responses: []fakeResponse{{429, overloaded, nil}, {200, okBody, nil}}, requests: 2,
			check: func(t *testing.T, resp esquery.Response, err error) {
				require.NoError(t, err)
				require.Equal(t, int64(7), resp.Took)
			},
		},
		{
			name: "transport error then ok", responses: []fakeResponse{{err: errors.New("connection refused")}, {200, okBody, nil}}, requests: 2,
			check: func(t *testing.T, _ esquery.Response, err error) { require.NoError(t, err) },
		},
		{
			name: "5xx exhausted", cfg: Config{MaxRetries: 2},
			responses: []fakeResponse{{503, unavailable, nil}, {503, unavailable, nil}, {503, unavailable, nil}, {200, okBody, nil}},
			requests:  3,
			check: func(t *testing.T, _ esquery.Response, err error) {
				require.ErrorContains(t, err, "primary shard is not active")
				var se *Error
				require.ErrorAs(t, err, &se)
				require.Equal(t, 503, se.Status)
			},
		},
		{
			name: "shard failure in a 200", responses: []fakeResponse{{200, shardFailure, nil}}, requests: 1,
			check: func(t *testing.T, _ esquery.Response, err error) {
				var se *Error
				require.ErrorAs(t, err, &se)
				require.Equal(t, []ShardFailure{{Index: "logs-okta-1", Shard: 1, Type: "query_shard_exception", Reason: "No mapping found for [x]"}}, se.Shards)
				require.ErrorContains(t, err, "[index logs-okta-1 shard 1] query_shard_exception: No mapping found for [x]")
			},
		},
		{
			name: "timed out", responses: []fakeResponse{{200, timedOut, nil}}, requests: 1,
			check: func(t *testing.T, _ esquery.Response, err error) { require.ErrorIs(t, err, ErrTimedOut) },
		},
		{
			name: "all shards failed is not retried and names the shard", responses: []fakeResponse{{400, allShards, nil}}, requests: 1,
			check: func(t *testing.T, _ esquery.Response, err error) {
				require.ErrorIs(t, err, esquery.ErrTooManyClauses)
				require.NotErrorIs(t, err, esquery.ErrTooLarge)
				require.ErrorContains(t, err, "index logs-okta-1 shard 0")
			},
		},
		{
			name: "circuit breaker is too large, not retried", responses: []fakeResponse{{429, breaker, nil}}, requests: 1,
			check: func(t *testing.T, _ esquery.Response, err error) { require.ErrorIs(t, err, esquery.ErrTooLarge) },
		},
		{
			name: "too large body", cfg: Config{MaxResponseBytes: 64}, responses: []fakeResponse{{200, okBody, nil}}, requests: 1,
			check: func(t *testing.T, _ esquery.Response, err error) {
				require.ErrorIs(t, err, ErrResponseTooLarge)
				require.ErrorIs(t, err, esquery.ErrTooLarge)
			},
		},
		{
			name: "truncated body", responses: []fakeResponse{{200, okBody[:60], nil}}, requests: 1,
			check: func(t *testing.T, _ esquery.Response, err error) {
				require.ErrorContains(t, err, "decode search response")
			},
		},
		{
			name: "non-JSON body", responses: []fakeResponse{{200, "<html>proxy error</html>", nil}}, requests: 1,
			check: func(t *testing.T, _ esquery.Response, err error) {
				require.ErrorContains(t, err, "decode search response")
			},
		},
		{
			name: "JSON that is not a search response", responses: []fakeResponse{{200, `{"acknowledged":true}`, nil}}, requests: 1,
			check: func(t *testing.T, _ esquery.Response, err error) {
				require.ErrorContains(t, err, "not a search response")
			},
		},
		{
			name: "non-JSON error body", responses: []fakeResponse{{404, "no handler", nil}}, requests: 1,
			check: func(t *testing.T, _ esquery.Response, err error) {
				var se *Error
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
			require.Len(t, ft.requests, tc.requests)
		})
	}
}

func TestRunnerRequest(t *testing.T) {
	r, ft := newTestRunner(t, Config{}, fakeResponse{200, okBody, nil})
	_, err := r.Search(context.Background(), []string{"logs-okta*", "filebeat-*"}, []byte(`{"size":0}`), nil)
	require.NoError(t, err)
	req := ft.requests[0]
	require.Equal(t, "/logs-okta*,filebeat-*/_search", req.URL.Path)
	q := req.URL.Query()
	require.Equal(t, "true", q.Get("ignore_unavailable"))
	require.Equal(t, "true", q.Get("allow_no_indices"))
	require.Equal(t, "false", q.Get("allow_partial_search_results"))
	require.Equal(t, `{"size":0}`, ft.bodies[0])
}

func TestRunnerStopsRetryingOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, ft := newTestRunner(t, Config{Backoff: func(int) time.Duration { cancel(); return time.Hour }},
		fakeResponse{503, `{"error":{"type":"x","reason":"y"},"status":503}`, nil}, fakeResponse{200, okBody, nil})
	_, err := r.Search(ctx, []string{"i"}, []byte(`{}`), nil)
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, ft.requests, 1)
}

func TestRunnerLogsBodyHashNotBody(t *testing.T) {
	var buf strings.Builder
	r, _ := newTestRunner(t, Config{Logger: zerolog.New(&buf).Level(zerolog.DebugLevel)}, fakeResponse{200, okBody, nil})
	_, err := r.Search(context.Background(), []string{"i"}, []byte(`{"query":{"term":{"secret.field":"s3cr3t"}}}`), nil)
	require.NoError(t, err)
	require.Contains(t, buf.String(), `"query_hash":"`)
	require.NotContains(t, buf.String(), "s3cr3t")
}
