package esclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	json "github.com/goccy/go-json"

	"github.com/esrule/esrule/esquery"
)

// envelopePaths are the response paths the fail-closed checks read; a
// filtered search always keeps them.
var envelopePaths = []string{"took", "timed_out", "_shards", "hits.total"}

// Search runs one search over indices with body (a JSON request body), with
// the response cut to filterPath (e.g. "aggregations.esrule.buckets.key")
// besides the envelope when filterPath is not empty. Elasticsearch drops
// empty objects and arrays from a filtered response, so an empty
// aggregation may be absent.
//
// The request carries ignore_unavailable, allow_no_indices and
// allow_partial_search_results=false, and the search fails closed
// (docs/semantics.md D2): an error status, a failed shard or a timed-out
// search is an error, and nothing of the response is returned.
// It logs one Debug line with a hash of the body, never the body.
func (c *Client) Search(ctx context.Context, indices []string, body []byte, filterPath []string) (esquery.Response, error) {
	resp, err := Search(ctx, c, indices, body, filterPath)
	ev := c.cfg.Logger.Debug()
	if !ev.Enabled() {
		return resp, err
	}
	sum := sha256.Sum256(body)
	ev = ev.Str("query_hash", hex.EncodeToString(sum[:8])).Strs("indices", indices).Int("body_bytes", len(body))
	if err != nil {
		ev.Err(err).Msg("search")
	} else {
		ev.Int64("es_took_ms", resp.Took).Msg("search")
	}
	return resp, err
}

// Search is Client.Search over any transport.
func Search(ctx context.Context, t esapi.Transport, indices []string, body []byte, filterPath []string) (esquery.Response, error) {
	yes, no := true, false
	req := esapi.SearchRequest{
		Index:                     PathIndices(indices),
		Body:                      bytes.NewReader(body),
		IgnoreUnavailable:         &yes,
		AllowNoIndices:            &yes,
		AllowPartialSearchResults: &no,
	}
	if len(filterPath) > 0 {
		req.FilterPath = append(append([]string{}, envelopePaths...), filterPath...)
	}
	r, err := Call(ctx, t, req)
	if err != nil {
		sum := sha256.Sum256(body)
		return esquery.Response{}, fmt.Errorf("search %v (query %s): %w", indices, hex.EncodeToString(sum[:8]), err)
	}
	resp, err := decodeSearch(r.Body)
	if err != nil {
		return esquery.Response{}, fmt.Errorf("search %v: %w", indices, err)
	}
	return resp, nil
}

type searchEnvelope struct {
	Took     *int64 `json:"took"`
	TimedOut bool   `json:"timed_out"`
	Shards   *struct {
		Total    int             `json:"total"`
		Failed   int             `json:"failed"`
		Failures []rawShardError `json:"failures"`
	} `json:"_shards"`
	Hits struct {
		Total *struct {
			Value int64 `json:"value"`
		} `json:"total"`
	} `json:"hits"`
	Aggregations json.RawMessage `json:"aggregations"`
}

// decodeSearch decodes a 2xx search body and applies the fail-closed checks.
func decodeSearch(data []byte) (esquery.Response, error) {
	var env searchEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return esquery.Response{}, fmt.Errorf("decode search response (%d bytes): %w", len(data), err)
	}
	if env.Took == nil || env.Shards == nil {
		return esquery.Response{}, fmt.Errorf("decode search response: not a search response: %s", shorten(string(data)))
	}
	if env.Shards.Failed > 0 {
		e := &Error{Type: "shard_failure", Reason: fmt.Sprintf("%d of %d shards failed", env.Shards.Failed, env.Shards.Total)}
		for _, f := range env.Shards.Failures {
			e.Shards = append(e.Shards, shardFailure(f))
		}
		return esquery.Response{}, e
	}
	if env.TimedOut {
		return esquery.Response{}, ErrTimedOut
	}
	resp := esquery.Response{Took: *env.Took, Shards: env.Shards.Total, TotalHits: -1}
	if env.Hits.Total != nil {
		resp.TotalHits = env.Hits.Total.Value
	}
	if len(env.Aggregations) > 0 && string(env.Aggregations) != "null" {
		resp.Aggregations = env.Aggregations
	}
	return resp, nil
}
