package esclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/esquery"
)

const nginx502 = `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx/1.25.3</center>
</body>
</html>
`

// cannedTransport answers every request with the same status, headers and
// body, and counts the requests.
type cannedTransport struct {
	status  int
	body    func() io.ReadCloser
	header  http.Header
	noProbe bool // leave out X-Elastic-Product
	calls   atomic.Int32
}

func (c *cannedTransport) RoundTrip(*http.Request) (*http.Response, error) {
	c.calls.Add(1)
	h := http.Header{"Content-Type": []string{"application/json"}}
	for k, v := range c.header {
		h[k] = v
	}
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

// TestRunnerBadResponses: whatever a cluster or a proxy in front of it
// answers, Search returns a clear, bounded error and never panics.
func TestRunnerBadResponses(t *testing.T) {
	huge := strings.Repeat("x", 4<<10)
	tests := []struct {
		name      string
		transport *cannedTransport
		want      string
		is        error
		attempts  int32
	}{
		{"not JSON", &cannedTransport{status: 200, body: text("hello, world")}, "decode search response (12 bytes)", nil, 1},
		{"truncated JSON", &cannedTransport{status: 200, body: text(`{"took":3,"timed_out":false,"_shards":{"total":1,"failed":0},"hits":{"hits":[`)},
			"decode search response", nil, 1},
		{"empty body", &cannedTransport{status: 200, body: text("")}, "decode search response (0 bytes)", nil, 1},
		{"JSON that is not a search response", &cannedTransport{status: 200, body: text(`{"acknowledged":true}`)},
			"not a search response", nil, 1},
		{"nginx 502 page", &cannedTransport{status: 502, body: text(nginx502), header: http.Header{"Content-Type": []string{"text/html"}}},
			"elasticsearch status 502", nil, 3},
		{"HTML 200 page without the product header", &cannedTransport{status: 200, body: text("<html>login</html>"), noProbe: true},
			"not Elasticsearch", nil, 1},
		{"huge body", &cannedTransport{status: 200, body: text(huge)}, "more than 1024 bytes", esclient.ErrResponseTooLarge, 1},
		{"huge announced body", &cannedTransport{status: 200, body: text(huge), header: http.Header{"Content-Length": []string{"4096"}}},
			"4096 bytes announced", esclient.ErrResponseTooLarge, 1},
		{"connection cut mid-body", &cannedTransport{status: 200, body: func() io.ReadCloser {
			return &cutReader{strings.NewReader(`{"took":1,"_shards":{"to`)}
		}}, "read response", nil, 3},
		{"HTML 401 from a proxy", &cannedTransport{status: 401, body: text("<html>Unauthorized</html>")}, "requires authentication", nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := esclient.New(esclient.Config{
				Addresses: []string{"http://es.test:9200"}, Transport: tt.transport,
				MaxResponseBytes: 1 << 10, MaxRetries: 2, Backoff: func(int) time.Duration { return 0 },
			})
			require.NoError(t, err)
			var resp esquery.Response
			require.NotPanics(t, func() {
				resp, err = r.Search(context.Background(), []string{"logs-*"}, []byte(`{"size":0}`), nil)
			})
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			require.Less(t, len(err.Error()), 1200, "the error stays readable: %s", err)
			if tt.is != nil {
				require.True(t, errors.Is(err, tt.is), "%v", err)
			}
			require.Equal(t, esquery.Response{}, resp)
			require.Equal(t, tt.attempts, tt.transport.calls.Load(), "attempts")
		})
	}
}

// TestRunnerHugeErrorBodyIsShortened: a large error page does not end up
// whole in the error message.
func TestRunnerHugeErrorBodyIsShortened(t *testing.T) {
	var page bytes.Buffer
	for i := range 200 {
		fmt.Fprintf(&page, "<p>line %d of a very long proxy error page</p>\n", i)
	}
	tr := &cannedTransport{status: 400, body: text(page.String())}
	c, err := esclient.New(esclient.Config{Addresses: []string{"http://es.test:9200"}, Transport: tr})
	require.NoError(t, err)
	_, err = c.Search(context.Background(), []string{"x"}, []byte(`{}`), nil)
	require.ErrorContains(t, err, "elasticsearch status 400")
	require.Less(t, len(err.Error()), 1200)
}
