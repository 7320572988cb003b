package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// A bulk request whose answer was lost (a 503 or a cut connection after
// Elasticsearch wrote it) is sent again by the client, and its alerts then
// answer 409 as if another execution had written them. For the 409s of a
// batch that was sent more than once (esclient.WithRetryNotice tells), Create
// reads the alerts back (a realtime multi-get of
// kibana.alert.rule.execution.uuid): an alert that carries the execution's
// own uuid was created by this call, and counts so. The uuid names the slot,
// not the attempt, so the check is limited to resent batches: a 409 of a
// first attempt is another execution's alert. This keeps the alerts counted
// as created equal to the alerts written.

// ownDuplicates returns the ids among dups (alerts answered 409) whose
// stored kibana.alert.rule.execution.uuid is the alert's own.
func (w *Writer) ownDuplicates(ctx context.Context, dups []Alert) ([]string, error) {
	want := make(map[string]string, len(dups))
	docs := make([]map[string]any, 0, len(dups))
	for _, a := range dups {
		uuid, _ := a.Doc[executionUUIDField].(string)
		if uuid == "" {
			continue
		}
		want[a.ID] = uuid
		docs = append(docs, map[string]any{"_id": a.ID, "_source": []string{executionUUIDField}})
	}
	if len(docs) == 0 {
		return nil, nil
	}
	body, err := json.Marshal(map[string]any{"docs": docs})
	if err != nil {
		return nil, fmt.Errorf("encode alert multi-get: %w", err)
	}
	res, err := esapi.MgetRequest{Index: w.cfg.Alias, Body: bytes.NewReader(body)}.Do(ctx, w.es)
	if err != nil {
		return nil, fmt.Errorf("read back duplicate alerts: %w", err)
	}
	raw, err := readBody(res.Body)
	if err != nil || res.StatusCode >= 300 {
		return nil, fmt.Errorf("read back duplicate alerts: status %d: %s", res.StatusCode, excerpt(raw))
	}
	var parsed struct {
		Docs []struct {
			ID     string         `json:"_id"`
			Found  bool           `json:"found"`
			Source map[string]any `json:"_source"`
		} `json:"docs"`
	}
	if err := json.Unmarshal(raw, &parsed); err != nil {
		return nil, fmt.Errorf("decode duplicate alerts: %w", err)
	}
	var own []string
	for _, d := range parsed.Docs {
		if !d.Found {
			continue
		}
		if uuid := stringAt(d.Source, executionUUIDField); uuid != "" && uuid == want[d.ID] {
			own = append(own, d.ID)
		}
	}
	return own, nil
}

// stringAt reads a dotted field from a source, flat or nested.
func stringAt(src map[string]any, field string) string {
	if v, ok := src[field].(string); ok {
		return v
	}
	for i := range len(field) {
		if field[i] != '.' {
			continue
		}
		if sub, ok := src[field[:i]].(map[string]any); ok {
			if v := stringAt(sub, field[i+1:]); v != "" {
				return v
			}
		}
	}
	return ""
}
