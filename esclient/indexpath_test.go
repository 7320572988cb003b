package esclient

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// pathRecorder answers every request with an empty search response and
// keeps the requests as sent.
type pathRecorder struct{ requests []*http.Request }

func (p *pathRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	p.requests = append(p.requests, req)
	h := http.Header{}
	h.Set("X-Elastic-Product", "Elasticsearch")
	body := `{"took":1,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"total":{"value":0,"relation":"eq"},"hits":[]}}`
	return &http.Response{StatusCode: 200, Header: h, Request: req, Body: io.NopCloser(strings.NewReader(body))}, nil
}

// TestSearchEscapesIndexPatterns sends hostile index patterns (which rule
// validation refuses; this is the second line) as one path segment each.
func TestSearchEscapesIndexPatterns(t *testing.T) {
	cases := map[string]string{
		"secret-hr/_cache/clear#": "/secret-hr%2F_cache%2Fclear%23/_search",
		"a?b=c":                   "/a%3Fb=c/_search",
		"<logs-{now/d}>":          "/%3Clogs-%7Bnow%2Fd%7D%3E/_search",
		"../../_security/user/x":  "/..%2F..%2F_security%2Fuser%2Fx/_search",
		"logs-*,-logs-debug*":     "/logs-%2A%2C-logs-debug%2A/_search",
	}
	// A URL path prefix (a proxy) goes in front, escaped as in the URL.
	bases := map[string]string{
		"http://es.test:9200":             "",
		"http://es.test:9200/proxy/es":    "/proxy/es",
		"http://es.test:9200/a%20b%2Fc/":  "/a%20b%2Fc/",
		"http://es.test:9200/%3Cgw%3E/es": "/%3Cgw%3E/es",
	}
	for base, prefix := range bases {
		for index, want := range cases {
			rec := &pathRecorder{}
			c, err := New(Config{Addresses: []string{base}, Transport: rec, MaxRetries: -1})
			require.NoError(t, err)
			_, err = c.Search(context.Background(), []string{index}, []byte(`{"size":0}`), nil)
			require.NoError(t, err)
			req := rec.requests[0]
			require.Equal(t, strings.TrimSuffix(prefix, "/")+want, req.URL.EscapedPath(), "base %s, index %q", base, index)
			require.Equal(t, "POST", req.Method)
			require.Empty(t, req.URL.Fragment, index)
			require.Equal(t, "true", req.URL.Query().Get("ignore_unavailable"), index)
		}
	}
}
