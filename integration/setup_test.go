//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/mappings"
)

// setupSpace returns a unique space and state index for one test. Its alerts
// indices and state index are deleted, and its template removed, at cleanup.
func setupSpace(t *testing.T) (space, stateIndex string) {
	t.Helper()
	alias := uniqueName(t, "esrule-alerts-setupit")
	space = strings.TrimPrefix(alias, "esrule-alerts-")
	stateIndex = uniqueName(t, "esrule-state-setupit")
	t.Cleanup(func() { setupDeleteTemplate(t, mappings.AlertsTemplate(space)) })
	return space, stateIndex
}

func TestIntegrationSetupEnsureIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClient(t)
	space, stateIndex := setupSpace(t)
	zero := 0
	opts := mappings.Options{Space: space, Replicas: &zero, StateIndex: stateIndex}
	missing, err := mappings.Missing(ctx, c, opts)
	require.NoError(t, err)
	require.Equal(t, []string{mappings.AlertsAlias(space), stateIndex}, missing)

	first, err := mappings.Install(ctx, c, opts)
	require.NoError(t, err)
	require.Equal(t, mappings.Report{
		{Kind: "index template", Name: "esrule-alerts-" + space + "-template", Change: mappings.Created},
		{Kind: "alias", Name: "esrule-alerts-" + space, Change: mappings.Created},
		{Kind: "index", Name: stateIndex, Change: mappings.Created},
	}, first)

	second, err := mappings.Install(ctx, c, opts)
	require.NoError(t, err)
	for _, r := range second {
		require.Equal(t, mappings.Unchanged, r.Change, r.String())
	}
	require.NoError(t, mappings.Ensure(ctx, c, opts))
	missing, err = mappings.Missing(ctx, c, opts)
	require.NoError(t, err)
	require.Empty(t, missing)

	// Other replicas change the template's settings only: no mapping update.
	one := 1
	third, err := mappings.Install(ctx, c, mappings.Options{Space: space, Replicas: &one, StateIndex: stateIndex})
	require.NoError(t, err)
	require.Equal(t, mappings.Report{
		{Kind: "index template", Name: mappings.AlertsTemplate(space), Change: mappings.Updated},
		{Kind: "alias", Name: mappings.AlertsAlias(space), Change: mappings.Unchanged},
		{Kind: "index", Name: stateIndex, Change: mappings.Unchanged},
	}, third)

	// The write alias points at the bootstrap index as its write index.
	aliases := setupGetJSON(t, c, "/_alias/"+mappings.AlertsAlias(space))
	require.Equal(t, map[string]any{
		mappings.AlertsBootstrapIndex(space): map[string]any{"aliases": map[string]any{
			mappings.AlertsAlias(space): map[string]any{"is_write_index": true},
		}},
	}, aliases)
}

