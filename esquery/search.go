package esquery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	json "github.com/goccy/go-json"
	"github.com/rs/zerolog"
)

// DefaultMaxResponseBytes is the default response size limit (100 MiB, as
// Kibana's elasticsearch.maxResponseSize on Serverless).
const DefaultMaxResponseBytes = 100 << 20

// RunnerConfig configures a Runner. The zero value gives the defaults.
type RunnerConfig struct {
	// MaxResponseBytes bounds the size of a response body. Defaults to 100 MiB.
	MaxResponseBytes int64
	// MaxAttempts bounds the attempts per search on 429 (except circuit
	// breaking), 5xx and transport errors. Defaults to 4.
	MaxAttempts int
	// Backoff is the wait before attempt n+1 (n >= 1). Defaults to 500ms·2^(n-1), at most 8s.
	Backoff func(n int) time.Duration
	// RequestTimeout bounds one attempt (a timed-out attempt is retried).
	// Defaults to 10 minutes.
	RequestTimeout time.Duration
	// Logger receives one Debug line per request (with a hash of the body,
	// never the body) and a Warn line per retry.
	Logger zerolog.Logger
}

// Response is the part of a successful search response the executor uses.
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

// Runner sends search requests with bounded retries, a response size limit
// and fail-closed checks: error statuses, shard failures and timed_out
// searches are errors (D2).
type Runner struct {
	transport esapi.Transport
	cfg       RunnerConfig
}

// NewRunner returns a Runner over t (an *elasticsearch.Client works).
func NewRunner(t esapi.Transport, cfg RunnerConfig) *Runner {
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 4
	}
	if cfg.Backoff == nil {
		cfg.Backoff = defaultBackoff
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Minute
	}
	return &Runner{transport: t, cfg: cfg}
}

func defaultBackoff(n int) time.Duration {
	d := 500 * time.Millisecond << (n - 1)
	if d > 8*time.Second || d <= 0 {
		d = 8 * time.Second
	}
	return d
}

// retryableError marks a failure worth another attempt.
type retryableError struct{ err error }

func (e retryableError) Error() string { return e.err.Error() }
func (e retryableError) Unwrap() error { return e.err }

// Search runs one search over indices with body (a JSON request body) and
// returns the decoded response. The request always carries
// ignore_unavailable, allow_no_indices and allow_partial_search_results=false.
func (r *Runner) Search(ctx context.Context, indices []string, body []byte) (Response, error) {
	return r.SearchFilterPath(ctx, indices, body, nil)
}

// envelopePaths are the response paths the fail-closed checks read; a
// filtered search always keeps them.
var envelopePaths = []string{"took", "timed_out", "_shards", "hits.total"}

// SearchFilterPath is Search with the response cut to paths (filter_path,
// e.g. "aggregations.esrule.buckets.key") besides the envelope, for large
// aggregation responses. Elasticsearch drops empty objects and arrays from a
// filtered response, so an empty aggregation may be absent.
func (r *Runner) SearchFilterPath(ctx context.Context, indices []string, body []byte, paths []string) (Response, error) {
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:8])
	var err error
	for attempt := 1; ; attempt++ {
		var resp Response
		resp, err = r.once(ctx, indices, body, paths)
		ev := r.cfg.Logger.Debug().Str("query_hash", hash).Strs("indices", indices).
			Int("attempt", attempt).Int("body_bytes", len(body))
		if err != nil {
			ev.Err(err).Msg("search request")
		} else {
			ev.Int64("es_took_ms", resp.Took).Msg("search request")
			return resp, nil
		}
		var re retryableError
		if !errors.As(err, &re) || attempt >= r.cfg.MaxAttempts || ctx.Err() != nil {
			break
		}
		wait := r.cfg.Backoff(attempt)
		r.cfg.Logger.Warn().Str("query_hash", hash).Int("attempt", attempt).Dur("backoff", wait).
			Err(err).Msg("search failed, will retry")
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return Response{}, fmt.Errorf("wait to retry search: %w", ctx.Err())
		case <-t.C:
		}
	}
	var re retryableError
	if errors.As(err, &re) {
		return Response{}, fmt.Errorf("search %v (gave up after %d attempts): %w", indices, r.cfg.MaxAttempts, re.err)
	}
	return Response{}, fmt.Errorf("search %v: %w", indices, err)
}

func (r *Runner) once(parent context.Context, indices []string, body []byte, paths []string) (Response, error) {
	ctx, cancel := context.WithTimeout(parent, r.cfg.RequestTimeout)
	defer cancel()
	yes, no := true, false
	req := esapi.SearchRequest{
		Index:                     indices,
		Body:                      bytes.NewReader(body),
		IgnoreUnavailable:         &yes,
		AllowNoIndices:            &yes,
		AllowPartialSearchResults: &no,
	}
	if len(paths) > 0 {
		req.FilterPath = append(append([]string{}, envelopePaths...), paths...)
	}
	res, err := req.Do(ctx, r.transport)
	if err != nil {
		if parent.Err() != nil {
			return Response{}, parent.Err()
		}
		return Response{}, retryableError{err}
	}
	defer res.Body.Close()
	if res.HasWarnings() {
		r.cfg.Logger.Debug().Strs("warnings", res.Warnings()).Msg("search warnings")
	}
	data, err := r.read(res)
	if err != nil {
		return Response{}, err
	}
	if res.IsError() {
		se := decodeErrorBody(res.StatusCode, data)
		switch {
		case IsTooLarge(se):
			return Response{}, se // the caller halves; retrying the same request would not help
		case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
			return Response{}, retryableError{se}
		default:
			return Response{}, se
		}
	}
	return decodeResponse(data)
}

// read reads the body up to the size limit.
func (r *Runner) read(res *esapi.Response) ([]byte, error) {
	limit := r.cfg.MaxResponseBytes
	if res.Header != nil && res.Header.Get("Content-Length") != "" {
		var n int64
		if _, err := fmt.Sscan(res.Header.Get("Content-Length"), &n); err == nil && n > limit {
			return nil, fmt.Errorf("%w: %d bytes announced, limit %d", ErrResponseTooLarge, n, limit)
		}
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	if err != nil {
		return nil, retryableError{fmt.Errorf("read search response: %w", err)}
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, limit)
	}
	return data, nil
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

// decodeResponse decodes a 2xx search body and applies the fail-closed checks.
func decodeResponse(data []byte) (Response, error) {
	var env searchEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return Response{}, fmt.Errorf("decode search response (%d bytes): %w", len(data), err)
	}
	if env.Took == nil || env.Shards == nil {
		return Response{}, fmt.Errorf("decode search response: not a search response: %s", shorten(string(data)))
	}
	if env.Shards.Failed > 0 {
		se := &SearchError{Type: "shard_failure", Reason: fmt.Sprintf("%d of %d shards failed", env.Shards.Failed, env.Shards.Total)}
		for _, f := range env.Shards.Failures {
			se.Shards = append(se.Shards, shardFailure(f))
		}
		return Response{}, se
	}
	if env.TimedOut {
		return Response{}, ErrTimedOut
	}
	resp := Response{Took: *env.Took, Shards: env.Shards.Total, TotalHits: -1}
	if env.Hits.Total != nil {
		resp.TotalHits = env.Hits.Total.Value
	}
	if len(env.Aggregations) > 0 && string(env.Aggregations) != "null" {
		resp.Aggregations = env.Aggregations
	}
	return resp, nil
}
