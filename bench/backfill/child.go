package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/rs/zerolog"

	"github.com/esrule/esrule/backfill"
	"github.com/esrule/esrule/bench/internal/benchkit"
	"github.com/esrule/esrule/engine"
	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/rule"
)

// measurement is what one backfill cost, as the child reports it.
type measurement struct {
	Name             string `json:"name"`
	Load             string `json:"-"` // load average after the run (parent)
	Slots            int    `json:"slots"`
	WallMs           int64  `json:"wall_ms"`
	ESTookMs         int64  `json:"es_took_ms"`
	Requests         int    `json:"requests"`
	AlertsCreated    int    `json:"alerts_created"`
	AlertsDuplicate  int    `json:"alerts_duplicate"`
	FirstOccurrences int    `json:"first_occurrences"`
	ReplayedSlots    int    `json:"replayed_slots"`
	PeakRSSKiB       int64  `json:"peak_rss_kib"`
	ScanMS           int64  `json:"scan_ms"`
	FetchMS          int64  `json:"fetch_ms"`
	WriteMS          int64  `json:"write_ms"`
	ExactMS          int64  `json:"exact_ms"`
	IndexMS          int64  `json:"index_ms"`
	Count            int    `json:"count"`
	Terms            int    `json:"terms"`
	Digest           string `json:"digest"`
}

const stateIndex = "esrule-bench-state"

// benchSpace is the space in the alert ids of every run, so runs are
// comparable by _id; each run writes to its own alerts alias.
const benchSpace = "bench"

