package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

const executionUUIDField = "kibana.alert.rule.execution.uuid"

// Existing returns, for those ids that already exist behind the alias, their
// kibana.alert.rule.execution.uuid ("" when the document has none). It runs
// an ids query in chunks of 10,000 (Kibana's pre-check), after a refresh of
// the alias when this writer wrote without one; a missing alias or
// index means none exist. Failed requests are retried by the client
// (esclient's policy); an answer only this check can judge (partial results,
// an unreadable body) is asked again here, up to MaxRetries times.
func (w *Writer) Existing(ctx context.Context, ids []string) (map[string]string, error) {
	if err := w.refreshIfWritten(ctx); err != nil {
		return nil, fmt.Errorf("check existing alerts in %s: %w", w.cfg.Alias, err)
	}
	found := map[string]string{}
	for start := 0; start < len(ids); start += existingChunk {
		end := min(start+existingChunk, len(ids))
		if err := w.existingChunk(ctx, ids[start:end], found); err != nil {
			return nil, err
		}
	}
	return found, nil
}

func (w *Writer) existingChunk(ctx context.Context, ids []string, found map[string]string) error {
	body, err := json.Marshal(map[string]any{
		"query":            map[string]any{"ids": map[string]any{"values": ids}},
		"size":             len(ids),
		"_source":          []string{executionUUIDField},
		"track_total_hits": false,
	})
	if err != nil {
		return fmt.Errorf("encode alert ids query: %w", err)
	}
	var lastErr error
	for attempt := 0; attempt <= w.cfg.MaxRetries; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, w.cfg.Backoff(attempt)); err != nil {
				return fmt.Errorf("check existing alerts in %s: %w", w.cfg.Alias, err)
			}
		}
		retry, err := w.searchIDs(ctx, body, found)
		if err == nil {
			return nil
		}
		lastErr = err
		if !retry || ctx.Err() != nil {
			break
		}
		w.cfg.Logger.Warn().Err(err).Int("attempt", attempt+1).Msg("retrying existing-alerts check")
	}
	return fmt.Errorf("check existing alerts in %s: %w", w.cfg.Alias, lastErr)
}

// searchIDs runs one ids search; retry says whether a failure is transient.
func (w *Writer) searchIDs(ctx context.Context, body []byte, found map[string]string) (retry bool, err error) {
	yes := true
	res, err := esapi.SearchRequest{
		Index: []string{w.cfg.Alias}, Body: bytes.NewReader(body), IgnoreUnavailable: &yes, AllowNoIndices: &yes,
	}.Do(ctx, w.es)
	if err != nil {
		return false, err // the client has retried
	}
	raw, readErr := readBody(res.Body)
	// With ignore_unavailable and allow_no_indices a missing alias is an empty
	// 200 answer; any error status (a 404 too, e.g. from a proxy) must fail
	// closed, since "nothing exists" would re-create and re-count alerts.
	if res.StatusCode >= 300 {
		return false, fmt.Errorf("status %d: %s", res.StatusCode, excerpt(raw)) // the client has retried
	}
	if readErr != nil {
		return true, readErr
	}
	return parseIDHits(res, raw, found)
}

func parseIDHits(res *esapi.Response, raw []byte, found map[string]string) (bool, error) {
	var parsed struct {
		TimedOut bool `json:"timed_out"`
		Shards   struct {
			Failed int `json:"failed"`
		} `json:"_shards"`
		Hits *struct {
			Hits []struct {
				ID     string         `json:"_id"`
				Source map[string]any `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(raw, &parsed); err != nil {
		return true, fmt.Errorf("decode response (status %d): %w: %s", res.StatusCode, err, excerpt(raw))
	}
	if parsed.Hits == nil {
		return false, fmt.Errorf("response without hits (status %d): %s", res.StatusCode, excerpt(raw))
	}
	if parsed.TimedOut || parsed.Shards.Failed > 0 {
		// A partial answer could hide existing alerts.
		return true, fmt.Errorf("partial result: timed_out=%t, %d shard failures", parsed.TimedOut, parsed.Shards.Failed)
	}
	for _, h := range parsed.Hits.Hits {
		uuid, _ := lodashGet(h.Source, executionUUIDField).(string)
		found[h.ID] = uuid
	}
	return false, nil
}
