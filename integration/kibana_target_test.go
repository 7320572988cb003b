//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/demo"
	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/rule"
)

// alertsTableFields are the fields the Security app's Alerts table (and its
// filters, grouping and flyout) queries, filters or sorts on, with what the
// table does with them.
var alertsTableFields = []struct{ field, use string }{
	{"@timestamp", "default sort, time range"},
	{"kibana.alert.rule.rule_type_id", "RBAC filter (siem rule types)"},
	{"kibana.alert.rule.consumer", "RBAC filter"},
	{"kibana.alert.rule.producer", "RBAC filter"},
	{"kibana.space_ids", "space filter"},
	{"kibana.alert.workflow_status", "open / acknowledged / closed filter"},
	{"kibana.alert.status", "active / recovered"},
	{"kibana.alert.rule.uuid", "rule details page filter, link"},
	{"kibana.alert.rule.rule_id", "rule filter"},
	{"kibana.alert.rule.name", "column, grouping"},
	{"kibana.alert.severity", "column, sort, filter"},
	{"kibana.alert.risk_score", "column, sort"},
	{"kibana.alert.reason", "column"},
	{"kibana.alert.original_time", "flyout, sort"},
	{"kibana.alert.uuid", "row id, flyout"},
	{"kibana.version", "alert schema version"},
	{"kibana.alert.rule.type", "rule type filter"},
	{"kibana.alert.rule.tags", "tag filter"},
	{"kibana.alert.workflow_tags", "alert tags (triage)"},
	{"kibana.alert.workflow_assignee_ids", "assignees (triage)"},
	{"kibana.alert.building_block_type", "building blocks hidden (must_not exists)"},
	{"kibana.alert.depth", "alert-on-alert"},
	{"kibana.alert.ancestors.id", "source event link"},
	{"kibana.alert.new_terms", "new terms"},
	{"kibana.alert.rule.execution.type", "scheduled / manual"},
	{"event.kind", "signal"},
	{"user.name", "column"},
	{"host.name", "column"},
	{"source.ip", "column"},
	{"destination.ip", "column"},
}

// kibanaAlertsIndex creates the index behind Kibana's Security alerts alias of
// space as Kibana 8.19/9.x installs it (mappings.KibanaSecurityAlertsIndex)
// and returns the alias.
func kibanaAlertsIndex(t *testing.T, c *elasticsearch.Client, space string) string {
	t.Helper()
	alias := mappings.KibanaAlertsAlias(space)
	var body map[string]any
	require.NoError(t, json.Unmarshal(mappings.KibanaSecurityAlertsIndex(), &body))
	body["settings"].(map[string]any)["index"].(map[string]any)["number_of_replicas"] = 0
	body["aliases"] = map[string]any{alias: map[string]any{"is_write_index": true, "is_hidden": true}}
	b, err := json.Marshal(body)
	require.NoError(t, err)
	index := ".internal.alerts-security.alerts-" + space + "-000001"
	res, err := c.Indices.Create(index, c.Indices.Create.WithBody(bytes.NewReader(b)))
	require.NoError(t, err)
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.False(t, res.IsError(), "create %s: %s", index, raw)
	return alias
}

// runEsrule runs the binary with ELASTICSEARCH_URL set and returns its exit
// code, stdout and stderr.
func runEsrule(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	r := runEsruleSpec(t, "esrule "+args[0], procSpec{args: args, env: []string{"ELASTICSEARCH_URL=" + esURL, "ESRULE_LOG_FORMAT=json"}})
	return r.code, r.stdout, r.stderr
}

