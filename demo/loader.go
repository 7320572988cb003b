package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/elastic/go-elasticsearch/v8/esutil"
	"github.com/rs/zerolog"
)

// LoadConfig configures Load.
type LoadConfig struct {
	// NumWorkers is the number of concurrent bulk requests. Defaults to 2.
	NumWorkers int
	// FlushBytes is the bulk request size. Defaults to 5 MB.
	FlushBytes int
	// Total is the number of documents expected (for progress); 0 if unknown.
	Total int64
	// Report, when set, is called every ReportEvery with the progress and
	// once at the end with Final set.
	Report func(LoadProgress)
	// ReportEvery defaults to 5 seconds.
	ReportEvery time.Duration
	// Clock measures elapsed time for progress and throughput; nil means no
	// timing (Elapsed stays zero).
	Clock func() time.Time
	// Logger receives warnings (retries). Defaults to no logging.
	Logger zerolog.Logger
}

// LoadProgress is a snapshot of a running load.
type LoadProgress struct {
	Done, Total int64
	Elapsed     time.Duration
	Final       bool
}

// LoadStats summarises a load.
type LoadStats struct {
	// Created documents; Duplicates already existed (a re-load of the same
	// data: the loader uses the create action, so existing _ids answer 409).
	Created, Duplicates int64
	// Retried counts items rejected with 429 and sent again.
	Retried int64
	// Bytes of NDJSON sent, Requests made.
	Bytes, Requests uint64
	// Elapsed is the bulk phase (not index preparation or the final refresh).
	Elapsed time.Duration
}

// DocsPerSecond is the bulk throughput (created plus duplicate documents).
func (s LoadStats) DocsPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Created+s.Duplicates) / s.Elapsed.Seconds()
}

// LoadError reports documents Elasticsearch did not accept.
type LoadError struct {
	Failed  int64
	Samples []string // first few per-item reasons
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("%d documents not indexed: %s", e.Failed, strings.Join(e.Samples, "; "))
}

const maxLoadRetries = 3

// Load bulk-indexes every document each yields into indices (which it
// prepares: created if missing, replicas 0 and refresh off during the load,
// both restored and the indices refreshed at the end). It returns a
// *LoadError when any document was not indexed, even though the bulk
// indexer itself closed without error.
func Load(ctx context.Context, c esapi.Transport, indices []string, each func(func(Doc) error) error, cfg LoadConfig) (LoadStats, error) {
	if cfg.NumWorkers <= 0 {
		cfg.NumWorkers = 2
	}
	if cfg.FlushBytes <= 0 {
		cfg.FlushBytes = 5 << 20
	}
	if cfg.ReportEvery <= 0 {
		cfg.ReportEvery = 5 * time.Second
	}
	saved, err := prepareIndices(ctx, c, indices)
	if err != nil {
		return LoadStats{}, errors.Join(err, restoreIndices(context.WithoutCancel(ctx), c, saved))
	}
	stats, loadErr := bulkLoad(ctx, c, each, cfg)
	restoreErr := restoreIndices(context.WithoutCancel(ctx), c, saved)
	return stats, errors.Join(loadErr, restoreErr)
}

// loadRun is the shared state of one bulk pass.
type loadRun struct {
	created, duplicates, failed atomic.Int64
	mu                          sync.Mutex
	retry                       []Doc
	samples                     []string
}

func (lr *loadRun) sample(reason string) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if len(lr.samples) < 5 {
		lr.samples = append(lr.samples, reason)
	}
}

func (lr *loadRun) onSuccess(context.Context, esutil.BulkIndexerItem, esutil.BulkIndexerResponseItem) {
	lr.created.Add(1)
}

func (lr *loadRun) onFailure(_ context.Context, item esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem, err error) {
	switch {
	case err != nil:
		lr.failed.Add(1)
		lr.sample(fmt.Sprintf("%s/%s: %v", item.Index, item.DocumentID, err))
	case res.Status == 409:
		lr.duplicates.Add(1)
	case res.Status == 429:
		body, rerr := readBody(item.Body)
		if rerr != nil {
			lr.failed.Add(1)
			lr.sample(fmt.Sprintf("%s/%s: reread body for retry: %v", item.Index, item.DocumentID, rerr))
			return
		}
		lr.mu.Lock()
		lr.retry = append(lr.retry, Doc{Index: item.Index, ID: item.DocumentID, Body: body})
		lr.mu.Unlock()
	default:
		lr.failed.Add(1)
		lr.sample(fmt.Sprintf("%s/%s: %d %s: %s", item.Index, item.DocumentID, res.Status, res.Error.Type, res.Error.Reason))
	}
}

