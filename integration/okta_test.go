//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/demo"
	"github.com/esrule/esrule/mappings"
)

// oktaDemoIndices returns a generator config writing to unique indices that
// match the demo template's patterns (logs-okta.system-*, filebeat-*).
func oktaDemoConfig(t *testing.T, filebeat bool) demo.Config {
	t.Helper()
	cfg := demo.Config{
		Seed: 7, End: time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC), Days: 8, Users: 25,
		Scenarios: true, Filebeat: filebeat,
	}
	if filebeat {
		cfg.FilebeatPrefix = uniqueName(t, "filebeat-t")
	} else {
		cfg.Namespace = strings.TrimPrefix(uniqueName(t, "logs-okta.system-t"), "logs-okta.system-")
	}
	return cfg
}

func loadOktaDemo(t *testing.T, c *elasticsearch.Client, cfg demo.Config) (*demo.Generator, demo.LoadStats) {
	t.Helper()
	ctx := context.Background()
	zero := 0
	require.NoError(t, mappings.EnsureOktaDemo(ctx, c, &zero))
	g, err := demo.New(cfg)
	require.NoError(t, err)
	stats, err := demo.Load(ctx, c, g.Indices(), g.Each, demo.LoadConfig{Clock: time.Now})
	require.NoError(t, err)
	return g, stats
}

func TestIntegrationOktaDemoLoadsWithoutMappingConflicts(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := context.Background()
	for _, filebeat := range []bool{false, true} {
		t.Run(map[bool]string{false: "agent", true: "filebeat"}[filebeat], func(t *testing.T) {
			cfg := oktaDemoConfig(t, filebeat)
			g, stats := loadOktaDemo(t, c, cfg)
			want, err := g.Count()
			require.NoError(t, err)
			require.EqualValues(t, want, stats.Created, "every document created, none rejected")
			require.Zero(t, stats.Duplicates)
			t.Logf("%d docs in %s (%.0f docs/s)", stats.Created, stats.Elapsed, stats.DocsPerSecond())

			indices := g.Indices()
			require.Equal(t, int64(want), countDocs(t, c, indices, nil))

			// Field types as the Okta integration maps them; one type per field
			// across all indices (field_caps lists every type it found).
			types := fieldTypes(t, c, indices)
			for field, typ := range map[string]string{
				"@timestamp":                                 "date",
				"event.ingested":                             "date",
				"event.created":                              "date",
				"event.dataset":                              "keyword",
				"okta.actor.id":                              "keyword",
				"okta.event_type":                            "keyword",
				"okta.security_context.is_proxy":             "boolean",
				"okta.security_context.as.number":            "integer",
				"okta.client.ip":                             "ip",
				"source.ip":                                  "ip",
				"client.ip":                                  "ip",
				"related.ip":                                 "ip",
				"source.geo.location":                        "geo_point",
				"client.geo.location":                        "geo_point",
				"okta.request.ip_chain":                      "flattened",
				"okta.debug_context.debug_data.flattened":    "flattened",
				"okta.debug_context.debug_data.risk_reasons": "keyword",
				"okta.authentication_context.authentication_step": "integer",
				"okta.target.id": "keyword",
				"user.target.id": "keyword",
			} {
				require.Equal(t, []string{typ}, types[field], field)
			}
			for field, ts := range types {
				require.Len(t, ts, 1, "field %s has conflicting types %v", field, ts)
			}

			// The rule's query, evaluated by Elasticsearch on the mapped fields,
			// matches exactly the documents the oracle keeps.
			o := &demo.Oracle{}
			require.NoError(t, g.Each(o.Add))
			query := map[string]any{"bool": map[string]any{
				"filter": []any{
					map[string]any{"term": map[string]any{"event.dataset": "okta.system"}},
					map[string]any{"terms": map[string]any{"okta.event_type": []string{"user.session.start", "user.authentication.verify"}}},
					map[string]any{"term": map[string]any{"okta.security_context.is_proxy": true}},
				},
				"must_not": []any{map[string]any{"prefix": map[string]any{"okta.actor.id": "okta"}}},
			}}
			require.Equal(t, int64(o.Matches()), countDocs(t, c, indices, query))
			require.Positive(t, o.Matches())

			// Loading again creates nothing: the create action answers 409.
			again, err := demo.Load(ctx, c, indices, g.Each, demo.LoadConfig{})
			require.NoError(t, err)
			require.Zero(t, again.Created)
			require.EqualValues(t, want, again.Duplicates)
		})
	}
}

func TestIntegrationOktaDemoRestoresIndexSettings(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	cfg := oktaDemoConfig(t, false)
	cfg.Users, cfg.Scenarios = 3, false
	g, _ := loadOktaDemo(t, c, cfg)
	res, err := c.Indices.GetSettings(c.Indices.GetSettings.WithIndex(g.Indices()...), c.Indices.GetSettings.WithFlatSettings(true))
	require.NoError(t, err)
	defer res.Body.Close()
	require.False(t, res.IsError(), res.String())
	var body map[string]struct {
		Settings map[string]any `json:"settings"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
	for name, idx := range body {
		require.NotContains(t, idx.Settings, "index.refresh_interval", name)
		require.Equal(t, "0", idx.Settings["index.number_of_replicas"], name) // the demo template sets 0
	}
}

func countDocs(t *testing.T, c *elasticsearch.Client, indices []string, query map[string]any) int64 {
	t.Helper()
	body := map[string]any{}
	if query != nil {
		body["query"] = query
	}
	b, err := json.Marshal(body)
	require.NoError(t, err)
	res, err := c.Count(c.Count.WithIndex(indices...), c.Count.WithBody(strings.NewReader(string(b))))
	require.NoError(t, err)
	defer res.Body.Close()
	require.False(t, res.IsError(), res.String())
	var out struct {
		Count int64 `json:"count"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	return out.Count
}

// fieldTypes returns every field's types across indices (from _field_caps).
func fieldTypes(t *testing.T, c *elasticsearch.Client, indices []string) map[string][]string {
	t.Helper()
	res, err := c.FieldCaps(c.FieldCaps.WithIndex(indices...), c.FieldCaps.WithFields("*"))
	require.NoError(t, err)
	defer res.Body.Close()
	require.False(t, res.IsError(), res.String())
	var out struct {
		Fields map[string]map[string]json.RawMessage `json:"fields"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	types := map[string][]string{}
	for field, byType := range out.Fields {
		if strings.HasPrefix(field, "_") {
			continue
		}
		for typ := range byType {
			if typ == "object" || typ == "nested" {
				continue
			}
			types[field] = append(types[field], typ)
		}
	}
	return types
}
