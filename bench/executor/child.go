package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/esrule/esrule/bench/internal/benchkit"
	"github.com/esrule/esrule/engine"
	"github.com/esrule/esrule/esclient"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/rs/zerolog"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/internal/randdata"
	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/rule"
)

// measurement is what one execution cost, as the child reports it.
type measurement struct {
	WallMs          int64          `json:"wall_ms"`
	ESTookSearchMs  int64          `json:"es_took_search_ms"` // detect.Result.ESTook
	ESTookAllMs     int64          `json:"es_took_all_ms"`    // every response's took, measured in the transport
	Requests        map[string]int `json:"requests"`
	ResultRequests  int            `json:"result_requests"`
	HTTPMs          int64          `json:"http_ms"` // time inside HTTP requests (send to body closed)
	CPUMs           int64          `json:"cpu_ms"`  // user+system CPU of the process during Run
	PeakRSSKiB      int64          `json:"peak_rss_kib"`
	TermsChecked    int            `json:"terms_checked"`
	NewTerms        int            `json:"new_terms"`
	AlertsCreated   int            `json:"alerts_created"`
	AlertsDuplicate int            `json:"alerts_duplicate"`
	Warnings        []string       `json:"warnings"`
}

// stateIndex is the bench's own state index name (the executor does not write state).
const stateIndex = "esrule-bench-state"

// runChild runs one execution of the built-in rule against the bench index in
// a fresh alerts space and writes its measurement as JSON.
func runChild(ctx context.Context, o options, out io.Writer) error {
	ct := newCountingTransport()
	c, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{o.es}, Transport: ct})
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	space := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	zero := 0
	if err := mappings.Ensure(ctx, c, mappings.Options{Space: space, Replicas: &zero, StateIndex: stateIndex}); err != nil {
		return fmt.Errorf("set up alerts space %s: %w", space, err)
	}
	if !o.keepAlerts {
		defer benchkit.CleanupSpace(c, space)
	}
	r := rule.Builtin()
	r.Index = []string{indexName(o.okta(), o.shards)}
	r.Space = space
	e, err := engine.New(engine.Config{
		ES: esclient.Config{Addresses: []string{o.es}, Transport: ct}, Clock: time.Now, StateIndex: stateIndex,
		Refresh: o.refresh, Logger: zerolog.Nop(),
	})
	if err != nil {
		return err
	}
	ex := e.Executor(space)
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return fmt.Errorf("create cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("start cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if o.warm {
		// A dry run first: JSON/reflection caches, connections and the
		// Elasticsearch caches are warm, as in a long-running esrule serve.
		if _, err := ex.Run(ctx, r, randdata.OktaEnd, detect.RunOptions{DryRun: true}); err != nil {
			return fmt.Errorf("warm-up execution: %w", err)
		}
	}
	ct.reset()
	cpu0 := benchkit.CPUTime()
	start := time.Now()
	res, err := ex.Run(ctx, r, randdata.OktaEnd, detect.RunOptions{})
	wall := time.Since(start)
	cpu := benchkit.CPUTime() - cpu0
	if err != nil {
		return fmt.Errorf("execute built-in rule: %w", err)
	}
	reqs, took, httpTime := ct.snapshot()
	if o.trace {
		for _, tr := range ct.trace {
			fmt.Fprintf(os.Stderr, "  %-6s %-60s %6d ms (took %d ms)\n", tr.Method, tr.Path, tr.Duration.Milliseconds(), tr.TookMs)
		}
	}
	m := measurement{
		WallMs: wall.Milliseconds(), ESTookSearchMs: res.ESTook.Milliseconds(), ESTookAllMs: took,
		HTTPMs: httpTime.Milliseconds(), CPUMs: cpu.Milliseconds(),
		Requests: reqs, ResultRequests: res.Requests, PeakRSSKiB: benchkit.PeakRSSKiB(),
		TermsChecked: res.TermsChecked, NewTerms: res.NewTerms, AlertsCreated: res.AlertsCreated,
		AlertsDuplicate: res.AlertsDuplicate, Warnings: res.Warnings,
	}
	return json.NewEncoder(out).Encode(m)
}
