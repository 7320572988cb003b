package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/internal/estest"
)

// scripted is a fake Elasticsearch answering each request with the next
// reply, once each.
func scripted(replies ...estest.Reply) (*estest.Transport, *estest.Route) {
	tr := estest.NewTransport()
	return tr, tr.Script("", "/**", replies...)
}

func newFakeWriter(t *testing.T, tr *estest.Transport, cfg WriterConfig) (*Writer, *[]int) {
	t.Helper()
	// The client retries failed requests (3 times, without waiting); the
	// writer retries the items the bulk API rejected.
	c := tr.ClientWith(t, esclient.Config{})
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
		responses   []estest.Reply
		want        WriteResult
		wantFailed  []string // ids in the BulkError
		wantCalls   int
		wantBackoff []int
	}{
		{
			name:      "all created",
			responses: []estest.Reply{estest.BulkStatuses(201, 201, 201)},
			want:      WriteResult{Created: 3, CreatedIDs: []string{"a", "b", "c"}},
			wantCalls: 1,
		},
		{
			name:      "mixed created and duplicate",
			responses: []estest.Reply{estest.BulkStatuses(201, 409, 201)},
			want:      WriteResult{Created: 2, Duplicate: 1, CreatedIDs: []string{"a", "c"}},
			wantCalls: 1,
		},
		{
			name: "429 on the request, then success (the client retries)",
			responses: []estest.Reply{
				estest.JSON(429, `{"error":{"type":"es_rejected_execution_exception","reason":"queue full"},"status":429}`),
				estest.BulkStatuses(201, 201, 201),
			},
			want:      WriteResult{Created: 3, CreatedIDs: []string{"a", "b", "c"}},
			wantCalls: 2,
		},
		{
			name: "429 on one item, retried alone",
			responses: []estest.Reply{
				estest.BulkStatuses(201, 429, 409), estest.BulkStatuses(201),
			},
			want:        WriteResult{Created: 2, Duplicate: 1, CreatedIDs: []string{"a", "b"}},
			wantCalls:   2,
			wantBackoff: []int{1},
		},
		{
			name: "item 500 retried until the bound, then permanent",
			cfg:  WriterConfig{MaxRetries: 2},
			responses: []estest.Reply{
				estest.BulkStatuses(201, 500, 201), estest.BulkStatuses(500), estest.BulkStatuses(503),
			},
			want:        WriteResult{Created: 2, CreatedIDs: []string{"a", "c"}},
			wantFailed:  []string{"b"},
			wantCalls:   3,
			wantBackoff: []int{1, 2},
		},
		{
			name: "request 502 retried until the client's bound, not again by the writer",
			cfg:  WriterConfig{MaxRetries: 1},
			responses: []estest.Reply{
				estest.JSON(502, `bad gateway`), estest.JSON(502, `bad gateway`), estest.JSON(502, `bad gateway`), estest.JSON(502, `bad gateway`),
			},
			wantFailed: []string{"a", "b", "c"},
			wantCalls:  4,
		},
		{
			name:       "item 400 is permanent",
			responses:  []estest.Reply{estest.BulkStatuses(201, 400, 201)},
			want:       WriteResult{Created: 2, CreatedIDs: []string{"a", "c"}},
			wantFailed: []string{"b"},
			wantCalls:  1,
		},
		{
			name: "request 400 is permanent",
			responses: []estest.Reply{
				estest.JSON(400, `{"error":{"type":"illegal_argument_exception","reason":"bad"},"status":400}`),
			},
			wantFailed: []string{"a", "b", "c"},
			wantCalls:  1,
		},
		{
			name: "non-JSON body is retried",
			responses: []estest.Reply{
				estest.JSON(200, `<html>proxy says hi</html>`), estest.BulkStatuses(409, 201, 201),
			},
			want:        WriteResult{Created: 2, Duplicate: 1, CreatedIDs: []string{"b", "c"}},
			wantCalls:   2,
			wantBackoff: []int{1},
		},
		{
			name: "truncated body is retried; what the lost answer created comes back as 409",
			responses: []estest.Reply{
				estest.JSON(200, `{"took":1,"errors":false,"items":[{"create":{"_id":"a","status":201}},{"crea`),
				estest.BulkStatuses(409, 201, 201),
			},
			want:        WriteResult{Created: 2, Duplicate: 1, CreatedIDs: []string{"b", "c"}},
			wantCalls:   2,
			wantBackoff: []int{1},
		},
		{
			name: "item count mismatch is retried",
			responses: []estest.Reply{
				estest.JSON(200, `{"took":1,"errors":false,"items":[{"create":{"_id":"a","status":201}}]}`),
				estest.BulkStatuses(409, 201, 201),
			},
			want:        WriteResult{Created: 2, Duplicate: 1, CreatedIDs: []string{"b", "c"}},
			wantCalls:   2,
			wantBackoff: []int{1},
		},
		{
			name: "transport error is retried (by the client)",
			responses: []estest.Reply{
				estest.Fail(errors.New("connection refused")),
				estest.BulkStatuses(201, 201, 201),
			},
			want:      WriteResult{Created: 3, CreatedIDs: []string{"a", "b", "c"}},
			wantCalls: 2,
		},
		{
			name:      "bodies are split by size",
			cfg:       WriterConfig{MaxBodyBytes: 200},
			responses: []estest.Reply{estest.BulkStatuses(201), estest.BulkStatuses(201), estest.BulkStatuses(201)},
			want:      WriteResult{Created: 3, CreatedIDs: []string{"a", "b", "c"}},
			wantCalls: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, script := scripted(tt.responses...)
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
			require.Len(t, f.Requests(), tt.wantCalls)
			require.Equal(t, tt.wantBackoff, nilIfEmpty(*waits))
			require.Zero(t, script.Remaining(), "every scripted response used")
			for _, r := range f.Requests() {
				require.Equal(t, http.MethodPost, r.Method)
				require.Equal(t, "/esrule-alerts-default/_bulk", r.Path)
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
	f, _ := scripted(estest.BulkStatuses(201, 201))
	w, _ := newFakeWriter(t, f, WriterConfig{Alias: "my-alias", Refresh: "true"})
	_, err := w.Create(context.Background(), testAlerts("id-1", "id-2"))
	require.NoError(t, err)
	require.Len(t, f.Requests(), 1)
	require.Equal(t, "refresh=true", f.Requests()[0].Query.Encode())
	lines := strings.Split(strings.TrimSuffix(string(f.Requests()[0].Body), "\n"), "\n")
	require.Len(t, lines, 4)
	require.JSONEq(t, `{"create":{"_index":"my-alias","_id":"id-1"}}`, lines[0])
	require.JSONEq(t, `{"kibana.alert.uuid":"id-1","event.kind":"signal"}`, lines[1])
	require.JSONEq(t, `{"create":{"_index":"my-alias","_id":"id-2"}}`, lines[2])
}

func TestCreateNothing(t *testing.T) {
	f, _ := scripted()
	w, _ := newFakeWriter(t, f, WriterConfig{})
	got, err := w.Create(context.Background(), nil)
	require.NoError(t, err)
	require.Equal(t, WriteResult{}, got)
	require.Empty(t, f.Requests())
}

func TestCreateContextCancelled(t *testing.T) {
	f, _ := scripted(estest.JSON(503, `busy`))
	ctx, cancel := context.WithCancel(context.Background())
	c := f.ClientWith(t, esclient.Config{Backoff: func(int) time.Duration { cancel(); return time.Hour }})
	w := NewWriter(c, WriterConfig{Alias: "a"})
	_, err := w.Create(ctx, testAlerts("a"))
	require.ErrorIs(t, err, context.Canceled)
}

// scriptedSearch is scripted with a route that answers the refresh before a
// writer's first pre-check.
func scriptedSearch(replies ...estest.Reply) (*estest.Transport, *estest.Route) {
	tr, r := scripted(replies...)
	tr.On("POST", "/*/_refresh", estest.JSON(200, `{"_shards":{"total":1,"successful":1,"failed":0}}`))
	return tr, r
}

// searches are the recorded requests but refreshes.
func searches(tr *estest.Transport) []estest.Request {
	var out []estest.Request
	for _, r := range tr.Requests() {
		if !strings.HasSuffix(r.Path, "/_refresh") {
			out = append(out, r)
		}
	}
	return out
}

func TestExisting(t *testing.T) {
	hits := `{"timed_out":false,"_shards":{"total":1,"successful":1,"failed":0},"hits":{"hits":[
		{"_id":"a","_source":{"kibana.alert.rule.execution.uuid":"exec-1"}},
		{"_id":"b","_source":{"kibana":{"alert":{"rule":{"execution":{"uuid":"exec-2"}}}}}},
		{"_id":"c","_source":{}}]}}`
	t.Run("found", func(t *testing.T) {
		f, _ := scriptedSearch(estest.JSON(200, hits))
		w, _ := newFakeWriter(t, f, WriterConfig{Alias: "al"})
		got, err := w.Existing(context.Background(), []string{"a", "b", "c", "d"})
		require.NoError(t, err)
		require.Equal(t, map[string]string{"a": "exec-1", "b": "exec-2", "c": ""}, got)
		require.Equal(t, "/al/_search", searches(f)[0].Path)
		require.Contains(t, searches(f)[0].Query.Encode(), "ignore_unavailable=true")
		var body map[string]any
		require.NoError(t, json.Unmarshal(searches(f)[0].Body, &body))
		require.Equal(t, []any{"a", "b", "c", "d"}, body["query"].(map[string]any)["ids"].(map[string]any)["values"])
		require.EqualValues(t, 4, body["size"])
	})
	t.Run("missing alias", func(t *testing.T) {
		// ignore_unavailable and allow_no_indices: Elasticsearch answers an empty 200.
		f, _ := scriptedSearch(estest.JSON(200, `{"_shards":{"total":0,"failed":0},"hits":{"hits":[]}}`))
		w, _ := newFakeWriter(t, f, WriterConfig{})
		got, err := w.Existing(context.Background(), []string{"a"})
		require.NoError(t, err)
		require.Empty(t, got)
	})
	t.Run("404 fails closed", func(t *testing.T) {
		f, _ := scriptedSearch(estest.JSON(404, `{"error":{"type":"index_not_found_exception"},"status":404}`))
		w, _ := newFakeWriter(t, f, WriterConfig{})
		_, err := w.Existing(context.Background(), []string{"a"})
		require.ErrorContains(t, err, "status 404")
	})
	t.Run("200 without hits fails closed", func(t *testing.T) {
		f, _ := scriptedSearch(estest.JSON(200, `{}`))
		w, _ := newFakeWriter(t, f, WriterConfig{})
		_, err := w.Existing(context.Background(), []string{"a"})
		require.ErrorContains(t, err, "without hits")
	})
	t.Run("chunks of 10000", func(t *testing.T) {
		empty := `{"_shards":{"failed":0},"hits":{"hits":[]}}`
		f, _ := scriptedSearch(estest.JSON(200, empty), estest.JSON(200, empty))
		w, _ := newFakeWriter(t, f, WriterConfig{})
		ids := make([]string, 10001)
		for i := range ids {
			ids[i] = fmt.Sprint(i)
		}
		_, err := w.Existing(context.Background(), ids)
		require.NoError(t, err)
		require.Len(t, searches(f), 2)
	})
	t.Run("503 retried by the client, then shard failure retried by the writer, then ok", func(t *testing.T) {
		f, _ := scriptedSearch(
			estest.JSON(503, `busy`),
			estest.JSON(200, `{"_shards":{"failed":1},"hits":{"hits":[]}}`),
			estest.JSON(200, hits),
		)
		w, waits := newFakeWriter(t, f, WriterConfig{})
		got, err := w.Existing(context.Background(), []string{"a"})
		require.NoError(t, err)
		require.Len(t, got, 3)
		require.Equal(t, []int{1}, *waits)
	})
	t.Run("400 is an error", func(t *testing.T) {
		f, _ := scriptedSearch(estest.JSON(400, `{"error":"bad"}`))
		w, _ := newFakeWriter(t, f, WriterConfig{})
		_, err := w.Existing(context.Background(), []string{"a"})
		require.ErrorContains(t, err, "check existing alerts")
	})
}