// TestIntegrationKibanaAlertsTarget writes the Okta demo's alerts with
// --alerts-target kibana into an index created with the mapping Kibana
// installs for Security alerts (dynamic: strict below kibana.*, so that a
// kibana.alert.* field Kibana does not define would be rejected): zero
// mapping errors, the alert set equals the demo oracle, and every field the
// Alerts table filters and sorts on is searchable with esrule's value. The
// list of those fields with esrule's values is logged.
func TestIntegrationKibanaAlertsTarget(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	space := strings.TrimPrefix(uniqueName(t, ".internal.alerts-security.alerts-it"), ".internal.alerts-security.alerts-")
	stateIndex := uniqueName(t, "esrule-state-kibana")

	cfg := oktaDemoConfig(t, false)
	g, _ := loadOktaDemo(t, c, cfg)
	oracle := &demo.Oracle{}
	require.NoError(t, g.Each(oracle.Add))

	r := *rule.Builtin()
	r.ID, r.Index, r.Space = "kibana-target-"+space, g.Indices(), space
	rulesFile := spaceRuleFile(t, &r, space)

	start, end := g.Config().Start(), g.Config().End
	backfillArgs := []string{"backfill", "--alerts-target", "kibana", "--rules", rulesFile, "--state-index", stateIndex,
		"--from", start.Add(-5 * time.Minute).Format(time.RFC3339), "--to", end.Format(time.RFC3339), "--progress", "none"}

	// Kibana has not created the alias: setup and backfill refuse, saying so.
	code, _, stderr := runEsrule(t, "setup", "--alerts-target", "kibana", "--space", space, "--state-index", stateIndex)
	require.NotZero(t, code)
	require.Contains(t, stderr, "the Kibana Security alerts alias does not exist: .alerts-security.alerts-"+space)
	require.Contains(t, stderr, "Kibana creates it")
	code, _, stderr = runEsrule(t, backfillArgs...)
	require.NotZero(t, code)
	require.Contains(t, stderr, "the Kibana Security alerts alias does not exist")

	alias := kibanaAlertsIndex(t, c, space)
	code, stdout, stderr := runEsrule(t, "setup", "--alerts-target", "kibana", "--space", space, "--state-index", stateIndex, "--replicas", "0")
	require.Zero(t, code, "setup: %s %s", stdout, stderr)
	t.Logf("esrule setup --alerts-target kibana:\n%s", stdout)

	code, stdout, stderr = runEsrule(t, backfillArgs...)
	require.Zero(t, code, "backfill: %s\n%s", stdout, stderr)
	var summary struct {
		AlertsCreated int    `json:"alerts_created"`
		Status        string `json:"status"`
	}
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(stdout)), &summary), stdout)
	require.Equal(t, "succeeded", summary.Status)
	want := oracle.Alerts(start, end)
	require.Equal(t, len(want), summary.AlertsCreated, "every alert written, no mapping error")

	got := readDemoAlerts(t, c, alias, space, r.ID, slotsBetween(start, end))
	requireSameAlerts(t, want, got)

	// Every document in Kibana's index, none with ignored fields.
	hits := searchKibanaAlerts(t, c, alias, map[string]any{"term": map[string]any{"kibana.alert.rule.uuid": r.ID}}, nil, len(want)+1)
	require.Len(t, hits, len(want))
	ignored := searchKibanaAlerts(t, c, alias, map[string]any{"exists": map[string]any{"field": "_ignored"}}, nil, 10)
	require.Empty(t, ignored, "no alert field was ignored (malformed or above ignore_above)")
	for _, h := range hits {
		require.True(t, strings.HasPrefix(h.Index, ".internal.alerts-security.alerts-"+space), h.Index)
		require.Equal(t, h.ID, h.Fields["kibana.alert.uuid"][0], "_id is kibana.alert.uuid")
	}

	// The integ-test distribution has no GET /; the node info has the version.
	info, err := c.Nodes.Info(c.Nodes.Info.WithNodeID("_local"), c.Nodes.Info.WithFilterPath("nodes.*.version"))
	require.NoError(t, err)
	var nodes struct {
		Nodes map[string]struct{ Version string } `json:"nodes"`
	}
	require.NoError(t, json.NewDecoder(info.Body).Decode(&nodes))
	info.Body.Close()
	var version string
	for _, n := range nodes.Nodes {
		version = n.Version
	}
	require.NotEmpty(t, version)
	require.Equal(t, version, hits[0].Fields["kibana.version"][0], "kibana.version is the cluster's version")

	// The Alerts table's fields: filter with esrule's value, sort, render.
	types := fieldTypes(t, c, []string{alias})
	sample := hits[0]
	var table strings.Builder
	fmt.Fprintf(&table, "| field | Alerts table use | mapped type | filter with the value | sort | esrule's value (alert %s) |\n|---|---|---|---|---|---|\n", sample.ID[:12])
	for _, f := range alertsTableFields {
		values := sample.Fields[f.field]
		typ := strings.Join(types[f.field], ",")
		filter := "n/a (no value)"
		if len(values) > 0 {
			q := map[string]any{"bool": map[string]any{"filter": []any{
				map[string]any{"term": map[string]any{"_id": sample.ID}},
				map[string]any{"term": map[string]any{f.field: values[0]}},
			}}}
			if typ == "date" {
				q["bool"].(map[string]any)["filter"].([]any)[1] = map[string]any{"range": map[string]any{f.field: map[string]any{"gte": values[0], "lte": values[0]}}}
			}
			found := searchKibanaAlerts(t, c, alias, q, nil, 1)
			require.Len(t, found, 1, "filter %s = %v finds the alert", f.field, values[0])
			filter = "ok"
		}
		sortCheck := "n/a (not indexed)"
		if typ != "" && typ != "text" {
			sorted := searchKibanaAlerts(t, c, alias, map[string]any{"match_all": map[string]any{}},
				[]any{map[string]any{f.field: map[string]any{"order": "asc", "unmapped_type": "keyword"}}}, 3)
			require.NotEmpty(t, sorted, "sort by %s", f.field)
			sortCheck = "ok"
		}
		if typ == "" {
			typ = "(not in the alert)"
		}
		v := "(absent)"
		if len(values) > 0 {
			b, _ := json.Marshal(values)
			v = string(b)
			if len(v) > 90 {
				v = v[:87] + "..."
			}
		} else if src := sourceValue(sample.Source, f.field); src != nil {
			b, _ := json.Marshal(src)
			v = string(b) + " (in _source)"
		}
		fmt.Fprintf(&table, "| `%s` | %s | %s | %s | %s | `%s` |\n", f.field, f.use, typ, filter, sortCheck, v)
	}
	// Triage as Kibana does it (a partial update of the workflow fields; Kibana
	// uses update by query): accepted by the strict mapping, then filterable.
	triage := map[string]any{"doc": map[string]any{
		"kibana.alert.workflow_status":            "acknowledged",
		"kibana.alert.workflow_user":              "u_analyst",
		"kibana.alert.workflow_status_updated_at": time.Now().UTC().Format(time.RFC3339Nano),
		"kibana.alert.workflow_assignee_ids":      []any{"u_analyst"},
		"kibana.alert.workflow_tags":              []any{"false positive"},
	}}
	tb, err := json.Marshal(triage)
	require.NoError(t, err)
	ures, err := c.Update(sample.Index, sample.ID, bytes.NewReader(tb), c.Update.WithRefresh("true"))
	require.NoError(t, err)
	uraw, _ := io.ReadAll(ures.Body)
	ures.Body.Close()
	require.False(t, ures.IsError(), "triage update: %s", uraw)
	acked := searchKibanaAlerts(t, c, alias, map[string]any{"bool": map[string]any{"filter": []any{
		map[string]any{"term": map[string]any{"kibana.alert.workflow_status": "acknowledged"}},
		map[string]any{"term": map[string]any{"kibana.alert.workflow_assignee_ids": "u_analyst"}},
		map[string]any{"term": map[string]any{"kibana.alert.workflow_tags": "false positive"}},
	}}}, nil, 10)
	require.Len(t, acked, 1)
	require.Equal(t, sample.ID, acked[0].ID)

	t.Logf("Alerts table fields, %d alerts in %s (Elasticsearch %s):\n%s", len(hits), alias, version, table.String())
}

