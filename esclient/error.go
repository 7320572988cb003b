package esclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/esrule/esrule/esquery"
)

// ErrResponseTooLarge means a response body exceeded Config.MaxResponseBytes.
// It matches esquery.ErrTooLarge, so that the executor halves its batch.
var ErrResponseTooLarge = fmt.Errorf("response too large: %w", esquery.ErrTooLarge)

// ErrTimedOut means Elasticsearch reported timed_out: the results may be
// partial and are not used (fail closed, docs/semantics.md D2).
var ErrTimedOut = errors.New("search timed out")

// ErrNotElasticsearch means the server answered without the
// X-Elastic-Product header: it is not Elasticsearch (or a proxy hides it).
var ErrNotElasticsearch = errors.New("the server is not Elasticsearch (no X-Elastic-Product: Elasticsearch header)")

// ShardFailure is one failed shard of a search.
type ShardFailure struct {
	Index  string
	Shard  int
	Type   string
	Reason string
}

// Error is a failure reported by Elasticsearch: an error status, or a 2xx
// search response with failed shards. It is the one error type for every
// Elasticsearch answer in esrule.
type Error struct {
	// Status is the HTTP status (0 for failed shards in a 2xx response).
	Status int
	// Type and Reason are Elasticsearch's error.type and error.reason.
	Type   string
	Reason string
	// Causes are the root causes and the caused_by chain, "type: reason" each.
	Causes []string
	// Shards are the failed shards, when the error reports them.
	Shards []ShardFailure
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Status != 0 {
		fmt.Fprintf(&b, "elasticsearch status %d", e.Status)
	} else {
		b.WriteString("elasticsearch")
	}
	switch {
	case e.Type != "":
		fmt.Fprintf(&b, ": %s: %s", e.Type, e.Reason)
	case e.Reason != "":
		fmt.Fprintf(&b, ": %s", e.Reason)
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

// Is lets callers classify an Error with esquery's sentinels:
// esquery.ErrTooLarge (a circuit breaker or too many buckets: halve the
// batch) and esquery.ErrTooManyClauses (the query is too big: halve the
// batch of combinations).
func (e *Error) Is(target error) bool {
	switch target {
	case esquery.ErrTooLarge:
		t := e.text()
		return strings.Contains(t, "circuit_breaking_exception") || strings.Contains(t, "too_many_buckets_exception")
	case esquery.ErrTooManyClauses:
		t := e.text()
		return strings.Contains(t, "too_many_clauses") ||
			strings.Contains(t, "too many nested clauses") ||
			strings.Contains(t, "Query contains too many nested clauses") ||
			strings.Contains(t, "failed to create query") ||
			strings.Contains(t, "maxClauseCount")
	}
	return false
}

// text is every type and reason of the error, for classification.
func (e *Error) text() string {
	parts := []string{e.Type, e.Reason}
	parts = append(parts, e.Causes...)
	for _, s := range e.Shards {
		parts = append(parts, s.Type, s.Reason)
	}
	return strings.Join(parts, "\n")
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

// DecodeError turns an Elasticsearch error body into an *Error; a body that
// is not an Elasticsearch error is quoted (shortened) as the reason.
func DecodeError(status int, body []byte) *Error {
	e := &Error{Status: status}
	var env struct {
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil || len(env.Error) == 0 {
		e.Reason = shorten(string(body))
		return e
	}
	var ec errorCause
	if err := json.Unmarshal(env.Error, &ec); err != nil {
		var s string
		if json.Unmarshal(env.Error, &s) == nil {
			e.Reason = s
		} else {
			e.Reason = shorten(string(env.Error))
		}
		return e
	}
	e.Type, e.Reason = ec.Type, ec.Reason
	for _, rc := range ec.RootCause {
		e.Causes = append(e.Causes, rc.Type+": "+rc.Reason)
	}
	for c := ec.CausedBy; c != nil; c = c.CausedBy {
		e.Causes = append(e.Causes, c.Type+": "+c.Reason)
	}
	for _, f := range ec.Failed {
		e.Shards = append(e.Shards, shardFailure(f))
	}
	return e
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

// StatusOf returns the HTTP status of an *Error in err's chain, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}
