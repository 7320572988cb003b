package mappings

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// supportedTypes are the field types of the integ-test Elasticsearch used in
// tests (no mapper-extras, no x-pack mappers such as wildcard).
var supportedTypes = map[string]bool{
	"keyword": true, "text": true, "date": true, "long": true, "integer": true, "float": true,
	"double": true, "boolean": true, "ip": true, "geo_point": true, "object": true, "nested": true,
	"flattened": true,
}

func TestEmbeddedJSONParsesWithSupportedTypes(t *testing.T) {
	docs := map[string][]byte{
		"alerts-template.json":    alertsTemplateJSON,
		"state-index.json":        stateIndexJSON,
		"okta-demo-template.json": oktaDemoTemplateJSON,
	}
	for name, raw := range docs {
		t.Run(name, func(t *testing.T) {
			var doc map[string]any
			require.NoError(t, json.Unmarshal(raw, &doc))
			mappings := mappingsOf(doc)
			require.NotNil(t, mappings, "no mappings")
			var bad []string
			for path, typ := range fieldTypes(mappings) {
				if !supportedTypes[typ] {
					bad = append(bad, path+": "+typ)
				}
			}
			sort.Strings(bad)
			require.Empty(t, bad, "field types the test Elasticsearch lacks")
			require.NotContains(t, string(raw), `"data_stream": {}`)
			require.NotContains(t, doc, "data_stream", "templates must create plain indices")
		})
	}
}

func TestAlertsTemplateFieldTypes(t *testing.T) {
	body := alertsTemplateBody("default", nil)
	types := fieldTypes(mappingsOf(body))
	want := map[string]string{
		"@timestamp":                                         "date",
		"event.kind":                                         "keyword",
		"event.ingested":                                     "date",
		"kibana.space_ids":                                   "keyword",
		"kibana.version":                                     "keyword",
		"kibana.alert.uuid":                                  "keyword",
		"kibana.alert.new_terms":                             "keyword",
		"kibana.alert.original_time":                         "date",
		"kibana.alert.ancestors.id":                          "keyword",
		"kibana.alert.ancestors.depth":                       "long",
		"kibana.alert.depth":                                 "long",
		"kibana.alert.status":                                "keyword",
		"kibana.alert.workflow_status":                       "keyword",
		"kibana.alert.workflow_tags":                         "keyword",
		"kibana.alert.workflow_assignee_ids":                 "keyword",
		"kibana.alert.reason":                                "keyword",
		"kibana.alert.reason.text":                           "text",
		"kibana.alert.severity":                              "keyword",
		"kibana.alert.risk_score":                            "float",
		"kibana.alert.intended_timestamp":                    "date",
		"kibana.alert.start":                                 "date",
		"kibana.alert.last_detected":                         "date",
		"kibana.alert.url":                                   "keyword",
		"kibana.alert.building_block_type":                   "keyword",
		"kibana.alert.original_event.action":                 "keyword",
		"kibana.alert.original_event.ingested":               "date",
		"kibana.alert.original_data_stream.dataset":          "keyword",
		"kibana.alert.rule.name":                             "keyword",
		"kibana.alert.rule.rule_id":                          "keyword",
		"kibana.alert.rule.uuid":                             "keyword",
		"kibana.alert.rule.revision":                         "long",
		"kibana.alert.rule.execution.uuid":                   "keyword",
		"kibana.alert.rule.execution.type":                   "keyword",
		"kibana.alert.rule.execution.timestamp":              "date",
		"kibana.alert.rule.parameters":                       "flattened",
		"kibana.alert.rule.max_signals":                      "long",
		"kibana.alert.rule.threat.tactic.id":                 "keyword",
		"kibana.alert.rule.threat.technique.subtechnique.id": "keyword",
		"kibana.alert.rule.timestamp_override":               "keyword",
		"okta.actor.id":                                      "keyword",
		"okta.security_context.is_proxy":                     "boolean",
		"okta.client.ip":                                     "ip",
		"okta.debug_context.debug_data.flattened":            "flattened",
		"source.ip":                                          "ip",
		"source.geo.location":                                "geo_point",
		"source.as.number":                                   "long",
		"client.user.name.text":                              "text",
		"related.ip":                                         "ip",
		"data_stream.dataset":                                "keyword",
		"cloud.account.id":                                   "keyword",
		"host.name":                                          "keyword",
		"user.name":                                          "keyword",
	}
	for field, typ := range want {
		require.Equal(t, typ, types[field], field)
	}
	m := mappingsOf(body)
	require.Equal(t, false, m["dynamic"])
	require.Equal(t, []any{"esrule-alerts-default-*"}, body["index_patterns"])
}

