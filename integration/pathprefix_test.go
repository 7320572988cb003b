//go:build integration

package integration

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esclient"
)

// TestIntegrationPathPrefixKeepsDateMath searches a date-math index pattern
// through a proxy that serves Elasticsearch under a path prefix: the pattern
// must reach Elasticsearch as one escaped path segment.
func TestIntegrationPathPrefixKeepsDateMath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	name := uniqueName(t, "esrule-it-prefix")
	pattern := "<" + name + "-{now/d}>"
	es := newClient(t)
	res, err := es.Index(url.PathEscape(pattern), strings.NewReader(`{"@timestamp":"2026-12-04T00:00:00Z","user":{"name":"u1"}}`),
		es.Index.WithRefresh("true"), es.Index.WithContext(ctx))
	require.NoError(t, err)
	require.Less(t, res.StatusCode, 300, res.String())
	res.Body.Close()

	target, err := url.Parse(esURL)
	require.NoError(t, err)
	var mu sync.Mutex
	var seen []string
	proxy := httputil.NewSingleHostReverseProxy(target)
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.EscapedPath())
		mu.Unlock()
		const prefix = "/es%20gw"
		escaped := r.URL.EscapedPath()
		if !strings.HasPrefix(escaped, prefix+"/") {
			http.Error(w, "not under the prefix", http.StatusNotFound)
			return
		}
		rest, err := url.PathUnescape(strings.TrimPrefix(escaped, prefix))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.URL.Path, r.URL.RawPath = rest, strings.TrimPrefix(escaped, prefix)
		proxy.ServeHTTP(w, r)
	}))
	defer gateway.Close()

	c, err := esclient.New(esclient.Config{Addresses: []string{gateway.URL + "/es%20gw/"}})
	require.NoError(t, err)
	resp, err := c.Search(ctx, []string{pattern}, []byte(`{"size":0,"track_total_hits":true}`), nil)
	require.NoError(t, err)
	require.EqualValues(t, 1, resp.TotalHits, "the date-math pattern found the document")
	mu.Lock()
	defer mu.Unlock()
	require.Contains(t, seen, "/es%20gw/"+url.PathEscape(pattern)+"/_search")
}