func TestIntegrationSetupAlertsFieldTypes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClient(t)
	space, stateIndex := setupSpace(t)
	zero := 0
	require.NoError(t, mappings.Ensure(ctx, c, mappings.Options{Space: space, Replicas: &zero, StateIndex: stateIndex}))
	alias := mappings.AlertsAlias(space)

	// An alert as Kibana builds it: nested source fields mixed with dotted
	// kibana.* keys (docs/alerts.md, "The alert document"), with a field the
	// template does not know (stored, not indexed: dynamic false).
	var source map[string]any
	require.NoError(t, json.Unmarshal([]byte(setupOktaDocA), &source))
	delete(source["event"].(map[string]any), "kind")
	alert := map[string]any{
		"@timestamp":                            "2024-05-13T02:20:00.000Z",
		"event.kind":                            "signal",
		"kibana.alert.uuid":                     "263fc5a28945533043d7f7317cb03bc386090fae",
		"kibana.alert.new_terms":                []any{"00u7rk2qzeXb4NpLd4x7"},
		"kibana.alert.original_time":            "2024-05-13T02:14:09.118Z",
		"kibana.alert.ancestors":                []any{map[string]any{"id": "9b2f6c1e", "type": "event", "index": "logs-okta.system-default", "depth": 0}},
		"kibana.alert.depth":                    1,
		"kibana.alert.status":                   "active",
		"kibana.alert.workflow_status":          "open",
		"kibana.alert.workflow_tags":            []any{},
		"kibana.alert.workflow_assignee_ids":    []any{},
		"kibana.alert.reason":                   "authentication event with source 203.0.113.77 by dana.hale@example.com created medium alert First Occurrence of Okta User Session Started via Proxy.",
		"kibana.alert.severity":                 "medium",
		"kibana.alert.risk_score":               47,
		"kibana.alert.intended_timestamp":       "2024-05-13T02:20:00.000Z",
		"kibana.alert.rule.parameters":          map[string]any{"type": "new_terms", "new_terms_fields": []any{"okta.actor.id"}, "max_signals": 100},
		"kibana.alert.rule.threat":              []any{map[string]any{"framework": "MITRE ATT&CK", "tactic": map[string]any{"id": "TA0001", "name": "Initial Access", "reference": "https://attack.mitre.org/tactics/TA0001/"}, "technique": []any{map[string]any{"id": "T1133", "name": "External Remote Services", "reference": "https://attack.mitre.org/techniques/T1133/"}}}},
		"kibana.alert.rule.execution.type":      "scheduled",
		"kibana.alert.rule.execution.timestamp": "2024-05-13T02:20:00.000Z",
		"kibana.alert.rule.revision":            0,
		"kibana.alert.original_event.action":    "user.session.start",
		"kibana.alert.original_event.ingested":  "2024-05-13T02:15:01Z",
		"kibana.space_ids":                      []any{space},
		"kibana.version":                        "8.19.0",
		"esrule_unknown_field":                  map[string]any{"x": 1},
	}
	for k, v := range alert {
		source[k] = v
	}
	res, err := c.Create(alias, "263fc5a28945533043d7f7317cb03bc386090fae", setupJsonReader(t, source),
		c.Create.WithContext(ctx), c.Create.WithRefresh("true"))
	require.NoError(t, err)
	body := setupReadBody(t, res)
	require.Equal(t, 201, res.StatusCode, body)

	types := setupFieldCaps(t, c, alias)
	for field, typ := range map[string]string{
		"@timestamp":                            "date",
		"event.kind":                            "keyword",
		"event.ingested":                        "date",
		"kibana.alert.uuid":                     "keyword",
		"kibana.alert.new_terms":                "keyword",
		"kibana.alert.original_time":            "date",
		"kibana.alert.ancestors.depth":          "long",
		"kibana.alert.reason":                   "keyword",
		"kibana.alert.reason.text":              "text",
		"kibana.alert.risk_score":               "float",
		"kibana.alert.rule.parameters":          "flattened",
		"kibana.alert.rule.threat.tactic.id":    "keyword",
		"kibana.alert.rule.execution.timestamp": "date",
		"kibana.alert.original_event.ingested":  "date",
		"kibana.space_ids":                      "keyword",
		"okta.actor.id":                         "keyword",
		"okta.security_context.is_proxy":        "boolean",
		"source.ip":                             "ip",
		"source.geo.location":                   "geo_point",
		"related.ip":                            "ip",
	} {
		require.Equal(t, typ, types[field], field)
	}
	require.NotContains(t, types, "esrule_unknown_field.x", "dynamic false must not map unknown fields")

	// The alert is searchable by the fields Kibana users filter on.
	for _, q := range []map[string]any{
		{"term": map[string]any{"kibana.alert.new_terms": "00u7rk2qzeXb4NpLd4x7"}},
		{"term": map[string]any{"kibana.alert.workflow_status": "open"}},
		{"term": map[string]any{"okta.security_context.is_proxy": true}},
		{"range": map[string]any{"kibana.alert.original_time": map[string]any{"gte": "2024-05-13T00:00:00Z"}}},
		{"term": map[string]any{"source.ip": "203.0.113.0/24"}},
		{"match": map[string]any{"kibana.alert.reason.text": "proxy"}},
	} {
		require.Equal(t, 1, setupCount(t, c, alias, q), "%v", q)
	}
}

