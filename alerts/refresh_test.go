package alerts_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/alerts"
)

// recordingES answers bulk creates with 201, searches with no hits and
// refreshes with success, and records each request as "METHOD path?refresh".
type recordingES struct {
	mu       sync.Mutex
	requests []string
}

func (r *recordingES) Perform(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.requests = append(r.requests, req.Method+" "+req.URL.Path+"?"+req.URL.Query().Get("refresh"))
	r.mu.Unlock()
	body := `{"took":1,"timed_out":false,"_shards":{"total":1,"successful":1,"failed":0},"hits":{"hits":[]}}`
	switch {
	case strings.HasSuffix(req.URL.Path, "/_bulk"):
		b, _ := io.ReadAll(req.Body)
		n := strings.Count(string(b), "\n") / 2
		body = `{"took":1,"errors":false,"items":[` + strings.TrimSuffix(strings.Repeat(`{"create":{"status":201}},`, n), ",") + `]}`
	case strings.HasSuffix(req.URL.Path, "/_refresh"):
		body = `{"_shards":{"total":1,"successful":1,"failed":0}}`
	}
	h := http.Header{}
	h.Set("X-Elastic-Product", "Elasticsearch")
	h.Set("Content-Type", "application/json")
	return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(strings.NewReader(body))}, nil
}

func (r *recordingES) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.requests
	r.requests = nil
	return out
}

func TestWriterRefreshesOnlyBeforeAPreCheckThatFollowsAWrite(t *testing.T) {
	ctx := context.Background()
	es := &recordingES{}
	w := alerts.NewWriter(es, alerts.WriterConfig{Alias: "a", Logger: zerolog.Nop()})

	_, err := w.Existing(ctx, []string{"x"})
	require.NoError(t, err)
	require.Equal(t, []string{"POST /a/_refresh?", "POST /a/_search?"}, es.take(),
		"the first pre-check refreshes: another process may have written")

	_, err = w.Existing(ctx, []string{"x"})
	require.NoError(t, err)
	require.Equal(t, []string{"POST /a/_search?"}, es.take(), "nothing written since: no refresh")

	_, err = w.Create(ctx, []alerts.Alert{{ID: "x", Doc: map[string]any{"a": 1}}})
	require.NoError(t, err)
	require.Equal(t, []string{"POST /a/_bulk?"}, es.take(), "the bulk does not wait for a refresh")

	_, err = w.Existing(ctx, []string{"x"})
	require.NoError(t, err)
	require.Equal(t, []string{"POST /a/_refresh?", "POST /a/_search?"}, es.take(), "the pre-check after a write refreshes first")

	_, err = w.Existing(ctx, []string{"x"})
	require.NoError(t, err)
	require.Equal(t, []string{"POST /a/_search?"}, es.take(), "once")
}

func TestWriterWithRefreshNeverRefreshesBeforeAPreCheck(t *testing.T) {
	ctx := context.Background()
	es := &recordingES{}
	w := alerts.NewWriter(es, alerts.WriterConfig{Alias: "a", Refresh: "wait_for", Logger: zerolog.Nop()})
	_, err := w.Existing(ctx, []string{"x"})
	require.NoError(t, err)
	require.Equal(t, []string{"POST /a/_refresh?", "POST /a/_search?"}, es.take(), "the first pre-check refreshes")
	_, err = w.Create(ctx, []alerts.Alert{{ID: "x", Doc: map[string]any{"a": 1}}})
	require.NoError(t, err)
	_, err = w.Existing(ctx, []string{"x"})
	require.NoError(t, err)
	require.Equal(t, []string{"POST /a/_bulk?wait_for", "POST /a/_search?"}, es.take())
}
