package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
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
// both restored and the indices refreshed at the end), with cfg.NumWorkers
// concurrent bulk requests of about cfg.FlushBytes each. Items answered 429
// are sent again (up to maxLoadRetries passes); it returns a *LoadError when
// any document was not indexed.
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

// onOutcome counts one item's answer; 429s are kept for another pass.
func (lr *loadRun) onOutcome(d Doc, o bulkOutcome) {
	switch {
	case o.err != nil:
		lr.failed.Add(1)
		lr.sample(fmt.Sprintf("%s/%s: %v", d.Index, d.ID, o.err))
	case o.status >= 200 && o.status < 300:
		lr.created.Add(1)
	case o.status == 409:
		lr.duplicates.Add(1)
	case o.status == 429:
		lr.mu.Lock()
		lr.retry = append(lr.retry, d)
		lr.mu.Unlock()
	default:
		lr.failed.Add(1)
		lr.sample(fmt.Sprintf("%s/%s: %d %s", d.Index, d.ID, o.status, o.reason))
	}
}

func bulkLoad(ctx context.Context, c esapi.Transport, each func(func(Doc) error) error, cfg LoadConfig) (LoadStats, error) {
	lr := &loadRun{}
	var stats LoadStats
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
		bs := newBulkSender(ctx, c, cfg.NumWorkers, cfg.FlushBytes, lr.onOutcome)
		addErr := docs(func(d Doc) error { return bs.add(ctx, d) })
		bs.close(context.WithoutCancel(ctx))
		stats.Bytes += bs.bytes
		stats.Requests += bs.reqs
		if addErr != nil {
			return fmt.Errorf("add documents to bulk requests: %w", addErr)
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
