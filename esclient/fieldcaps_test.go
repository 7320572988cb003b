package esclient

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/kql"
)

// fieldCapsRoundTripper answers every request with one canned response and
// remembers the requests.
type fieldCapsRoundTripper struct {
	status   int
	body     string
	requests []*http.Request
}

func (f *fieldCapsRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	f.requests = append(f.requests, req)
	h := http.Header{}
	h.Set("X-Elastic-Product", "Elasticsearch")
	h.Set("Content-Type", "application/json")
	return &http.Response{StatusCode: f.status, Header: h, Body: io.NopCloser(strings.NewReader(f.body)), Request: req}, nil
}

func newFieldCapsClient(t *testing.T, rt *fieldCapsRoundTripper) *Client {
	t.Helper()
	c, err := New(Config{Addresses: []string{"http://es.test:9200"}, Transport: rt, MaxRetries: -1})
	require.NoError(t, err)
	return c
}

func TestFieldCaps(t *testing.T) {
	body, err := os.ReadFile("testdata/fieldcaps_okta.json")
	require.NoError(t, err)
	rt := &fieldCapsRoundTripper{status: 200, body: string(body)}
	c := newFieldCapsClient(t, rt)

	specs, err := FieldCaps(context.Background(), c, []string{"filebeat-*", "logs-okta*"},
		[]string{"user.name", "event.dataset", "port", "threat.*", "process.name*", "@timestamp", "labels.any"})
	require.NoError(t, err)
	require.Equal(t, []kql.FieldSpec{
		{Name: "@timestamp", Type: "date", ESTypes: []string{"date"}},
		{Name: "event.dataset", Type: "string", ESTypes: []string{"keyword"}},
		{Name: "labels.any", Type: "unknown", ESTypes: []string{"flattened"}},
		{Name: "port", Type: "conflict", ESTypes: []string{"long", "keyword"}},
		{Name: "process.name", Type: "string", ESTypes: []string{"keyword"}},
		{Name: "process.name.text", Type: "string", ESTypes: []string{"match_only_text"}, MultiParent: "process.name"},
		{Name: "threat.enrichments.matched.field", Type: "string", ESTypes: []string{"keyword"}, NestedPath: "threat.enrichments"},
		{Name: "user.name", Type: "string", ESTypes: []string{"keyword", "text"}},
	}, specs)

	require.Len(t, rt.requests, 1)
	req := rt.requests[0]
	require.Equal(t, "/filebeat-*,logs-okta*/_field_caps", req.URL.Path)
	q := req.URL.Query()
	require.Equal(t, "user.name,event.dataset,port,threat.*,process.name*,@timestamp,labels.any", q.Get("fields"))
	require.Equal(t, "true", q.Get("ignore_unavailable"))
	require.Equal(t, "true", q.Get("allow_no_indices"))
}

func TestFieldCapsNoFieldsAsksNothing(t *testing.T) {
	rt := &fieldCapsRoundTripper{status: 500}
	specs, err := FieldCaps(context.Background(), newFieldCapsClient(t, rt), []string{"x"}, nil)
	require.NoError(t, err)
	require.NotNil(t, specs)
	require.Empty(t, specs)
	require.Empty(t, rt.requests)
}

func TestFieldCapsErrorResponse(t *testing.T) {
	rt := &fieldCapsRoundTripper{status: 400, body: `{"error":{"root_cause":[],"type":"illegal_argument_exception","reason":"bad fields"},"status":400}`}
	_, err := FieldCaps(context.Background(), newFieldCapsClient(t, rt), []string{"x"}, []string{"a"})
	var fe *Error
	require.ErrorAs(t, err, &fe)
	require.Equal(t, &Error{Status: 400, Type: "illegal_argument_exception", Reason: "bad fields"}, fe)
	require.Contains(t, err.Error(), "field caps of x")

	rt = &fieldCapsRoundTripper{status: 502, body: `bad gateway`}
	_, err = FieldCaps(context.Background(), newFieldCapsClient(t, rt), []string{"x"}, []string{"a"})
	require.ErrorAs(t, err, &fe)
	require.Equal(t, 502, fe.Status)
	require.Equal(t, "bad gateway", fe.Reason)
}

func TestFieldCapsFeedsTypedKQL(t *testing.T) {
	body, err := os.ReadFile("testdata/fieldcaps_okta.json")
	require.NoError(t, err)
	c := newFieldCapsClient(t, &fieldCapsRoundTripper{status: 200, body: string(body)})
	specs, err := FieldCaps(context.Background(), c, []string{"logs-*"}, []string{"event.dataset"})
	require.NoError(t, err)
	n, err := kql.Parse(`event.dataset:okta.system and user.name:root`)
	require.NoError(t, err)
	dsl, err := kql.ToDSL(n, kql.DetectionEngine(specs))
	require.NoError(t, err)
	filter := dsl["bool"].(map[string]any)["filter"].([]any)
	require.Equal(t, map[string]any{"term": map[string]any{"event.dataset": map[string]any{"value": "okta.system"}}},
		filter[0].(map[string]any)["bool"].(map[string]any)["should"].([]any)[0])
	require.Equal(t, map[string]any{"match": map[string]any{"user.name": "root"}},
		filter[1].(map[string]any)["bool"].(map[string]any)["should"].([]any)[0])
}
