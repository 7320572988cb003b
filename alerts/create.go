package alerts

import (
	"bytes"
	"context"
	"fmt"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	json "github.com/goccy/go-json"

	"github.com/esrule/esrule/esclient"
)

// pendingAlert is one alert's NDJSON lines (action and document).
type pendingAlert struct {
	id    string
	lines []byte
}

// outcome of one item in one bulk attempt.
type outcome int

const (
	outcomeCreated outcome = iota
	outcomeDuplicate
	outcomeRetry
	outcomeFailed
)

type itemResult struct {
	outcome outcome
	err     ItemError
	// lost: the answer to the request never came or was unreadable, so the
	// item may have been applied.
	lost bool
}

// Create writes alerts with one `create` action each, so that an existing _id
// answers 409 and counts as a duplicate. Items the bulk API rejected with 429
// or 5xx (and every item of an unreadable response) are retried with backoff
// up to MaxRetries times; a failed request is retried by the client
// (esclient's policy), not here; other failures are permanent. Bodies are
// split to stay under MaxBodyBytes. The error is a *BulkError listing every
// alert that was not written, or the context's error.
func (w *Writer) Create(ctx context.Context, alerts []Alert) (WriteResult, error) {
	var res WriteResult
	var failed []ItemError
	var lost []string // failed, but perhaps applied (unconfirmed.go)
	var dups []Alert
	byID := make(map[string]Alert, len(alerts))
	for _, a := range alerts {
		byID[a.ID] = a
	}
	items := make([]pendingAlert, 0, len(alerts))
	for _, a := range alerts {
		doc, err := json.Marshal(a.Doc)
		if err != nil {
			failed = append(failed, ItemError{ID: a.ID, Type: "encode_error", Reason: err.Error()})
			continue
		}
		action, _ := json.Marshal(map[string]any{"create": map[string]string{"_index": w.cfg.Alias, "_id": a.ID}})
		lines := make([]byte, 0, len(action)+len(doc)+2)
		lines = append(append(append(append(lines, action...), '\n'), doc...), '\n')
		items = append(items, pendingAlert{id: a.ID, lines: lines})
	}

	for attempt := 0; len(items) > 0; attempt++ {
		if attempt > 0 {
			wait := w.cfg.Backoff(attempt)
			w.cfg.Logger.Warn().Int("alerts", len(items)).Int("attempt", attempt).Int64("backoff_ms", wait.Milliseconds()).
				Str("alias", w.cfg.Alias).Msg("retrying alert writes")
			if err := sleep(ctx, wait); err != nil {
				return res, fmt.Errorf("write alerts: %d of %d not written: %w", len(items)+len(failed), len(alerts), err)
			}
		}
		var retry []pendingAlert
		var lastRetry []itemResult
		for _, batch := range splitBatches(items, w.cfg.MaxBodyBytes) {
			// A batch sent again (by the client, or by this loop after an
			// unreadable answer) may have been applied before: its 409s
			// are checked against this execution's uuid (own.go).
			resent := attempt > 0
			results := w.bulk(esclient.WithRetryNotice(ctx, func() { resent = true }), batch)
			for i, r := range results {
				switch r.outcome {
				case outcomeCreated:
					res.Created++
					res.CreatedIDs = append(res.CreatedIDs, batch[i].id)
				case outcomeDuplicate:
					res.Duplicate++
					if resent {
						dups = append(dups, byID[batch[i].id])
					}
				case outcomeRetry:
					retry = append(retry, batch[i])
					lastRetry = append(lastRetry, r)
				case outcomeFailed:
					failed = append(failed, r.err)
					if r.lost {
						lost = append(lost, batch[i].id)
					}
				}
			}
		}
		if len(retry) > 0 && (attempt >= w.cfg.MaxRetries || ctx.Err() != nil) {
			for i, r := range lastRetry {
				failed = append(failed, r.err)
				if r.lost {
					lost = append(lost, retry[i].id)
				}
			}
			retry = nil
		}
		items = retry
	}
	if len(dups) > 0 && ctx.Err() == nil {
		// See own.go: 409s of this call's own lost answers count as created.
		own, err := w.ownDuplicates(ctx, dups)
		if err != nil {
			w.cfg.Logger.Debug().Err(err).Msg("cannot read back duplicate alerts; counting them as duplicates")
		}
		res.Created += len(own)
		res.Duplicate -= len(own)
		res.CreatedIDs = append(res.CreatedIDs, own...)
	}
	w.unconfirmed.claim(res.CreatedIDs) // confirmed now
	w.unconfirmed.add(lost)
	if err := ctx.Err(); err != nil && len(failed) > 0 {
		return res, fmt.Errorf("write alerts: %d of %d not written: %w", len(failed), len(alerts), err)
	}
	if len(failed) > 0 {
		return res, &BulkError{Total: len(alerts), Failed: failed}
	}
	return res, nil
}