func readBody(r io.ReadSeeker) ([]byte, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func bulkLoad(ctx context.Context, c esapi.Transport, each func(func(Doc) error) error, cfg LoadConfig) (LoadStats, error) {
	lr := &loadRun{}
	var stats LoadStats
	var indexerFailed uint64 // Stats().NumFailed over all passes
	var start time.Time
	elapsed := func() time.Duration {
		if cfg.Clock == nil {
			return 0
		}
		return cfg.Clock().Sub(start)
	}
	if cfg.Clock != nil {
		start = cfg.Clock()
	}
	done := func() int64 { return lr.created.Load() + lr.duplicates.Load() + lr.failed.Load() }
	stopReport := startReporting(cfg, done, elapsed)

	pass := func(docs func(func(Doc) error) error) error {
		bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{
			Client:     c,
			NumWorkers: cfg.NumWorkers,
			FlushBytes: cfg.FlushBytes,
			// Each worker has its own queue and Add blocks on a busy worker even when
			// another is idle: a queue that holds a whole request keeps every worker fed.
			QueueSizeMultiplier: cfg.FlushBytes / 2048,
			FilterPath:          []string{"errors", "items.*.status", "items.*.error.type", "items.*.error.reason"},
		})
		if err != nil {
			return fmt.Errorf("create bulk indexer: %w", err)
		}
		addErr := docs(func(d Doc) error {
			return bi.Add(ctx, esutil.BulkIndexerItem{
				Index: d.Index, Action: "create", DocumentID: d.ID, Body: bytes.NewReader(d.Body),
				OnSuccess: lr.onSuccess, OnFailure: lr.onFailure,
			})
		})
		closeErr := bi.Close(context.WithoutCancel(ctx))
		s := bi.Stats()
		stats.Bytes += s.FlushedBytes
		stats.Requests += s.NumRequests
		indexerFailed += s.NumFailed
		if addErr != nil {
			return fmt.Errorf("add documents to bulk indexer: %w", addErr)
		}
		if closeErr != nil {
			return fmt.Errorf("flush bulk indexer: %w", closeErr)
		}
		return nil
	}

	err := pass(each)
	for attempt := 1; err == nil && attempt <= maxLoadRetries; attempt++ {
		lr.mu.Lock()
		retry := lr.retry
		lr.retry = nil
		lr.mu.Unlock()
		if len(retry) == 0 {
			break
		}
		stats.Retried += int64(len(retry))
		cfg.Logger.Warn().Int("documents", len(retry)).Int("attempt", attempt).Msg("bulk rejected documents with 429, will retry")
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(time.Duration(attempt) * time.Second):
			err = pass(func(yield func(Doc) error) error {
				for _, d := range retry {
					if err := yield(d); err != nil {
						return err
					}
				}
				return nil
			})
		}
	}
	stats.Elapsed = elapsed()
	stopReport()
	stats.Created, stats.Duplicates = lr.created.Load(), lr.duplicates.Load()
	if err != nil {
		return stats, err
	}
	lr.mu.Lock()
	defer lr.mu.Unlock()
	failed := lr.failed.Load() + int64(len(lr.retry))
	// The indexer's own count of failed items (it includes 409s and 429s)
	// must agree with the callbacks; anything more was lost unseen.
	if unseen := int64(indexerFailed) - lr.failed.Load() - stats.Duplicates - stats.Retried - int64(len(lr.retry)); unseen > 0 {
		failed += unseen
		lr.samples = append(lr.samples, fmt.Sprintf("%d failures counted by the bulk indexer without an item callback", unseen))
	}
	if failed > 0 {
		if len(lr.retry) > 0 {
			lr.samples = append(lr.samples, fmt.Sprintf("%d still rejected with 429 after %d retries", len(lr.retry), maxLoadRetries))
		}
		return stats, &LoadError{Failed: failed, Samples: lr.samples}
	}
	return stats, nil
}

// startReporting calls cfg.Report periodically until the returned stop
// function is called, which also sends the final report.
func startReporting(cfg LoadConfig, done func() int64, elapsed func() time.Duration) (stop func()) {
	if cfg.Report == nil {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(cfg.ReportEvery)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				cfg.Report(LoadProgress{Done: done(), Total: cfg.Total, Elapsed: elapsed()})
			}
		}
	})
	return func() {
		close(quit)
		wg.Wait()
		cfg.Report(LoadProgress{Done: done(), Total: cfg.Total, Elapsed: elapsed(), Final: true})
	}
}
