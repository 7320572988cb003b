//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/kql"
)

// kqlFixtureMapping covers the field kinds the translator distinguishes:
// keyword, text with a .keyword multi-field, boolean, date, long, ip, nested.
const kqlFixtureMapping = `{"mappings":{"dynamic":"strict","properties":{
  "@timestamp":{"type":"date"},
  "event":{"properties":{"dataset":{"type":"keyword"}}},
  "okta":{"properties":{"event_type":{"type":"keyword"},"actor":{"properties":{"id":{"type":"keyword"}}},
          "security_context":{"properties":{"is_proxy":{"type":"boolean"}}}}},
  "message":{"type":"text","fields":{"keyword":{"type":"keyword"}}},
  "process":{"properties":{"name":{"type":"keyword"}}},
  "host":{"properties":{"name":{"type":"keyword"},"os":{"properties":{"name":{"type":"keyword"}}}}},
  "destination":{"properties":{"port":{"type":"long"}}},
  "source":{"properties":{"ip":{"type":"ip"}}},
  "threat":{"properties":{"enrichments":{"type":"nested","properties":{
     "matched":{"properties":{"field":{"type":"keyword"}}},
     "indicator":{"properties":{"ip":{"type":"ip"}}}}}}}
}}}`

// kqlFixtureDocs by id.
var kqlFixtureDocs = map[string]string{
	"d1": `{"@timestamp":"2024-01-01T10:00:00Z","event":{"dataset":"okta.system"},"okta":{"event_type":"user.session.start","actor":{"id":"00u1abc"},"security_context":{"is_proxy":true}},
	        "message":"hello world","process":{"name":"cmd exe"},"host":{"name":"web01"},"destination":{"port":443},"source":{"ip":"10.0.0.1"}}`,
	"d2": `{"@timestamp":"2024-01-02T00:30:00Z","event":{"dataset":"okta.system"},"okta":{"event_type":"user.authentication.verify","actor":{"id":"00u2def"},"security_context":{"is_proxy":true}},
	        "message":"world peace","process":{"name":"xcmd"},"destination":{"port":1500},"source":{"ip":"192.168.1.1"}}`,
	"d3": `{"@timestamp":"2023-12-31T23:59:59Z","event":{"dataset":"okta.system"},"okta":{"event_type":"user.session.start","actor":{"id":"00u3ghi"},"security_context":{"is_proxy":false}},
	        "message":"goodbye","process":{"name":"exe.bat"},"host":{"os":{"name":"web01"}},"destination":{"port":2048}}`,
	"d4": `{"@timestamp":"2024-01-03T00:00:00Z","event":{"dataset":"okta.system"},"okta":{"event_type":"user.session.start","actor":{"id":"okta_system"},"security_context":{"is_proxy":true}}}`,
	"d5": `{"@timestamp":"2024-01-03T00:00:00Z","event":{"dataset":"okta.other"},"okta":{"event_type":"user.session.start","actor":{"id":"00u5"},"security_context":{"is_proxy":true}},
	        "message":"ran powershell"}`,
	"d6": `{"@timestamp":"2024-01-03T00:00:00Z","event":{"dataset":"okta.system"},"okta":{"event_type":"user.session.end","actor":{"id":"00u6"},"security_context":{"is_proxy":true}}}`,
	"d7": `{"@timestamp":"2024-01-04T00:00:00Z","threat":{"enrichments":[{"matched":{"field":"source.ip"},"indicator":{"ip":"10.0.0.1"}},{"matched":{"field":"url"},"indicator":{"ip":"10.9.9.9"}}]}}`,
	"d8": `{"@timestamp":"2024-01-04T00:00:00Z","threat":{"enrichments":[{"matched":{"field":"source.ip"},"indicator":{"ip":"10.9.9.9"}},{"matched":{"field":"url"},"indicator":{"ip":"10.0.0.1"}}]}}`,
}

const kqlOktaRuleQuery = `event.dataset:okta.system and okta.event_type: (user.session.start or user.authentication.verify) and okta.security_context.is_proxy:true and not okta.actor.id: okta*`

func createKQLFixture(t *testing.T, c *elasticsearch.Client) string {
	t.Helper()
	index := uniqueName(t, "esrule-kql")
	res, err := c.Indices.Create(index, c.Indices.Create.WithBody(strings.NewReader(kqlFixtureMapping)))
	require.NoError(t, err)
	defer res.Body.Close()
	require.False(t, res.IsError(), res.String())
	var body strings.Builder
	for id, doc := range kqlFixtureDocs {
		body.WriteString(`{"index":{"_id":"` + id + `"}}` + "\n")
		body.WriteString(strings.Join(strings.Fields(doc), " ") + "\n")
	}
	bres, err := c.Bulk(strings.NewReader(body.String()), c.Bulk.WithIndex(index), c.Bulk.WithRefresh("true"))
	require.NoError(t, err)
	defer bres.Body.Close()
	var br struct {
		Errors bool `json:"errors"`
	}
	require.NoError(t, json.NewDecoder(bres.Body).Decode(&br))
	require.False(t, br.Errors, "bulk index fixture")
	return index
}

