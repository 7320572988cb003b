package mappings

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esclient"
)

func TestSameTemplateIgnoresElasticsearchNormalisation(t *testing.T) {
	zero := 0
	desired := alertsTemplateBody("default", &zero)
	// What GET _index_template returns for it: settings as strings, an empty
	// composed_of, numbers decoded as float64.
	installed := roundTrip(t, desired)
	tmpl := installed["template"].(map[string]any)
	tmpl["settings"] = map[string]any{"index": map[string]any{
		"number_of_replicas": "0",
		"mapping":            map[string]any{"total_fields": map[string]any{"limit": "2500"}, "ignore_malformed": "true"},
	}}
	installed["composed_of"] = []any{}

	tests := []struct {
		name   string
		change func(map[string]any)
		same   bool
	}{
		{"as installed", func(map[string]any) {}, true},
		{"dotted settings", func(m map[string]any) {
			m["template"].(map[string]any)["settings"] = map[string]any{
				"index.number_of_replicas": "0", "index.mapping.total_fields.limit": "2500",
				"mapping.ignore_malformed": true,
			}
		}, true},
		{"defaults and bookkeeping of newer versions", func(m map[string]any) {
			m["deprecated"] = false
			m["ignore_missing_component_templates"] = []any{}
			m["created_date_millis"] = 1764000000000
			m["modified_date_millis"] = 1764000000000
		}, true},
		{"other replicas", func(m map[string]any) {
			m["template"].(map[string]any)["settings"].(map[string]any)["index"].(map[string]any)["number_of_replicas"] = "1"
		}, false},
		{"other priority", func(m map[string]any) { m["priority"] = 1 }, false},
		{"field type changed", func(m map[string]any) {
			kibana := mappingsOf(m)["properties"].(map[string]any)["kibana"].(map[string]any)
			alert := kibana["properties"].(map[string]any)["alert"].(map[string]any)
			alert["properties"].(map[string]any)["new_terms"] = map[string]any{"type": "text"}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := roundTrip(t, installed)
			tt.change(got)
			require.Equal(t, tt.same, sameTemplate(desired, got))
		})
	}
}

func TestSameMappingIgnoresElasticsearchNormalisation(t *testing.T) {
	desired := stateIndexBody(nil)["mappings"].(map[string]any)
	installed := roundTrip(t, desired)
	installed["dynamic"] = "false"
	lease := installed["properties"].(map[string]any)["lease"].(map[string]any)
	lease["type"] = "object"
	require.True(t, sameMapping(desired, installed))

	installed["properties"].(map[string]any)["last_status"] = map[string]any{"type": "text"}
	require.False(t, sameMapping(desired, installed))
}

func TestResponseErrorDecoding(t *testing.T) {
	tests := []struct {
		name string
		body string
		want esclient.Error
	}{
		{"structured", `{"error":{"root_cause":[],"type":"resource_already_exists_exception","reason":"index [x] already exists"},"status":400}`,
			esclient.Error{Status: 400, Type: "resource_already_exists_exception", Reason: "index [x] already exists"}},
		{"plain string", `{"error":"Incorrect HTTP method","status":405}`, esclient.Error{Status: 400, Reason: "Incorrect HTTP method"}},
		{"not JSON", `<html>`, esclient.Error{Status: 400, Reason: "<html>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := response{status: 400, body: []byte(tt.body)}.asError()
			require.Equal(t, tt.want, *got)
			require.NotEmpty(t, got.Error())
		})
	}
}

func roundTrip(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}
