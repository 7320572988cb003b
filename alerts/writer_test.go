package alerts

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esclient"
)

// fakeES answers requests from a script of responders, one per request.
type fakeES struct {
	mu        sync.Mutex
	responses []func(req *http.Request, body []byte) (*http.Response, error)
	requests  []recorded
}

type recorded struct {
	method, path, query string
	body                []byte
}

func (f *fakeES) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, recorded{req.Method, req.URL.Path, req.URL.RawQuery, body})
	if len(f.responses) == 0 {
		return nil, errors.New("fakeES: unexpected request " + req.URL.Path)
	}
	next := f.responses[0]
	f.responses = f.responses[1:]
	return next(req, body)
}

func esResponse(status int, body string) func(*http.Request, []byte) (*http.Response, error) {
	return func(*http.Request, []byte) (*http.Response, error) {
		h := http.Header{}
		h.Set("X-Elastic-Product", "Elasticsearch")
		h.Set("Content-Type", "application/json")
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}, nil
	}
}

// bulkAnswer replies to a _bulk request with one status per item, in order.
func bulkAnswer(statuses ...int) func(*http.Request, []byte) (*http.Response, error) {
	return func(req *http.Request, body []byte) (*http.Response, error) {
		ids := bulkIDs(body)
		if len(ids) != len(statuses) {
			return nil, fmt.Errorf("fakeES: %d items, %d statuses", len(ids), len(statuses))
		}
		var items []string
		for i, id := range ids {
			item := fmt.Sprintf(`{"create":{"_index":"a","_id":%q,"status":%d`, id, statuses[i])
			switch {
			case statuses[i] == 409:
				item += `,"error":{"type":"version_conflict_engine_exception","reason":"document already exists"}`
			case statuses[i] >= 300:
				item += fmt.Sprintf(`,"error":{"type":"err_%d","reason":"status %d"}`, statuses[i], statuses[i])
			}
			items = append(items, item+"}}")
		}
		return esResponse(200, `{"took":1,"errors":true,"items":[`+strings.Join(items, ",")+`]}`)(req, body)
	}
}

func bulkIDs(body []byte) []string {
	var ids []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for i := 0; sc.Scan(); i++ {
		if i%2 == 0 {
			var action struct {
				Create struct {
					ID string `json:"_id"`
				} `json:"create"`
			}
			_ = json.Unmarshal(sc.Bytes(), &action)
			ids = append(ids, action.Create.ID)
		}
	}
	return ids
}

func newFakeWriter(t *testing.T, f *fakeES, cfg WriterConfig) (*Writer, *[]int) {
	t.Helper()
	// The client retries failed requests (3 times, without waiting); the
	// writer retries the items the bulk API rejected.
	c, err := esclient.New(esclient.Config{
		Addresses: []string{"http://es.invalid:9200"}, Transport: f, Backoff: func(int) time.Duration { return 0 },
	})
	require.NoError(t, err)
	var waits []int
	if cfg.Alias == "" {
		cfg.Alias = "esrule-alerts-default"
	}
	cfg.Backoff = func(attempt int) time.Duration { waits = append(waits, attempt); return 0 }
	cfg.Logger = zerolog.Nop()
	return NewWriter(c, cfg), &waits
}

func testAlerts(ids ...string) []Alert {
	out := make([]Alert, len(ids))
	for i, id := range ids {
		out[i] = Alert{ID: id, Doc: map[string]any{"kibana.alert.uuid": id, "event.kind": "signal"}}
	}
	return out
}

