package alerts_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/esclient"
)

const nginx502 = `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx/1.25.3</center>
</body>
</html>
`

// cannedTransport answers every request with the same status and body and
// counts the requests.
type cannedTransport struct {
	status  int
	body    func() io.ReadCloser
	noProbe bool // leave out X-Elastic-Product
	calls   atomic.Int32
}

func (c *cannedTransport) RoundTrip(*http.Request) (*http.Response, error) {
	c.calls.Add(1)
	h := http.Header{"Content-Type": []string{"application/json"}}
	if !c.noProbe {
		h.Set("X-Elastic-Product", "Elasticsearch")
	}
	return &http.Response{StatusCode: c.status, Header: h, Body: c.body(), ContentLength: -1}, nil
}

func text(s string) func() io.ReadCloser {
	return func() io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
}

// cutReader returns its data, then fails as a connection closed mid-body.
type cutReader struct{ r io.Reader }

func (c *cutReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}
func (c *cutReader) Close() error { return nil }

type badCase struct {
	name      string
	transport *cannedTransport
	want      string
	attempts  int32
}

func badCases() []badCase {
	return []badCase{
		{"not JSON", &cannedTransport{status: 200, body: text("hello, world")}, "hello, world", 3},
		{"truncated JSON", &cannedTransport{status: 200, body: text(`{"took":3,"errors":false,"items":[{"create":{"_id":"a","sta`)}, "unexpected end of JSON input", 3},
		{"nginx 502 page", &cannedTransport{status: 502, body: text(nginx502)}, "502 Bad Gateway", 3},
		{"HTML 200 page without the product header", &cannedTransport{status: 200, body: text("<html>login</html>"), noProbe: true}, "not Elasticsearch", 1},
		{"huge non-JSON body", &cannedTransport{status: 200, body: text(strings.Repeat("<div>", 1<<20))}, "<div><div>", 3},
		{"connection cut mid-body", &cannedTransport{status: 200, body: func() io.ReadCloser {
			return &cutReader{strings.NewReader(`{"took":1,"items":[`)}
		}}, "unexpected EOF", 3},
		{"HTML 401 from a proxy", &cannedTransport{status: 401, body: text("<html>Unauthorized</html>")}, "401", 1},
	}
}

func newWriter(t *testing.T, tr http.RoundTripper) *alerts.Writer {
	t.Helper()
	c, err := esclient.New(esclient.Config{
		Addresses: []string{"http://es.test:9200"}, Transport: tr, MaxRetries: 2, Backoff: func(int) time.Duration { return 0 },
	})
	require.NoError(t, err)
	return alerts.NewWriter(c, alerts.WriterConfig{
		Alias: "esrule-alerts-default", MaxRetries: 2, Backoff: func(int) time.Duration { return 0 }, Logger: zerolog.Nop(),
	})
}

// TestCreateBadResponses: an unreadable answer to a bulk request never
// counts an alert as written, names every alert in the error and does not panic.
func TestCreateBadResponses(t *testing.T) {
	batch := []alerts.Alert{
		{ID: "a", Doc: map[string]any{"kibana.alert.uuid": "a"}},
		{ID: "b", Doc: map[string]any{"kibana.alert.uuid": "b"}},
	}
	for _, tt := range badCases() {
		t.Run(tt.name, func(t *testing.T) {
			w := newWriter(t, tt.transport)
			var (
				res alerts.WriteResult
				err error
			)
			require.NotPanics(t, func() { res, err = w.Create(context.Background(), batch) })
			require.Error(t, err)
			require.Equal(t, alerts.WriteResult{}, res, "nothing counted as written")
			var be *alerts.BulkError
			require.True(t, errors.As(err, &be), "%T %v", err, err)
			require.Len(t, be.Failed, 2)
			require.Contains(t, err.Error(), tt.want)
			require.Less(t, len(err.Error()), 1200, "the error stays readable")
			require.Equal(t, tt.attempts, tt.transport.calls.Load(), "attempts")
		})
	}
}

// TestExistingBadResponses: the ids pre-check fails closed on unreadable
// answers (an error, no partial map) and does not panic.
func TestExistingBadResponses(t *testing.T) {
	for _, tt := range badCases() {
		t.Run(tt.name, func(t *testing.T) {
			w := newWriter(t, tt.transport)
			var (
				got map[string]string
				err error
			)
			require.NotPanics(t, func() { got, err = w.Existing(context.Background(), []string{"a", "b"}) })
			require.Error(t, err)
			require.Nil(t, got)
			require.Contains(t, err.Error(), "check existing alerts in esrule-alerts-default")
			require.Less(t, len(err.Error()), 1200, "the error stays readable")
			require.Equal(t, tt.attempts, tt.transport.calls.Load(), "attempts")
		})
	}
}
