// Package esquery is the query codec of the detection phases: it builds the
// request bodies of every phase (shared by the executor and backfill) and
// decodes their responses. It does no I/O; esclient sends the requests.
package esquery

import (
	"encoding/json"
	"errors"
)

// ErrTooLarge means a response was, or would be, too big: the response size
// limit, a circuit breaker or too many buckets. The caller halves its batch
// and retries (docs/semantics.md D6). Errors of esclient match it with
// errors.Is.
var ErrTooLarge = errors.New("response too large")

// ErrTooManyClauses means a query had too many (nested) clauses, the error
// Kibana halves its multi-field batch on. Errors of esclient match it with
// errors.Is.
var ErrTooManyClauses = errors.New("query has too many clauses")

// Response is the part of a successful search response the phases use.
type Response struct {
	// Took is Elasticsearch's "took" in milliseconds.
	Took int64
	// Shards is _shards.total (0 when no index matched).
	Shards int
	// TotalHits is hits.total.value, or -1 when not tracked.
	TotalHits int64
	// Aggregations is the raw "aggregations" object (nil when absent).
	Aggregations json.RawMessage
}
