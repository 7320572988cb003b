package esquery

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrResponseTooLarge means a response body exceeded RunnerConfig.MaxResponseBytes.
var ErrResponseTooLarge = errors.New("search response too large")

// ErrTimedOut means Elasticsearch reported timed_out: the results may be partial.
var ErrTimedOut = errors.New("search timed out")

// ShardFailure is one failed shard of a search.
type ShardFailure struct {
	Index  string
	Shard  int
	Type   string
	Reason string
}

// SearchError is an error response from Elasticsearch, or a 2xx response that
// reported failed shards. Nothing from such a response may be used (D2).
type SearchError struct {
	Status int
	Type   string
	Reason string
	// Causes are the root causes and caused_by chain, type and reason each.
	Causes []string
	Shards []ShardFailure
}

func (e *SearchError) Error() string {
	var b strings.Builder
	if e.Status != 0 {
		fmt.Fprintf(&b, "elasticsearch status %d", e.Status)
	} else {
		b.WriteString("elasticsearch")
	}
	if e.Type != "" || e.Reason != "" {
		fmt.Fprintf(&b, ": %s: %s", e.Type, e.Reason)
	}
	if len(e.Shards) > 0 {
		fmt.Fprintf(&b, "; %d shard failure(s):", len(e.Shards))
		for i, s := range e.Shards {
			if i == 3 {
				fmt.Fprintf(&b, " ... (%d more)", len(e.Shards)-3)
				break
			}
			fmt.Fprintf(&b, " [index %s shard %d] %s: %s;", s.Index, s.Shard, s.Type, s.Reason)
		}
	} else if len(e.Causes) > 0 && (len(e.Causes) > 1 || !strings.Contains(e.Causes[0], e.Reason)) {
		fmt.Fprintf(&b, " (caused by %s)", strings.Join(e.Causes, "; "))
	}
	return b.String()
}

// text is every type and reason of the error, for classification.
func (e *SearchError) text() string {
	parts := []string{e.Type, e.Reason}
	parts = append(parts, e.Causes...)
	for _, s := range e.Shards {
		parts = append(parts, s.Type, s.Reason)
	}
	return strings.Join(parts, "\n")
}

// IsTooLarge reports whether err means the response was or would be too big:
// the size limit, a circuit_breaking_exception or too_many_buckets_exception.
// The caller halves its batch and retries (D6).
func IsTooLarge(err error) bool {
	if errors.Is(err, ErrResponseTooLarge) {
		return true
	}
	var se *SearchError
	if errors.As(err, &se) {
		t := se.text()
		return strings.Contains(t, "circuit_breaking_exception") || strings.Contains(t, "too_many_buckets_exception")
	}
	return false
}

// IsTooManyClauses reports whether err is the error Kibana halves its
// multi-field batch on: too many (nested) clauses or "failed to create query".
func IsTooManyClauses(err error) bool {
	var se *SearchError
	if !errors.As(err, &se) {
		return false
	}
	t := se.text()
	return strings.Contains(t, "too_many_clauses") ||
		strings.Contains(t, "too many nested clauses") ||
		strings.Contains(t, "Query contains too many nested clauses") ||
		strings.Contains(t, "failed to create query") ||
		strings.Contains(t, "maxClauseCount")
}

type errorCause struct {
	Type      string          `json:"type"`
	Reason    string          `json:"reason"`
	RootCause []errorCause    `json:"root_cause"`
	CausedBy  *errorCause     `json:"caused_by"`
	Failed    []rawShardError `json:"failed_shards"`
}

type rawShardError struct {
	Index  string     `json:"index"`
	Shard  int        `json:"shard"`
	Reason errorCause `json:"reason"`
}

// decodeErrorBody turns an Elasticsearch error body into a SearchError; a body
// that is not an Elasticsearch error is quoted (shortened) as the reason.
func decodeErrorBody(status int, body []byte) *SearchError {
	se := &SearchError{Status: status}
	var env struct {
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil || len(env.Error) == 0 {
		se.Reason = shorten(string(body))
		return se
	}
	var ec errorCause
	if err := json.Unmarshal(env.Error, &ec); err != nil {
		var s string
		if json.Unmarshal(env.Error, &s) == nil {
			se.Reason = s
		} else {
			se.Reason = shorten(string(env.Error))
		}
		return se
	}
	se.Type, se.Reason = ec.Type, ec.Reason
	for _, rc := range ec.RootCause {
		se.Causes = append(se.Causes, rc.Type+": "+rc.Reason)
	}
	for c := ec.CausedBy; c != nil; c = c.CausedBy {
		se.Causes = append(se.Causes, c.Type+": "+c.Reason)
	}
	for _, f := range ec.Failed {
		se.Shards = append(se.Shards, shardFailure(f))
	}
	return se
}

func shardFailure(f rawShardError) ShardFailure {
	s := ShardFailure{Index: f.Index, Shard: f.Shard, Type: f.Reason.Type, Reason: f.Reason.Reason}
	for c := f.Reason.CausedBy; c != nil; c = c.CausedBy {
		s.Reason += " (caused by " + c.Type + ": " + c.Reason + ")"
	}
	return s
}

func shorten(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}
