package esclient

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

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
	for index, want := range cases {
		c, ft := newTestRunner(t, Config{}, fakeResponse{200, okBody, nil})
		_, err := c.Search(context.Background(), []string{index}, []byte(`{"size":0}`), nil)
		require.NoError(t, err)
		req := ft.requests[0]
		require.Equal(t, want, req.URL.EscapedPath(), index)
		require.Equal(t, "POST", req.Method)
		require.Empty(t, req.URL.Fragment, index)
		require.Equal(t, "true", req.URL.Query().Get("ignore_unavailable"), index)
	}
}