// splitBatches groups items into bodies of at most maxBytes (an item larger
// than that goes alone).
func splitBatches(items []pendingAlert, maxBytes int) [][]pendingAlert {
	var batches [][]pendingAlert
	start, size := 0, 0
	for i, it := range items {
		if i > start && size+len(it.lines) > maxBytes {
			batches = append(batches, items[start:i])
			start, size = i, 0
		}
		size += len(it.lines)
	}
	if start < len(items) {
		batches = append(batches, items[start:])
	}
	return batches
}

// bulk sends one _bulk request and classifies each item.
func (w *Writer) bulk(ctx context.Context, batch []pendingAlert) []itemResult {
	var body bytes.Buffer
	for _, it := range batch {
		body.Write(it.lines)
	}
	all := func(o outcome, status int, typ, reason string) []itemResult {
		lost := status == 0 || status >= 500 || o == outcomeRetry
		out := make([]itemResult, len(batch))
		for i, it := range batch {
			out[i] = itemResult{o, ItemError{ID: it.id, Status: status, Type: typ, Reason: reason}, lost}
		}
		return out
	}
	w.markWritten()
	res, err := esapi.BulkRequest{Index: w.cfg.Alias, Body: bytes.NewReader(body.Bytes()), Refresh: w.cfg.Refresh}.Do(ctx, w.es)
	if err != nil {
		return all(outcomeFailed, 0, "transport_error", err.Error())
	}
	raw, readErr := readBody(res.Body)
	if res.StatusCode >= 300 {
		typ, reason := "http_error", excerpt(raw)
		var e struct{ Error json.RawMessage }
		if json.Unmarshal(raw, &e) == nil && len(e.Error) > 0 {
			if t, r := errorCause(e.Error); t != "" {
				typ, reason = t, r
			}
		}
		return all(outcomeFailed, res.StatusCode, typ, reason)
	}
	if readErr != nil {
		return all(outcomeRetry, res.StatusCode, "read_error", readErr.Error())
	}
	var parsed struct {
		Items []map[string]struct {
			ID     string          `json:"_id"`
			Status int             `json:"status"`
			Error  json.RawMessage `json:"error"`
		} `json:"items"`
	}
	if err := json.Unmarshal(raw, &parsed); err != nil {
		return all(outcomeRetry, res.StatusCode, "unreadable_response", fmt.Sprintf("%v: %s", err, excerpt(raw)))
	}
	if len(parsed.Items) != len(batch) {
		return all(outcomeRetry, res.StatusCode, "unreadable_response",
			fmt.Sprintf("%v: %d items for %d alerts", errNoItems, len(parsed.Items), len(batch)))
	}
	out := make([]itemResult, len(batch))
	for i, item := range parsed.Items {
		var status int
		var cause json.RawMessage
		for _, v := range item { // one key: the action name
			status, cause = v.Status, v.Error
		}
		e := ItemError{ID: batch[i].id, Status: status}
		e.Type, e.Reason = errorCause(cause)
		switch {
		case status == 200 || status == 201:
			out[i] = itemResult{outcome: outcomeCreated}
		case status == 409:
			out[i] = itemResult{outcome: outcomeDuplicate}
		case retryableStatus(status):
			out[i] = itemResult{outcome: outcomeRetry, err: e}
		default:
			out[i] = itemResult{outcome: outcomeFailed, err: e}
		}
	}
	return out
}
