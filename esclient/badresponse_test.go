package esclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/esquery"
	"github.com/esrule/esrule/internal/estest"
)

// TestRunnerBadResponses: whatever a cluster or a proxy in front of it
// answers, Search returns a clear, bounded error and never panics.
func TestRunnerBadResponses(t *testing.T) {
	huge := strings.Repeat("x", 4<<10)
	tests := []struct {
		name     string
		reply    estest.Reply
		want     string
		is       error
		attempts int
	}{
		{"not JSON", estest.JSON(200, "hello, world"), "decode search response (12 bytes)", nil, 1},
		{"truncated JSON", estest.JSON(200, `{"took":3,"timed_out":false,"_shards":{"total":1,"failed":0},"hits":{"hits":[`),
			"decode search response", nil, 1},
		{"empty body", estest.JSON(200, ""), "decode search response (0 bytes)", nil, 1},
		{"JSON that is not a search response", estest.JSON(200, `{"acknowledged":true}`), "not a search response", nil, 1},
		{"nginx 502 page", estest.Reply{Status: 502, Body: []byte(estest.NginxBadGateway), Header: http.Header{"Content-Type": []string{"text/html"}}},
			"elasticsearch status 502", nil, 3},
		{"HTML 200 page without the product header", estest.Reply{Body: []byte("<html>login</html>"), Impostor: true},
			"not Elasticsearch", nil, 1},
		{"huge body", estest.JSON(200, huge), "more than 1024 bytes", esclient.ErrResponseTooLarge, 1},
		{"huge announced body", estest.Reply{Body: []byte(huge), Header: http.Header{"Content-Length": []string{"4096"}}},
			"4096 bytes announced", esclient.ErrResponseTooLarge, 1},
		{"connection cut mid-body", estest.Reply{Body: []byte(`{"took":1,"_shards":{"total":1}}`), CutAfter: 24}, "read response", nil, 3},
		{"HTML 401 from a proxy", estest.JSON(401, "<html>Unauthorized</html>"), "requires authentication", nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := estest.NewTransport()
			route := tr.On("", "/**", tt.reply)
			r := tr.ClientWith(t, esclient.Config{MaxResponseBytes: 1 << 10, MaxRetries: 2})
			var (
				resp esquery.Response
				err  error
			)
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
			require.Equal(t, tt.attempts, route.Calls(), "attempts")
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
	tr := estest.NewTransport()
	tr.On("", "/**", estest.JSON(400, page.String()))
	_, err := tr.Client(t).Search(context.Background(), []string{"x"}, []byte(`{}`), nil)
	require.ErrorContains(t, err, "elasticsearch status 400")
	require.Less(t, len(err.Error()), 1200)
}