func TestCreate(t *testing.T) {
	tests := []struct {
		name        string
		cfg         WriterConfig
		responses   []func(*http.Request, []byte) (*http.Response, error)
		want        WriteResult
		wantFailed  []string // ids in the BulkError
		wantCalls   int
		wantBackoff []int
	}{
		{
			name:      "all created",
			responses: []func(*http.Request, []byte) (*http.Response, error){bulkAnswer(201, 201, 201)},
			want:      WriteResult{Created: 3, CreatedIDs: []string{"a", "b", "c"}},
			wantCalls: 1,
		},
		{
			name:      "mixed created and duplicate",
			responses: []func(*http.Request, []byte) (*http.Response, error){bulkAnswer(201, 409, 201)},
			want:      WriteResult{Created: 2, Duplicate: 1, CreatedIDs: []string{"a", "c"}},
			wantCalls: 1,
		},
		{
			name: "429 on the request, then success (the client retries)",
			responses: []func(*http.Request, []byte) (*http.Response, error){
				esResponse(429, `{"error":{"type":"es_rejected_execution_exception","reason":"queue full"},"status":429}`),
				bulkAnswer(201, 201, 201),
			},
			want:      WriteResult{Created: 3, CreatedIDs: []string{"a", "b", "c"}},
			wantCalls: 2,
		},
		{
			name: "429 on one item, retried alone",
			responses: []func(*http.Request, []byte) (*http.Response, error){
				bulkAnswer(201, 429, 409), bulkAnswer(201),
			},
			want:        WriteResult{Created: 2, Duplicate: 1, CreatedIDs: []string{"a", "b"}},
			wantCalls:   2,
			wantBackoff: []int{1},
		},
		{
			name: "item 500 retried until the bound, then permanent",
			cfg:  WriterConfig{MaxRetries: 2},
			responses: []func(*http.Request, []byte) (*http.Response, error){
				bulkAnswer(201, 500, 201), bulkAnswer(500), bulkAnswer(503),
			},
			want:        WriteResult{Created: 2, CreatedIDs: []string{"a", "c"}},
			wantFailed:  []string{"b"},
			wantCalls:   3,
			wantBackoff: []int{1, 2},
		},
		{
			name: "request 502 retried until the client's bound, not again by the writer",
			cfg:  WriterConfig{MaxRetries: 1},
			responses: []func(*http.Request, []byte) (*http.Response, error){
				esResponse(502, `bad gateway`), esResponse(502, `bad gateway`), esResponse(502, `bad gateway`), esResponse(502, `bad gateway`),
			},
			wantFailed: []string{"a", "b", "c"},
			wantCalls:  4,
		},
		{
			name:       "item 400 is permanent",
			responses:  []func(*http.Request, []byte) (*http.Response, error){bulkAnswer(201, 400, 201)},
			want:       WriteResult{Created: 2, CreatedIDs: []string{"a", "c"}},
			wantFailed: []string{"b"},
			wantCalls:  1,
		},
		{
			name: "request 400 is permanent",
			responses: []func(*http.Request, []byte) (*http.Response, error){
				esResponse(400, `{"error":{"type":"illegal_argument_exception","reason":"bad"},"status":400}`),
			},
			wantFailed: []string{"a", "b", "c"},
			wantCalls:  1,
		},
		{
			name: "non-JSON body is retried",
			responses: []func(*http.Request, []byte) (*http.Response, error){
				esResponse(200, `<html>proxy says hi</html>`), bulkAnswer(409, 201, 201),
			},
			want:        WriteResult{Created: 2, Duplicate: 1, CreatedIDs: []string{"b", "c"}},
			wantCalls:   2,
			wantBackoff: []int{1},
		},
		{
			name: "truncated body is retried; what the lost answer created comes back as 409",
			responses: []func(*http.Request, []byte) (*http.Response, error){
				esResponse(200, `{"took":1,"errors":false,"items":[{"create":{"_id":"a","status":201}},{"crea`),
				bulkAnswer(409, 201, 201),
			},
			want:        WriteResult{Created: 2, Duplicate: 1, CreatedIDs: []string{"b", "c"}},
			wantCalls:   2,
			wantBackoff: []int{1},
		},
		{
			name: "item count mismatch is retried",
			responses: []func(*http.Request, []byte) (*http.Response, error){
				esResponse(200, `{"took":1,"errors":false,"items":[{"create":{"_id":"a","status":201}}]}`),
				bulkAnswer(409, 201, 201),
			},
			want:        WriteResult{Created: 2, Duplicate: 1, CreatedIDs: []string{"b", "c"}},
			wantCalls:   2,
			wantBackoff: []int{1},
		},
		{
			name: "transport error is retried (by the client)",
			responses: []func(*http.Request, []byte) (*http.Response, error){
				func(*http.Request, []byte) (*http.Response, error) { return nil, errors.New("connection refused") },
				bulkAnswer(201, 201, 201),
			},
			want:      WriteResult{Created: 3, CreatedIDs: []string{"a", "b", "c"}},
			wantCalls: 2,
		},
		{
			name:      "bodies are split by size",
			cfg:       WriterConfig{MaxBodyBytes: 200},
			responses: []func(*http.Request, []byte) (*http.Response, error){bulkAnswer(201), bulkAnswer(201), bulkAnswer(201)},
			want:      WriteResult{Created: 3, CreatedIDs: []string{"a", "b", "c"}},
			wantCalls: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeES{responses: tt.responses}
			w, waits := newFakeWriter(t, f, tt.cfg)
			got, err := w.Create(context.Background(), testAlerts("a", "b", "c"))
			if len(tt.wantFailed) == 0 {
				require.NoError(t, err)
			} else {
				var be *BulkError
				require.ErrorAs(t, err, &be)
				var ids []string
				for _, it := range be.Failed {
					ids = append(ids, it.ID)
					require.NotEmpty(t, it.Reason)
				}
				require.ElementsMatch(t, tt.wantFailed, ids)
				require.Equal(t, 3, be.Total)
				require.Contains(t, err.Error(), "not written")
			}
			require.Equal(t, tt.want, got)
			require.Len(t, f.requests, tt.wantCalls)
			require.Equal(t, tt.wantBackoff, nilIfEmpty(*waits))
			require.Empty(t, f.responses, "every scripted response used")
			for _, r := range f.requests {
				require.Equal(t, http.MethodPost, r.method)
				require.Equal(t, "/esrule-alerts-default/_bulk", r.path)
			}
		})
	}
}