// sourceValue returns the value at a dotted path of a nested _source.
func sourceValue(src map[string]any, path string) any {
	if v, ok := src[path]; ok { // alerts hold kibana.* as dotted keys
		return v
	}
	var cur any = src
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

// kibanaHit is a search hit with its flattened fields.
type kibanaHit struct {
	Index  string           `json:"_index"`
	ID     string           `json:"_id"`
	Fields map[string][]any `json:"fields"`
	Source map[string]any   `json:"_source"`
}

// searchKibanaAlerts searches alias (hidden) with the fields API.
func searchKibanaAlerts(t *testing.T, c *elasticsearch.Client, alias string, query map[string]any, sort []any, size int) []kibanaHit {
	t.Helper()
	body := map[string]any{"query": query, "size": size, "fields": []any{"*"}, "_source": true}
	if sort != nil {
		body["sort"] = sort
	}
	b, err := json.Marshal(body)
	require.NoError(t, err)
	res, err := c.Search(c.Search.WithIndex(alias), c.Search.WithBody(bytes.NewReader(b)),
		c.Search.WithExpandWildcards("all"))
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.False(t, res.IsError(), "search %s: %s", alias, raw)
	var sr struct {
		Hits struct {
			Hits []kibanaHit `json:"hits"`
		} `json:"hits"`
	}
	require.NoError(t, json.Unmarshal(raw, &sr))
	return sr.Hits.Hits
}

// spaceRuleFile writes r as an NDJSON rule file whose space_id is space
// (as a rule exported from that Kibana space) and returns its path.
func spaceRuleFile(t *testing.T, r *rule.Rule, space string) string {
	t.Helper()
	rb, err := json.Marshal(r)
	require.NoError(t, err)
	var rm map[string]any
	require.NoError(t, json.Unmarshal(rb, &rm))
	rm["space_id"] = space
	rb, err = json.Marshal(rm)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "rule.ndjson")
	require.NoError(t, os.WriteFile(path, append(rb, '\n'), 0o600))
	return path
}
