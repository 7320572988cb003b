//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/rule"
)

// TestIntegrationAlertsWriter writes built alerts through a write alias, then
// writes them again (all duplicates) and finds them with Existing.
func TestIntegrationAlertsWriter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClient(t)
	index := uniqueName(t, "esrule-it-alerts")
	alias := index + "-alias"

	res, err := c.Indices.Create(index, c.Indices.Create.WithContext(ctx), c.Indices.Create.WithBody(strings.NewReader(`{
		"settings": {"number_of_shards": 1, "number_of_replicas": 0},
		"aliases": {"`+alias+`": {"is_write_index": true}},
		"mappings": {"dynamic": false, "properties": {
			"@timestamp": {"type": "date"},
			"kibana.alert.uuid": {"type": "keyword"},
			"kibana.alert.rule.execution.uuid": {"type": "keyword"},
			"kibana.alert.new_terms": {"type": "keyword"}
		}}
	}`)))
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.False(t, res.IsError(), string(body))

	r := rule.Builtin()
	now := time.Date(2024, 5, 13, 2, 20, 0, 0, time.UTC)
	exec := alerts.ExecutionUUID("default", r.SavedObjectID(), now)
	var batch []alerts.Alert
	for i := 0; i < 25; i++ {
		actor := fmt.Sprintf("00u%04d", i)
		var source map[string]any
		require.NoError(t, json.Unmarshal([]byte(`{
			"@timestamp": "2024-05-13T02:14:09.118Z",
			"event": {"kind": "event", "category": ["authentication"], "action": "user.session.start"},
			"data_stream": {"type": "logs", "dataset": "okta.system", "namespace": "default"},
			"okta": {"actor": {"id": "`+actor+`"}, "security_context": {"is_proxy": true}},
			"source": {"ip": "203.0.113.77", "port": 443},
			"user": {"name": "dana.hale@example.com"}
		}`), &source))
		a, err := alerts.Build(r, alerts.Hit{Index: ".ds-logs-okta.system-default-2024.05.13-000001", ID: fmt.Sprintf("doc-%d", i), Source: source},
			[]any{actor}, alerts.BuildOptions{Now: now, ExecutionUUID: exec, KibanaVersion: "8.19.0"})
		require.NoError(t, err)
		batch = append(batch, a)
	}
	ids := make([]string, len(batch))
	for i, a := range batch {
		ids[i] = a.ID
	}

	// Small bodies force several bulk requests (each alert is about 6 KB).
	w := alerts.NewWriter(c, alerts.WriterConfig{Alias: alias, Refresh: "true", MaxBodyBytes: 64 << 10, Logger: zerolog.Nop()})

	existing, err := w.Existing(ctx, ids)
	require.NoError(t, err)
	require.Empty(t, existing)

	missing := alerts.NewWriter(c, alerts.WriterConfig{Alias: index + "-does-not-exist"})
	none, err := missing.Existing(ctx, ids)
	require.NoError(t, err, "a missing alias means no alert exists")
	require.Empty(t, none)

	first, err := w.Create(ctx, batch)
	require.NoError(t, err)
	require.Equal(t, len(batch), first.Created)
	require.Zero(t, first.Duplicate)
	require.ElementsMatch(t, ids, first.CreatedIDs)

	again, err := w.Create(ctx, batch)
	require.NoError(t, err)
	require.Zero(t, again.Created)
	require.Equal(t, len(batch), again.Duplicate)

	existing, err = w.Existing(ctx, append(ids, "no-such-alert"))
	require.NoError(t, err)
	require.Len(t, existing, len(batch))
	for _, id := range ids {
		require.Equal(t, exec, existing[id])
	}

	// The stored document is the built one, under the hash id.
	got, err := c.Get(index, ids[0], c.Get.WithContext(ctx))
	require.NoError(t, err)
	defer got.Body.Close()
	var doc struct {
		Source map[string]any `json:"_source"`
	}
	require.NoError(t, json.NewDecoder(got.Body).Decode(&doc))
	require.Equal(t, "signal", doc.Source["event.kind"])
	require.Equal(t, ids[0], doc.Source["kibana.alert.uuid"])
	require.Equal(t, "event", doc.Source["kibana.alert.original_event.kind"])

	// A document Elasticsearch rejects is a permanent failure, reported per alert.
	bad := alerts.Alert{ID: "bad-doc", Doc: map[string]any{"@timestamp": "not a date"}}
	res2, err := w.Create(ctx, append([]alerts.Alert{bad}, batch[0]))
	var be *alerts.BulkError
	require.ErrorAs(t, err, &be)
	require.Len(t, be.Failed, 1)
	require.Equal(t, "bad-doc", be.Failed[0].ID)
	require.Equal(t, 400, be.Failed[0].Status)
	require.Equal(t, 1, res2.Duplicate)
}