func nilIfEmpty(s []int) []int {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestCreateRequestShape(t *testing.T) {
	f := &fakeES{responses: []func(*http.Request, []byte) (*http.Response, error){bulkAnswer(201, 201)}}
	w, _ := newFakeWriter(t, f, WriterConfig{Alias: "my-alias", Refresh: "true"})
	_, err := w.Create(context.Background(), testAlerts("id-1", "id-2"))
	require.NoError(t, err)
	require.Len(t, f.requests, 1)
	require.Equal(t, "refresh=true", f.requests[0].query)
	lines := strings.Split(strings.TrimSuffix(string(f.requests[0].body), "\n"), "\n")
	require.Len(t, lines, 4)
	require.JSONEq(t, `{"create":{"_index":"my-alias","_id":"id-1"}}`, lines[0])
	require.JSONEq(t, `{"kibana.alert.uuid":"id-1","event.kind":"signal"}`, lines[1])
	require.JSONEq(t, `{"create":{"_index":"my-alias","_id":"id-2"}}`, lines[2])
}

func TestCreateNothing(t *testing.T) {
	f := &fakeES{}
	w, _ := newFakeWriter(t, f, WriterConfig{})
	got, err := w.Create(context.Background(), nil)
	require.NoError(t, err)
	require.Equal(t, WriteResult{}, got)
	require.Empty(t, f.requests)
}

func TestCreateContextCancelled(t *testing.T) {
	f := &fakeES{responses: []func(*http.Request, []byte) (*http.Response, error){esResponse(503, `busy`)}}
	ctx, cancel := context.WithCancel(context.Background())
	c, err := esclient.New(esclient.Config{Addresses: []string{"http://es.invalid:9200"}, Transport: f,
		Backoff: func(int) time.Duration { cancel(); return time.Hour }})
	require.NoError(t, err)
	w := NewWriter(c, WriterConfig{Alias: "a"})
	_, err = w.Create(ctx, testAlerts("a"))
	require.ErrorIs(t, err, context.Canceled)
}

func TestExisting(t *testing.T) {
	hits := `{"timed_out":false,"_shards":{"total":1,"successful":1,"failed":0},"hits":{"hits":[
		{"_id":"a","_source":{"kibana.alert.rule.execution.uuid":"exec-1"}},
		{"_id":"b","_source":{"kibana":{"alert":{"rule":{"execution":{"uuid":"exec-2"}}}}}},
		{"_id":"c","_source":{}}]}}`
	t.Run("found", func(t *testing.T) {
		f := &fakeES{responses: []func(*http.Request, []byte) (*http.Response, error){esResponse(200, hits)}}
		w, _ := newFakeWriter(t, f, WriterConfig{Alias: "al"})
		got, err := w.Existing(context.Background(), []string{"a", "b", "c", "d"})
		require.NoError(t, err)
		require.Equal(t, map[string]string{"a": "exec-1", "b": "exec-2", "c": ""}, got)
		require.Equal(t, "/al/_search", f.requests[0].path)
		require.Contains(t, f.requests[0].query, "ignore_unavailable=true")
		var body map[string]any
		require.NoError(t, json.Unmarshal(f.requests[0].body, &body))
		require.Equal(t, []any{"a", "b", "c", "d"}, body["query"].(map[string]any)["ids"].(map[string]any)["values"])
		require.EqualValues(t, 4, body["size"])
	})
	t.Run("missing alias", func(t *testing.T) {
		// ignore_unavailable and allow_no_indices: Elasticsearch answers an empty 200.
		f := &fakeES{responses: []func(*http.Request, []byte) (*http.Response, error){
			esResponse(200, `{"_shards":{"total":0,"failed":0},"hits":{"hits":[]}}`)}}
		w, _ := newFakeWriter(t, f, WriterConfig{})
		got, err := w.Existing(context.Background(), []string{"a"})
		require.NoError(t, err)
		require.Empty(t, got)
	})
	t.Run("404 fails closed", func(t *testing.T) {
		f := &fakeES{responses: []func(*http.Request, []byte) (*http.Response, error){
			esResponse(404, `{"error":{"type":"index_not_found_exception"},"status":404}`)}}
		w, _ := newFakeWriter(t, f, WriterConfig{})
		_, err := w.Existing(context.Background(), []string{"a"})
		require.ErrorContains(t, err, "status 404")
	})
	t.Run("200 without hits fails closed", func(t *testing.T) {
		f := &fakeES{responses: []func(*http.Request, []byte) (*http.Response, error){esResponse(200, `{}`)}}
		w, _ := newFakeWriter(t, f, WriterConfig{})
		_, err := w.Existing(context.Background(), []string{"a"})
		require.ErrorContains(t, err, "without hits")
	})
	t.Run("chunks of 10000", func(t *testing.T) {
		empty := `{"_shards":{"failed":0},"hits":{"hits":[]}}`
		f := &fakeES{responses: []func(*http.Request, []byte) (*http.Response, error){esResponse(200, empty), esResponse(200, empty)}}
		w, _ := newFakeWriter(t, f, WriterConfig{})
		ids := make([]string, 10001)
		for i := range ids {
			ids[i] = fmt.Sprint(i)
		}
		_, err := w.Existing(context.Background(), ids)
		require.NoError(t, err)
		require.Len(t, f.requests, 2)
	})
	t.Run("503 retried by the client, then shard failure retried by the writer, then ok", func(t *testing.T) {
		f := &fakeES{responses: []func(*http.Request, []byte) (*http.Response, error){
			esResponse(503, `busy`),
			esResponse(200, `{"_shards":{"failed":1},"hits":{"hits":[]}}`),
			esResponse(200, hits),
		}}
		w, waits := newFakeWriter(t, f, WriterConfig{})
		got, err := w.Existing(context.Background(), []string{"a"})
		require.NoError(t, err)
		require.Len(t, got, 3)
		require.Equal(t, []int{1}, *waits)
	})
	t.Run("400 is an error", func(t *testing.T) {
		f := &fakeES{responses: []func(*http.Request, []byte) (*http.Response, error){esResponse(400, `{"error":"bad"}`)}}
		w, _ := newFakeWriter(t, f, WriterConfig{})
		_, err := w.Existing(context.Background(), []string{"a"})
		require.ErrorContains(t, err, "check existing alerts")
	})
}