// kqlHits runs the query as the detection engine would (buildEsQuery
// wrapper) and returns the sorted ids of the hits.
func kqlHits(t *testing.T, c *elasticsearch.Client, index string, query map[string]any) []string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"query": query, "size": 100, "_source": false})
	require.NoError(t, err)
	res, err := c.Search(c.Search.WithIndex(index), c.Search.WithBody(strings.NewReader(string(b))))
	require.NoError(t, err)
	defer res.Body.Close()
	require.False(t, res.IsError(), "search %s: %s", b, res.String())
	var sr struct {
		Hits struct {
			Hits []struct {
				ID string `json:"_id"`
			} `json:"hits"`
		} `json:"hits"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&sr))
	ids := []string{}
	for _, h := range sr.Hits.Hits {
		ids = append(ids, h.ID)
	}
	slices.Sort(ids)
	return ids
}

// typedOptions loads field specs for the query's fields from the fixture, as
// the detection engine does since 8.15.
func typedOptions(t *testing.T, c *elasticsearch.Client, index, query string) kql.Options {
	t.Helper()
	n, err := kql.Parse(query)
	require.NoError(t, err)
	fields, err := esclient.FieldCaps(context.Background(), c, []string{index}, kql.FieldNames(n))
	require.NoError(t, err)
	return kql.DetectionEngine(fields)
}

func TestIntegrationKQLHits(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	index := createKQLFixture(t, c)

	tests := []struct {
		name    string
		query   string
		typed   []string
		untyped []string
	}{
		{"okta rule", kqlOktaRuleQuery, []string{"d1", "d2"}, []string{"d1", "d2"}},
		{"text match is OR of tokens", `message:hello world`, []string{"d1", "d2"}, []string{"d1", "d2"}},
		{"phrase", `message:"hello world"`, []string{"d1"}, []string{"d1"}},
		{"multi-field keyword exact", `message.keyword:hello world`, []string{"d1"}, []string{"d1"}},
		{"keyword wildcard with space: wildcard vs query_string split", `process.name:*cmd exe*`, []string{"d1"}, []string{"d2", "d3"}},
		{"keyword trailing wildcard", `process.name:cmd*`, []string{"d1"}, []string{"d1"}},
		{"date equality covers the whole day", `@timestamp:"2024-01-01"`, []string{"d1"}, []string{"d1"}},
		{"date range with time_zone", `@timestamp >= "2024-01-03" and @timestamp < "2024-01-04"`, []string{"d4", "d5", "d6"}, []string{"d4", "d5", "d6"}},
		{"numeric range with string bounds", `destination.port >= 1024 and destination.port < 2048`, []string{"d2"}, []string{"d2"}},
		{"ip CIDR", `source.ip:10.0.0.0/8`, []string{"d1"}, []string{"d1"}},
		{"boolean", `okta.security_context.is_proxy:false`, []string{"d3"}, []string{"d3"}},
		{"exists", `host.name:*`, []string{"d1"}, []string{"d1"}},
		{"not exists", `not okta.actor.id:*`, []string{"d7", "d8"}, []string{"d7", "d8"}},
		{"wildcard field name expands only when typed", `host.*:web01`, []string{"d1", "d3"}, []string{}},
		{"nested group", `threat.enrichments:{ matched.field:"source.ip" and indicator.ip:10.0.0.1 }`, []string{"d7"}, []string{"d7"}},
		{"wildcard name auto-wraps nested when typed", `threat.*.matched.field:url`, []string{"d7", "d8"}, []string{}},
		{"value list with not", `okta.event_type:(user.session.start and not user.session.end)`, []string{"d1", "d3", "d4", "d5"}, []string{"d1", "d3", "d4", "d5"}},
		{"unfielded term", `powershell`, []string{"d5"}, []string{"d5"}},
		{"empty query matches all", ``, []string{"d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8"}, []string{"d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typed, err := kql.BuildEsQuery(tt.query, typedOptions(t, c, index, tt.query))
			require.NoError(t, err)
			require.Equal(t, tt.typed, kqlHits(t, c, index, typed), "typed DSL %v", typed)

			untyped, err := kql.BuildEsQuery(tt.query, kql.DetectionEngine(nil))
			require.NoError(t, err)
			require.Equal(t, tt.untyped, kqlHits(t, c, index, untyped), "untyped DSL %v", untyped)
		})
	}
}

func TestIntegrationKQLFieldCaps(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	index := createKQLFixture(t, c)

	fields, err := esclient.FieldCaps(context.Background(), c, []string{index, "esrule-kql-missing-*"},
		[]string{"message*", "threat.*", "okta.security_context.is_proxy", "@timestamp", "nope"})
	require.NoError(t, err)
	require.Equal(t, []kql.FieldSpec{
		{Name: "@timestamp", Type: "date", ESTypes: []string{"date"}},
		{Name: "message", Type: "string", ESTypes: []string{"text"}},
		{Name: "message.keyword", Type: "string", ESTypes: []string{"keyword"}, MultiParent: "message"},
		{Name: "okta.security_context.is_proxy", Type: "boolean", ESTypes: []string{"boolean"}},
		{Name: "threat.enrichments.indicator.ip", Type: "ip", ESTypes: []string{"ip"}, NestedPath: "threat.enrichments"},
		{Name: "threat.enrichments.matched.field", Type: "string", ESTypes: []string{"keyword"}, NestedPath: "threat.enrichments"},
	}, fields)

	// A nested field outside its group is rejected in typed mode, naming it.
	q := `threat.enrichments.matched.field:url`
	_, err = kql.BuildEsQuery(q, typedOptions(t, c, index, q))
	var ne *kql.NestedFieldError
	require.True(t, errors.As(err, &ne), "%v", err)
	require.Equal(t, "threat.enrichments.matched.field", ne.Field)
}
