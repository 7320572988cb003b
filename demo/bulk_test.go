package demo

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// answerBulk is a transport that answers every bulk request with status and
// body.
type answerBulk struct {
	status int
	body   string
}

func (a answerBulk) Perform(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
	}
	h := http.Header{}
	h.Set("X-Elastic-Product", "Elasticsearch")
	return &http.Response{StatusCode: a.status, Header: h, Body: io.NopCloser(strings.NewReader(a.body)), Request: req}, nil
}

func sendAll(t *testing.T, tr answerBulk, ids ...string) map[string]bulkOutcome {
	t.Helper()
	var mu sync.Mutex
	got := map[string]bulkOutcome{}
	s := newBulkSender(context.Background(), tr, 2, 1<<20, func(d Doc, o bulkOutcome) {
		mu.Lock()
		defer mu.Unlock()
		got[d.ID] = o
	})
	for _, id := range ids {
		require.NoError(t, s.add(context.Background(), Doc{Index: "i", ID: id, Body: []byte(`{"a":1}`)}))
	}
	s.close(context.Background())
	require.EqualValues(t, 1, s.reqs)
	return got
}

func TestBulkSenderFailsEveryItemOfAFailedRequest(t *testing.T) {
	got := sendAll(t, answerBulk{status: 413, body: `{"error":"too large"}`}, "a", "b")
	require.Len(t, got, 2)
	for _, o := range got {
		require.ErrorContains(t, o.err, "413")
	}
}

func TestBulkSenderFailsItemsMissingFromTheAnswer(t *testing.T) {
	got := sendAll(t, answerBulk{status: 200, body: `{"errors":false,"items":[{"create":{"status":201}}]}`}, "a", "b")
	require.Equal(t, 201, got["a"].status)
	require.NoError(t, got["a"].err)
	require.ErrorContains(t, got["b"].err, "1 items for 2 documents")
}

func TestBulkSenderReadsItemErrors(t *testing.T) {
	got := sendAll(t, answerBulk{status: 200, body: `{"errors":true,"items":[{"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"bad"}}}]}`}, "a")
	require.Equal(t, bulkOutcome{status: 400, reason: "mapper_parsing_exception: bad"}, got["a"])
}
