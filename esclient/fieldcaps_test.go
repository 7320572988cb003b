package esclient_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/internal/estest"
	"github.com/esrule/esrule/kql"
)

// fieldCapsES is a fake answering every request with reply.
func fieldCapsES(t *testing.T, reply estest.Reply) (*esclient.Client, *estest.Transport) {
	t.Helper()
	tr := estest.NewTransport()
	tr.On("", "/**", reply)
	return tr.Client(t), tr
}

func TestFieldCaps(t *testing.T) {
	c, rt := fieldCapsES(t, estest.File(t, 200, "testdata/fieldcaps_okta.json"))
	specs, err := esclient.FieldCaps(context.Background(), c, []string{"filebeat-*", "logs-okta*"},
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

	require.Len(t, rt.Requests(), 1)
	req := rt.Requests()[0]
	require.Equal(t, "/filebeat-*,logs-okta*/_field_caps", req.Path)
	q := req.Query
	require.Equal(t, "user.name,event.dataset,port,threat.*,process.name*,@timestamp,labels.any", q.Get("fields"))
	require.Equal(t, "true", q.Get("ignore_unavailable"))
	require.Equal(t, "true", q.Get("allow_no_indices"))
}

func TestFieldCapsNoFieldsAsksNothing(t *testing.T) {
	c, rt := fieldCapsES(t, estest.Status(500))
	specs, err := esclient.FieldCaps(context.Background(), c, []string{"x"}, nil)
	require.NoError(t, err)
	require.NotNil(t, specs)
	require.Empty(t, specs)
	require.Empty(t, rt.Requests())
}

func TestFieldCapsErrorResponse(t *testing.T) {
	c, _ := fieldCapsES(t, estest.JSON(400, `{"error":{"root_cause":[],"type":"illegal_argument_exception","reason":"bad fields"},"status":400}`))
	_, err := esclient.FieldCaps(context.Background(), c, []string{"x"}, []string{"a"})
	var fe *esclient.Error
	require.ErrorAs(t, err, &fe)
	require.Equal(t, &esclient.Error{Status: 400, Type: "illegal_argument_exception", Reason: "bad fields"}, fe)
	require.Contains(t, err.Error(), "field caps of x")

	c, _ = fieldCapsES(t, estest.JSON(502, `bad gateway`))
	_, err = esclient.FieldCaps(context.Background(), c, []string{"x"}, []string{"a"})
	require.ErrorAs(t, err, &fe)
	require.Equal(t, 502, fe.Status)
	require.Equal(t, "bad gateway", fe.Reason)
}

func TestFieldCapsFeedsTypedKQL(t *testing.T) {
	c, _ := fieldCapsES(t, estest.File(t, 200, "testdata/fieldcaps_okta.json"))
	specs, err := esclient.FieldCaps(context.Background(), c, []string{"logs-*"}, []string{"event.dataset"})
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
