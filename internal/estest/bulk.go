package estest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// BulkAction is one action line of a _bulk request.
type BulkAction struct {
	Op, Index, ID string
	Source        json.RawMessage // the document line (nil for delete)
}

// BulkActions parses the NDJSON body of a _bulk request.
func BulkActions(body []byte) ([]BulkAction, error) {
	var out []BulkAction
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var line map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || len(line) != 1 {
			return nil, fmt.Errorf("estest: bulk action line %q: not one action", sc.Text())
		}
		for op, meta := range line {
			a := BulkAction{Op: op, Index: meta.Index, ID: meta.ID}
			if op != "delete" {
				if !sc.Scan() {
					return nil, fmt.Errorf("estest: bulk %s of %s lacks its document", op, meta.ID)
				}
				a.Source = json.RawMessage(bytes.Clone(sc.Bytes()))
			}
			out = append(out, a)
		}
	}
	return out, sc.Err()
}

// Bulk answers a _bulk request item by item with the status status gives
// each action (2xx: done; otherwise an error of the type Elasticsearch uses
// for that status: 409 version_conflict_engine_exception, 429
// es_rejected_execution_exception, 400 document_parsing_exception).
func Bulk(status func(i int, a BulkAction) int) Reply {
	return Compute(func(req Request) Reply {
		actions, err := BulkActions(req.Body)
		if err != nil {
			return Error(http.StatusBadRequest, "illegal_argument_exception", err.Error())
		}
		items := make([]any, len(actions))
		errors := false
		for i, a := range actions {
			st := status(i, a)
			item := map[string]any{"_index": a.Index, "_id": a.ID, "status": st}
			if st >= 300 {
				errors = true
				kind, reason := bulkError(st)
				item["error"] = map[string]any{"type": kind, "reason": reason}
			}
			items[i] = map[string]any{a.Op: item}
		}
		return Value(http.StatusOK, map[string]any{"took": 1, "errors": errors, "items": items})
	})
}

// BulkStatuses answers a _bulk request with one status per item, in order;
// a request with another number of items gets a transport error.
func BulkStatuses(statuses ...int) Reply {
	return Compute(func(req Request) Reply {
		actions, err := BulkActions(req.Body)
		if err != nil {
			return Fail(err)
		}
		if len(actions) != len(statuses) {
			return Fail(fmt.Errorf("estest: %d bulk items, %d statuses", len(actions), len(statuses)))
		}
		return Bulk(func(i int, _ BulkAction) int { return statuses[i] }).compute(req)
	})
}

func bulkError(status int) (kind, reason string) {
	switch status {
	case http.StatusConflict:
		return "version_conflict_engine_exception", "document already exists"
	case http.StatusTooManyRequests:
		return "es_rejected_execution_exception", "rejected execution of coordinating operation"
	case http.StatusBadRequest:
		return "document_parsing_exception", "failed to parse"
	}
	return fmt.Sprintf("err_%d", status), fmt.Sprintf("status %d", status)
}