func runChild(ctx context.Context, o options, out io.Writer) error {
	if path := os.Getenv("BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path + "." + o.mode)
		if err != nil {
			return fmt.Errorf("create CPU profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("start CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if path := os.Getenv("BENCH_HEAPPROFILE"); path != "" {
		hctx, stop := context.WithCancel(ctx)
		defer stop()
		go watchHeap(hctx, path+"."+o.mode)
	}
	c, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{o.es}})
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	from, err := time.Parse(time.RFC3339, o.from)
	if err != nil {
		return err
	}
	to, err := time.Parse(time.RFC3339, o.to)
	if err != nil {
		return err
	}
	space := "benchbf-" + o.mode + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	zero := 0
	if err := mappings.Ensure(ctx, c, mappings.Options{Space: space, Replicas: &zero, StateIndex: stateIndex}); err != nil {
		return fmt.Errorf("set up alerts space %s: %w", space, err)
	}
	alias := mappings.AlertsAlias(space)
	if !o.keepAlerts {
		defer benchkit.CleanupSpace(c, space)
	}
	r := rule.Builtin()
	r.Index = []string{o.data().index(o.shards)}
	r.Space = benchSpace
	e, err := engine.New(engine.Config{
		ES: esclient.Config{Addresses: []string{o.es}}, Clock: time.Now, StateIndex: stateIndex,
		Logger:      zerolog.New(os.Stderr).Level(logLevel()).With().Timestamp().Logger(),
		AlertsAlias: func(string) string { return alias },
	})
	if err != nil {
		return err
	}
	if o.mode == "limit" {
		start := time.Now()
		lr, err := runLimit(ctx, e, r, from, to)
		wall := time.Since(start)
		if err != nil {
			return err
		}
		return json.NewEncoder(out).Encode(measurement{
			Slots: int(to.Sub(from) / r.Timing.Interval), WallMs: wall.Milliseconds(), ESTookMs: lr.esTook.Milliseconds(),
			Requests: lr.requests, PeakRSSKiB: benchkit.PeakRSSKiB(), Terms: lr.terms, Digest: "-",
		})
	}
	last := time.Now()
	opts := backfill.Options{
		From: from, To: to, Replay: o.mode == "replay", Force: true, FetchBatch: o.fetchBatch, ScanWorkers: o.workers,
		Progress: func(p backfill.Progress) {
			if time.Since(last) > 30*time.Second {
				last = time.Now()
				fmt.Fprintf(os.Stderr, "  %s: %s %d/%d slots, %d alerts, %d terms\n", o.mode, p.Phase, p.SlotsDone, p.SlotsTotal, p.AlertsCreated, p.Terms)
			}
		},
	}
	start := time.Now()
	s, err := e.Backfill(ctx, r, opts)
	wall := time.Since(start)
	if err != nil {
		return err
	}
	rss := benchkit.PeakRSSKiB()
	if err := benchkit.Call(ctx, c, "POST", "/"+alias+"/_refresh", ""); err != nil {
		return err
	}
	ids, err := alertIDs(ctx, c, alias)
	if err != nil {
		return err
	}
	sort.Strings(ids)
	h := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	var indexMS int64
	if o.mode == "fast" && len(ids) > 0 && !o.noAgain {
		if indexMS, err = indexAgain(ctx, c, alias, space+"-again"); err != nil {
			return err
		}
	}
	m := measurement{
		Slots: s.Slots, WallMs: wall.Milliseconds(), ESTookMs: s.ESTook.Milliseconds(), Requests: s.Requests,
		Terms: s.Terms, AlertsCreated: s.AlertsCreated, AlertsDuplicate: s.AlertsDuplicate, FirstOccurrences: s.FirstOccurrences,
		ReplayedSlots: s.ReplayedSlots, PeakRSSKiB: rss, ScanMS: s.ScanMS, FetchMS: s.FetchMS, WriteMS: s.WriteMS, ExactMS: s.ExactMS, IndexMS: indexMS, Count: len(ids), Digest: hex.EncodeToString(h[:])[:12],
	}
	return json.NewEncoder(out).Encode(m)
}

// alertIDs lists every alert _id (kibana.alert.uuid) in alias.
func alertIDs(ctx context.Context, c *elasticsearch.Client, alias string) ([]string, error) {
	var ids []string
	var after []any
	for {
		body := map[string]any{
			"size": 10000, "_source": false, "track_total_hits": false,
			"sort":            []any{map[string]any{"kibana.alert.uuid": "asc"}},
			"docvalue_fields": []any{"kibana.alert.uuid"},
		}
		if after != nil {
			body["search_after"] = after
		}
		b, _ := json.Marshal(body)
		res, err := c.Search(c.Search.WithContext(ctx), c.Search.WithIndex(alias), c.Search.WithBody(strings.NewReader(string(b))))
		if err != nil {
			return nil, fmt.Errorf("list alerts: %w", err)
		}
		var sr struct {
			Hits struct {
				Hits []struct {
					ID   string `json:"_id"`
					Sort []any  `json:"sort"`
				} `json:"hits"`
			} `json:"hits"`
		}
		err = json.NewDecoder(res.Body).Decode(&sr)
		res.Body.Close()
		if err != nil || res.IsError() {
			return nil, fmt.Errorf("list alerts: %s: %w", res.Status(), err)
		}
		if len(sr.Hits.Hits) == 0 {
			return ids, nil
		}
		for _, h := range sr.Hits.Hits {
			ids = append(ids, h.ID)
		}
		after = sr.Hits.Hits[len(sr.Hits.Hits)-1].Sort
	}
}

// indexAgain measures how long Elasticsearch takes to index the alerts of
// alias once more: they are read back page by page and bulk-created, two
// requests at a time as the fast path writes, into a fresh alerts space
// (same template, replicas 0). Only the bulk requests are timed (wall time
// from the first to the last answer, reads excluded). It deletes the copy.
func indexAgain(ctx context.Context, c *elasticsearch.Client, alias, space string) (int64, error) {
	zero := 0
	if err := mappings.Ensure(ctx, c, mappings.Options{Space: space, Replicas: &zero, StateIndex: stateIndex}); err != nil {
		return 0, fmt.Errorf("set up alerts space %s: %w", space, err)
	}
	defer benchkit.CleanupSpace(c, space)
	dest := mappings.AlertsAlias(space)
	var bodies [][]byte
	var after []any
	for {
		body := map[string]any{"size": 1000, "track_total_hits": false, "sort": []any{map[string]any{"kibana.alert.uuid": "asc"}}}
		if after != nil {
			body["search_after"] = after
		}
		b, _ := json.Marshal(body)
		res, err := c.Search(c.Search.WithContext(ctx), c.Search.WithIndex(alias), c.Search.WithBody(strings.NewReader(string(b))))
		if err != nil {
			return 0, fmt.Errorf("read alerts back: %w", err)
		}
		var sr struct {
			Hits struct {
				Hits []struct {
					ID     string          `json:"_id"`
					Source json.RawMessage `json:"_source"`
					Sort   []any           `json:"sort"`
				} `json:"hits"`
			} `json:"hits"`
		}
		err = json.NewDecoder(res.Body).Decode(&sr)
		res.Body.Close()
		if err != nil || res.IsError() {
			return 0, fmt.Errorf("read alerts back: %s: %w", res.Status(), err)
		}
		if len(sr.Hits.Hits) == 0 {
			break
		}
		var nd strings.Builder
		for _, h := range sr.Hits.Hits {
			fmt.Fprintf(&nd, "{\"create\":{\"_id\":%q}}\n%s\n", h.ID, h.Source)
		}
		bodies = append(bodies, []byte(nd.String()))
		after = sr.Hits.Hits[len(sr.Hits.Hits)-1].Sort
	}
	start := time.Now()
	next := make(chan []byte)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			for b := range next {
				res, err := c.Bulk(bytes.NewReader(b), c.Bulk.WithContext(ctx), c.Bulk.WithIndex(dest), c.Bulk.WithFilterPath("errors"))
				if err == nil {
					var r struct{ Errors bool }
					err = json.NewDecoder(res.Body).Decode(&r)
					res.Body.Close()
					if err == nil && (res.IsError() || r.Errors) {
						err = fmt.Errorf("bulk: %s, item errors %t", res.Status(), r.Errors)
					}
				}
				if err != nil {
					errs <- err
					for range next {
					}
					return
				}
			}
			errs <- nil
		}()
	}
	for _, b := range bodies {
		next <- b
	}
	close(next)
	if err := errors.Join(<-errs, <-errs); err != nil {
		return 0, fmt.Errorf("index the alerts again: %w", err)
	}
	return time.Since(start).Milliseconds(), nil
}

// logLevel is the child's log level: BENCH_LOG (e.g. debug, which logs every
// search with its took) or info.
func logLevel() zerolog.Level {
	if l, err := zerolog.ParseLevel(os.Getenv("BENCH_LOG")); err == nil && os.Getenv("BENCH_LOG") != "" {
		return l
	}
	return zerolog.InfoLevel
}