func TestIntegrationSetupOktaDemoTemplate(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	existed := setupTemplateExists(t, c, mappings.OktaDemoTemplate)
	zero := 0
	require.NoError(t, mappings.EnsureOktaDemo(ctx, c, &zero))
	if !existed {
		t.Cleanup(func() { setupDeleteTemplate(t, mappings.OktaDemoTemplate) })
	}
	again, err := mappings.InstallOktaDemo(ctx, c, &zero, false)
	require.NoError(t, err)
	require.Equal(t, mappings.Unchanged, again.Change)

	// Index names that match the template's global patterns but are unique.
	integration := uniqueName(t, "logs-okta.system-setupit")
	filebeat := uniqueName(t, "filebeat-setupit")
	var bulk strings.Builder
	for _, d := range []struct{ index, doc string }{
		{integration, setupOktaDocA}, {integration, setupOktaDocB}, {filebeat, setupOktaDocC},
	} {
		fmt.Fprintf(&bulk, `{"create":{"_index":%q}}`+"\n%s\n", d.index, d.doc)
	}
	res, err := c.Bulk(strings.NewReader(bulk.String()), c.Bulk.WithContext(ctx), c.Bulk.WithRefresh("true"))
	require.NoError(t, err)
	body := setupReadBody(t, res)
	require.Equal(t, 200, res.StatusCode, body)
	require.NotContains(t, body, `"errors":true`, body)

	want := map[string]string{
		"@timestamp":                              "date",
		"event.ingested":                          "date",
		"event.created":                           "date",
		"event.dataset":                           "keyword",
		"event.action":                            "keyword",
		"data_stream.dataset":                     "keyword",
		"okta.actor.id":                           "keyword",
		"okta.event_type":                         "keyword",
		"okta.security_context.is_proxy":          "boolean",
		"okta.security_context.as.number":         "integer",
		"okta.client.ip":                          "ip",
		"okta.debug_context.debug_data.flattened": "flattened",
		"okta.request.ip_chain":                   "flattened",
		"source.ip":                               "ip",
		"source.geo.location":                     "geo_point",
		"source.as.number":                        "long",
		"client.ip":                               "ip",
		"client.geo.location":                     "geo_point",
		"user.name":                               "keyword",
		"related.ip":                              "ip",
		"related.user":                            "keyword",
		"cloud.account.id":                        "keyword",
	}
	types := setupFieldCaps(t, c, integration)
	for field, typ := range want {
		require.Equal(t, typ, types[field], "%s in %s", field, integration)
	}
	types = setupFieldCaps(t, c, filebeat)
	for _, field := range []string{"@timestamp", "event.ingested", "okta.actor.id", "okta.security_context.is_proxy", "source.ip"} {
		require.Equal(t, want[field], types[field], "%s in %s", field, filebeat)
	}

	// The rule's query fields work as typed fields.
	q := map[string]any{"bool": map[string]any{"filter": []any{
		map[string]any{"term": map[string]any{"event.dataset": "okta.system"}},
		map[string]any{"term": map[string]any{"okta.security_context.is_proxy": true}},
		map[string]any{"range": map[string]any{"event.ingested": map[string]any{"gte": "2024-05-13T00:00:00Z"}}},
	}}}
	require.Equal(t, 2, setupCount(t, c, integration+","+filebeat, q))
}

func TestIntegrationSetupDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClient(t)
	space, stateIndex := setupSpace(t)
	opts := mappings.Options{Space: space, StateIndex: stateIndex, DryRun: true}

	report, err := mappings.Install(ctx, c, opts)
	require.NoError(t, err)
	require.Equal(t, mappings.Report{
		{Kind: "index template", Name: mappings.AlertsTemplate(space), Change: mappings.Created},
		{Kind: "alias", Name: mappings.AlertsAlias(space), Change: mappings.Created},
		{Kind: "index", Name: stateIndex, Change: mappings.Created},
	}, report)
	missing, err := mappings.Missing(ctx, c, opts)
	require.NoError(t, err)
	require.Len(t, missing, 2)
	require.False(t, setupTemplateExists(t, c, mappings.AlertsTemplate(space)))

	opts.DryRun = false
	require.NoError(t, mappings.Ensure(ctx, c, opts))
	one := 1
	report, err = mappings.Install(ctx, c, mappings.Options{Space: space, StateIndex: stateIndex, Replicas: &one, DryRun: true})
	require.NoError(t, err)
	require.Equal(t, mappings.Updated, report[0].Change)
	report, err = mappings.Install(ctx, c, opts)
	require.NoError(t, err)
	for _, r := range report {
		require.Equal(t, mappings.Unchanged, r.Change, "the dry run changed %s", r)
	}
}

func TestIntegrationSetupConcurrentInstalls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClient(t)
	space, stateIndex := setupSpace(t)
	zero := 0
	opts := mappings.Options{Space: space, Replicas: &zero, StateIndex: stateIndex}

	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = mappings.Install(ctx, c, opts)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	aliases := setupGetJSON(t, c, "/_alias/"+mappings.AlertsAlias(space))
	require.Len(t, aliases, 1)
	require.Contains(t, aliases, mappings.AlertsBootstrapIndex(space))
}

func TestIntegrationSetupRepairsAndUpgrades(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClient(t)
	space, stateIndex := setupSpace(t)
	zero := 0
	opts := mappings.Options{Space: space, Replicas: &zero, StateIndex: stateIndex}
	alias := mappings.AlertsAlias(space)
	bootstrap := mappings.AlertsBootstrapIndex(space)

	// An older esrule: a template and index without kibana.alert.new_terms.
	old := map[string]any{
		"index_patterns": []any{alias + "-*"},
		"priority":       200 + len(space),
		"template": map[string]any{
			"settings": map[string]any{"number_of_replicas": 0},
			"mappings": map[string]any{"dynamic": false, "properties": map[string]any{
				"@timestamp": map[string]any{"type": "date"},
			}},
		},
	}
	setupPut(t, c, "/_index_template/"+mappings.AlertsTemplate(space), old)
	setupPut(t, c, "/"+bootstrap, map[string]any{})

	report, err := mappings.Install(ctx, c, opts)
	require.NoError(t, err)
	require.Equal(t, mappings.Report{
		{Kind: "index template", Name: mappings.AlertsTemplate(space), Change: mappings.Updated},
		{Kind: "alias", Name: alias, Change: mappings.Created}, // the index existed without its alias
		{Kind: "mapping", Name: alias, Change: mappings.Updated},
		{Kind: "index", Name: stateIndex, Change: mappings.Created},
	}, report)
	require.Equal(t, "keyword", setupFieldCaps(t, c, alias)["kibana.alert.new_terms"])

	// The template was reverted (an older esrule ran setup): the next install
	// restores it and the alias's mappings.
	setupPut(t, c, "/_index_template/"+mappings.AlertsTemplate(space), old)
	report, err = mappings.Install(ctx, c, opts)
	require.NoError(t, err)
	require.Contains(t, report, mappings.Result{Kind: "mapping", Name: alias, Change: mappings.Updated})
	require.Equal(t, "keyword", setupFieldCaps(t, c, alias)["kibana.alert.new_terms"])

	// A state index whose mapping lost a field gets it back.
	setupDeleteIndex(t, c, stateIndex)
	setupPut(t, c, "/"+stateIndex, map[string]any{"mappings": map[string]any{"properties": map[string]any{
		"rule_id": map[string]any{"type": "keyword"},
	}}})
	report, err = mappings.Install(ctx, c, opts)
	require.NoError(t, err)
	require.Equal(t, mappings.Result{Kind: "index", Name: stateIndex, Change: mappings.Updated}, report[len(report)-1])
	require.Equal(t, "date", setupFieldCaps(t, c, stateIndex)["lease.expires_at"])
	report, err = mappings.Install(ctx, c, opts)
	require.NoError(t, err)
	for _, r := range report {
		require.Equal(t, mappings.Unchanged, r.Change, r.String())
	}
}

func TestIntegrationSetupReportsElasticsearchErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClient(t)
	space, stateIndex := setupSpace(t)
	// A concrete index already holds the alias name (deleted at cleanup with
	// the space's indices).
	setupPut(t, c, "/"+mappings.AlertsAlias(space), map[string]any{})

	// Install checks the names before it writes anything (issue 15), so
	// no template is left behind.
	_, err := mappings.Install(ctx, c, mappings.Options{Space: space, StateIndex: stateIndex})
	require.ErrorContains(t, err, mappings.AlertsAlias(space)+" is an index, not an alias")
	res, err := c.Indices.ExistsIndexTemplate(mappings.AlertsTemplate(space))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 404, res.StatusCode, "no template left behind")
}

// fieldCaps returns the type of every field of index, by name.
func setupFieldCaps(t *testing.T, c *elasticsearch.Client, index string) map[string]string {
	t.Helper()
	var caps struct {
		Fields map[string]map[string]any `json:"fields"`
	}
	b, err := json.Marshal(setupGetJSON(t, c, "/"+index+"/_field_caps?fields=*"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &caps))
	out := map[string]string{}
	for name, byType := range caps.Fields {
		for typ := range byType {
			out[name] = typ
		}
		if len(byType) > 1 {
			out[name] = "conflict"
		}
	}
	return out
}

func setupCount(t *testing.T, c *elasticsearch.Client, index string, query map[string]any) int {
	t.Helper()
	res, err := c.Count(c.Count.WithIndex(index), c.Count.WithBody(setupJsonReader(t, map[string]any{"query": query})))
	require.NoError(t, err)
	body := setupReadBody(t, res)
	require.Equal(t, 200, res.StatusCode, body)
	var got struct{ Count int }
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	return got.Count
}

func setupNewRequest(method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequest(method, path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

func setupGetJSON(t *testing.T, c *elasticsearch.Client, path string) map[string]any {
	t.Helper()
	req, err := setupNewRequest("GET", path, nil)
	require.NoError(t, err)
	res, err := c.Perform(req)
	require.NoError(t, err)
	resp := esapi.Response{StatusCode: res.StatusCode, Body: res.Body, Header: res.Header}
	body := setupReadBody(t, &resp)
	require.Equal(t, 200, res.StatusCode, body)
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &out))
	return out
}

func setupPut(t *testing.T, c *elasticsearch.Client, path string, v any) {
	t.Helper()
	req, err := setupNewRequest("PUT", path, setupJsonReader(t, v))
	require.NoError(t, err)
	res, err := c.Perform(req)
	require.NoError(t, err)
	resp := esapi.Response{StatusCode: res.StatusCode, Body: res.Body, Header: res.Header}
	body := setupReadBody(t, &resp)
	require.Equal(t, 200, res.StatusCode, "PUT %s: %s", path, body)
}

func setupTemplateExists(t *testing.T, c *elasticsearch.Client, name string) bool {
	t.Helper()
	res, err := c.Indices.ExistsIndexTemplate(name)
	require.NoError(t, err)
	res.Body.Close()
	return res.StatusCode == 200
}

func setupDeleteTemplate(t *testing.T, name string) {
	c := newClient(t)
	res, err := c.Indices.DeleteIndexTemplate(name)
	if err == nil {
		res.Body.Close()
	}
}

func setupDeleteIndex(t *testing.T, c *elasticsearch.Client, index string) {
	res, err := c.Indices.Delete([]string{index})
	if err == nil {
		res.Body.Close()
	}
}

func setupJsonReader(t *testing.T, v any) io.Reader {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return bytes.NewReader(b)
}