func TestOktaDemoTemplate(t *testing.T) {
	body := oktaDemoTemplateBody(nil)
	require.Equal(t, []any{"logs-okta.system-*", "filebeat-*"}, body["index_patterns"])
	types := fieldTypes(mappingsOf(body))
	for field, typ := range map[string]string{
		"@timestamp": "date", "event.ingested": "date", "event.dataset": "keyword",
		"data_stream.dataset": "keyword", "okta.actor.id": "keyword",
		"okta.security_context.is_proxy": "boolean", "okta.debug_context.debug_data.flattened": "flattened",
		"okta.request.ip_chain": "flattened", "source.ip": "ip", "source.geo.location": "geo_point",
		"source.as.number": "long", "client.ip": "ip", "user.name": "keyword", "related.user": "keyword",
		"cloud.account.id": "keyword", "okta.security_context.as.number": "integer",
	} {
		require.Equal(t, typ, types[field], field)
	}
}

func TestReplicasAreOptional(t *testing.T) {
	zero := 0
	tests := []struct {
		name     string
		replicas *int
		want     any
	}{
		{"unset leaves the cluster default", nil, nil},
		{"zero for tests", &zero, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settingsOf := func(holder map[string]any) map[string]any {
				return holder["settings"].(map[string]any)["index"].(map[string]any)
			}
			require.Equal(t, tt.want, settingsOf(alertsTemplateBody("x", tt.replicas)["template"].(map[string]any))["number_of_replicas"])
			require.Equal(t, tt.want, settingsOf(oktaDemoTemplateBody(tt.replicas)["template"].(map[string]any))["number_of_replicas"])
			require.Equal(t, tt.want, settingsOf(stateIndexBody(tt.replicas))["number_of_replicas"])
		})
	}
}

func TestNames(t *testing.T) {
	require.Equal(t, "esrule-alerts-default", AlertsAlias("default"))
	require.Equal(t, "esrule-alerts-default-template", AlertsTemplate("default"))
	require.Equal(t, "esrule-alerts-default-000001", AlertsBootstrapIndex("default"))
	require.Equal(t, "esrule-state", StateIndex)
	require.Greater(t, alertsTemplatePriority("default-b"), alertsTemplatePriority("default"),
		"a longer, overlapping space pattern must win")
	for _, ok := range []string{"default", "team_a", "soc-eu-1"} {
		require.NoError(t, ValidateSpace(ok), ok)
	}
	for _, bad := range []string{"", "Default", "a b", "a*", "../x", strings.Repeat("a", 201)} {
		require.Error(t, ValidateSpace(bad), bad)
	}
}

// mappingsOf returns the mappings of a template or create-index body.
func mappingsOf(doc map[string]any) map[string]any {
	if tmpl, ok := doc["template"].(map[string]any); ok {
		doc = tmpl
	}
	m, _ := doc["mappings"].(map[string]any)
	return m
}

// fieldTypes lists every field and multi-field by dotted path.
func fieldTypes(mappings map[string]any) map[string]string {
	out := map[string]string{}
	var walk func(prefix string, props map[string]any)
	walk = func(prefix string, props map[string]any) {
		for name, v := range props {
			f := v.(map[string]any)
			path := prefix + name
			typ, _ := f["type"].(string)
			if sub, ok := f["properties"].(map[string]any); ok {
				if typ == "" {
					typ = "object"
				}
				walk(path+".", sub)
			}
			out[path] = typ
			if multi, ok := f["fields"].(map[string]any); ok {
				for mname, mv := range multi {
					out[path+"."+mname], _ = mv.(map[string]any)["type"].(string)
				}
			}
		}
	}
	walk("", mappings["properties"].(map[string]any))
	return out
}