func setupReadBody(t *testing.T, res *esapi.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

// setupOktaDocA is an Okta integration (3.x) document: user.session.start through a proxy.
const setupOktaDocA = `{"@timestamp":"2024-05-13T02:14:09.118Z","data_stream":{"type":"logs","dataset":"okta.system","namespace":"default"},"ecs":{"version":"8.11.0"},"event":{"action":"user.session.start","category":["authentication","session"],"type":["start","info"],"kind":"event","outcome":"success","dataset":"okta.system","id":"9b2f6c1e-1131-11ef-8d1a-0b6f3c2e77a1","created":"2024-05-13T02:15:00.402Z","ingested":"2024-05-13T02:15:01Z","agent_id_status":"verified"},"input":{"type":"httpjson"},"tags":["forwarded","okta-system"],"okta":{"uuid":"9b2f6c1e-1131-11ef-8d1a-0b6f3c2e77a1","event_type":"user.session.start","display_message":"User login to Okta","actor":{"id":"00u7rk2qzeXb4NpLd4x7","type":"User","alternate_id":"dana.hale@example.com","display_name":"Dana Hale"},"client":{"ip":"203.0.113.77","device":"Computer","zone":"null","user_agent":{"raw_user_agent":"Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0","os":"Linux","browser":"FIREFOX"}},"authentication_context":{"authentication_step":0,"external_session_id":"102Qm3vXk9TzLw0pYc7sAe8hQ"},"security_context":{"is_proxy":true,"as":{"number":64501,"organization":{"name":"example anonymizer hosting"}},"isp":"example vpn hosting ltd","domain":"vpn-exit.example"},"outcome":{"result":"SUCCESS"},"transaction":{"id":"ZkF1yQ0aVb3k4tq9oR2mNwAAAC8","type":"WEB"},"debug_context":{"debug_data":{"request_id":"ZkF1yQ0aVb3k4tq9oR2mNwAAAC8","request_uri":"/api/v1/authn","url":"/api/v1/authn?","device_fingerprint":"c0ffee5e1d2a4b8f9e7d6c5b4a392817","dt_hash":"4e1f0b…d2a9","threat_suspected":"false","risk_level":"HIGH","risk_reasons":["Anomalous Location","Anomalous Device"],"risk_behaviors":["New Geo-Location","New Device","New IP","New Country","New City"],"flattened":{"requestId":"ZkF1yQ0aVb3k4tq9oR2mNwAAAC8","requestUri":"/api/v1/authn","url":"/api/v1/authn?","deviceFingerprint":"c0ffee5e1d2a4b8f9e7d6c5b4a392817","dtHash":"4e1f0b…d2a9","threatSuspected":"false","behaviors":{"New Geo-Location":"POSITIVE","New Device":"POSITIVE","New IP":"POSITIVE","New State":"NEGATIVE","New Country":"POSITIVE","Velocity":"NEGATIVE","New City":"POSITIVE"},"risk":{"level":"HIGH","reasons":"Anomalous Location, Anomalous Device"}}}},"request":{"ip_chain":[{"ip":"203.0.113.77","version":"V4","geographical_context":{"city":"Amsterdam","state":"North Holland","country":"Netherlands","postal_code":"1012","geolocation":{"lat":52.3676,"lon":4.9041}}}]}},"client":{"ip":"203.0.113.77","domain":"vpn-exit.example","as":{"organization":{"name":"example anonymizer hosting"}},"geo":{"city_name":"Amsterdam","region_name":"North Holland","country_name":"Netherlands","location":{"lat":52.3676,"lon":4.9041}},"user":{"id":"00u7rk2qzeXb4NpLd4x7","name":"dana.hale@example.com","full_name":"Dana Hale"}},"source":{"ip":"203.0.113.77","domain":"vpn-exit.example","user":{"id":"00u7rk2qzeXb4NpLd4x7","name":"dana.hale@example.com","full_name":"Dana Hale"},"geo":{"country_iso_code":"NL","country_name":"Netherlands","continent_name":"Europe","location":{"lat":52.3824,"lon":4.8995}},"as":{"number":64501,"organization":{"name":"Example Anonymizer Hosting B.V."}}},"user":{"name":"dana.hale@example.com","full_name":"Dana Hale"},"related":{"ip":["203.0.113.77"],"user":["Dana Hale","dana.hale@example.com"]},"user_agent":{"original":"Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0","name":"Firefox","version":"115.0","device":{"name":"Other"},"os":{"name":"Linux"}}}`

// setupOktaDocB is the same user from a home ISP, is_proxy false.
const setupOktaDocB = `{"@timestamp":"2024-05-05T13:02:11.482Z","data_stream":{"type":"logs","dataset":"okta.system","namespace":"default"},"event":{"action":"user.session.start","category":["authentication","session"],"type":["start","info"],"kind":"event","outcome":"success","dataset":"okta.system","id":"0d7a44a2-0c27-11ef-9f6e-57c1d0a3b214","ingested":"2024-05-05T13:03:02Z"},"okta":{"uuid":"0d7a44a2-0c27-11ef-9f6e-57c1d0a3b214","event_type":"user.session.start","display_message":"User login to Okta","actor":{"id":"00u7rk2qzeXb4NpLd4x7","type":"User","alternate_id":"dana.hale@example.com","display_name":"Dana Hale"},"client":{"ip":"198.51.100.24","device":"Computer","zone":"null","user_agent":{"raw_user_agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36","os":"Mac OS X","browser":"CHROME"}},"authentication_context":{"authentication_step":0,"external_session_id":"102aVn5c3LrT8pQe1wZ0xYk2B"},"security_context":{"is_proxy":false,"as":{"number":64500,"organization":{"name":"example cable broadband"}},"isp":"example cable","domain":"cable.example"},"outcome":{"result":"SUCCESS"},"transaction":{"id":"ZjeC0yT4nq1bQ8e2Wv7kLgAABQk","type":"WEB"},"debug_context":{"debug_data":{"request_id":"ZjeC0yT4nq1bQ8e2Wv7kLgAABQk","request_uri":"/api/v1/authn","url":"/api/v1/authn?","threat_suspected":"false","risk_level":"LOW","flattened":{"requestId":"ZjeC0yT4nq1bQ8e2Wv7kLgAABQk","requestUri":"/api/v1/authn","url":"/api/v1/authn?","threatSuspected":"false","risk":{"level":"LOW"},"behaviors":{"New Geo-Location":"NEGATIVE","New Device":"NEGATIVE","New IP":"NEGATIVE","New State":"NEGATIVE","New Country":"NEGATIVE","Velocity":"NEGATIVE","New City":"NEGATIVE"}}}},"request":{"ip_chain":[{"ip":"198.51.100.24","version":"V4","geographical_context":{"city":"Denver","state":"Colorado","country":"United States","postal_code":"80202","geolocation":{"lat":39.7392,"lon":-104.9903}}}]}},"client":{"ip":"198.51.100.24","domain":"cable.example","as":{"organization":{"name":"example cable broadband"}},"geo":{"city_name":"Denver","region_name":"Colorado","country_name":"United States","location":{"lat":39.7392,"lon":-104.9903}},"user":{"id":"00u7rk2qzeXb4NpLd4x7","name":"dana.hale@example.com","full_name":"Dana Hale"}},"source":{"ip":"198.51.100.24","domain":"cable.example","user":{"id":"00u7rk2qzeXb4NpLd4x7","name":"dana.hale@example.com","full_name":"Dana Hale"}},"user":{"name":"dana.hale@example.com","full_name":"Dana Hale"},"related":{"ip":["198.51.100.24"],"user":["Dana Hale","dana.hale@example.com"]},"user_agent":{"original":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36","name":"Chrome","version":"124.0.0.0","os":{"name":"Mac OS X","version":"10.15.7","full":"Mac OS X 10.15.7"},"device":{"name":"Mac"}},"tags":["forwarded","okta-system"],"ecs":{"version":"8.11.0"},"input":{"type":"httpjson"}}`

// setupOktaDocC is a Filebeat okta module document: user.authentication.verify through the proxy.
const setupOktaDocC = `{"@timestamp":"2024-05-13T02:14:40.307Z","agent":{"type":"filebeat","version":"8.13.4","name":"okta-collector-01"},"event":{"module":"okta","dataset":"okta.system","action":"user.authentication.verify","kind":"event","outcome":"success","id":"a41d0c55-1131-11ef-8d1a-0b6f3c2e77a1","ingested":"2024-05-13T02:15:03.551Z"},"fileset":{"name":"system"},"service":{"type":"okta"},"input":{"type":"httpjson"},"tags":["forwarded"],"okta":{"uuid":"a41d0c55-1131-11ef-8d1a-0b6f3c2e77a1","event_type":"user.authentication.verify","display_message":"Verify user identity","actor":{"id":"00u7rk2qzeXb4NpLd4x7","type":"User","alternate_id":"dana.hale@example.com","display_name":"Dana Hale"},"client":{"ip":"203.0.113.77","device":"Computer","zone":"null","user_agent":{"raw_user_agent":"Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0","os":"Linux","browser":"FIREFOX"}},"authentication_context":{"authentication_step":0,"external_session_id":"102Qm3vXk9TzLw0pYc7sAe8hQ"},"security_context":{"is_proxy":true,"as":{"number":64501,"organization":{"name":"example anonymizer hosting"}},"isp":"example vpn hosting ltd","domain":"vpn-exit.example"},"outcome":{"result":"SUCCESS"},"transaction":{"id":"ZkF12A0aVb3k4tq9oR2mNwAAADk","type":"WEB"},"debug_context":{"debug_data":{"request_id":"ZkF12A0aVb3k4tq9oR2mNwAAADk","request_uri":"/api/v1/authn/factors/opf3hkfoctwNpLW1k0x7/verify","url":"/api/v1/authn/factors/opf3hkfoctwNpLW1k0x7/verify?rememberDevice=false","threat_suspected":"false","dt_hash":"4e1f0b…d2a9","risk_level":"HIGH","risk_reasons":["Anomalous Location","Anomalous Device"],"flattened":{"requestUri":"/api/v1/authn/factors/opf3hkfoctwNpLW1k0x7/verify","threatSuspected":"false","dtHash":"4e1f0b…d2a9","risk":{"level":"HIGH","reasons":"Anomalous Location, Anomalous Device"},"behaviors":{"New IP":"POSITIVE","New Device":"POSITIVE","New Geo-Location":"POSITIVE"}}}},"request":{"ip_chain":[{"ip":"203.0.113.77","version":"V4","geographical_context":{"city":"Amsterdam","country":"Netherlands","geolocation":{"lat":52.3676,"lon":4.9041}}}]}},"client":{"ip":"203.0.113.77","user":{"id":"00u7rk2qzeXb4NpLd4x7","full_name":"Dana Hale"},"geo":{"city_name":"Amsterdam","country_name":"Netherlands","location":{"lat":52.3676,"lon":4.9041}},"as":{"organization":{"name":"example anonymizer hosting"}},"domain":"vpn-exit.example"},"source":{"ip":"203.0.113.77","domain":"vpn-exit.example","user":{"id":"00u7rk2qzeXb4NpLd4x7","full_name":"Dana Hale"}},"user":{"full_name":"Dana Hale"},"related":{"ip":["203.0.113.77"],"user":["Dana Hale"]},"url":{"original":"/api/v1/authn/factors/opf3hkfoctwNpLW1k0x7/verify?rememberDevice=false","path":"/api/v1/authn/factors/opf3hkfoctwNpLW1k0x7/verify","query":"rememberDevice=false"},"user_agent":{"original":"Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0","name":"Firefox","version":"115.0"}}`
