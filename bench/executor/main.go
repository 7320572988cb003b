// Command executor benchmarks one execution of the built-in rule on
// Okta-shaped data: it loads (or reuses) a bench index, runs the executor in a
// child process (so that peak RSS is the execution's own) and prints a table.
//
//	go run ./bench/executor [--es URL] [--events 2000000] [--actors 100000] [--days 7] [--runs 1]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"text/tabwriter"
	"time"

	"github.com/esrule/esrule/bench/internal/benchkit"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/esrule/esrule/internal/randdata"
)

type options struct {
	es         string
	events     int
	actors     int
	days       int
	newActors  int
	seed       uint64
	shards     int
	runs       int
	reload     bool
	keepAlerts bool
	cache      bool
	trace      bool
	cpuProfile string
	refresh    string
	warm       bool
	child      bool
}

func main() {
	var o options
	flag.StringVar(&o.es, "es", benchkit.EnvOr("ELASTICSEARCH_URL", "http://127.0.0.1:9250"), "Elasticsearch URL")
	flag.IntVar(&o.events, "events", 2_000_000, "events to generate over the history")
	flag.IntVar(&o.actors, "actors", 100_000, "distinct regular actors")
	flag.IntVar(&o.days, "days", 7, "days of data (the rule's history is 7 days)")
	flag.IntVar(&o.newActors, "new-actors", 120, "actors first seen in the last 5 minutes (new terms of the slot)")
	flag.Uint64Var(&o.seed, "seed", 1, "generator seed")
	flag.IntVar(&o.shards, "shards", 1, "primary shards of the bench index")
	flag.IntVar(&o.runs, "runs", 1, "executions to measure (each in a fresh alerts space)")
	flag.BoolVar(&o.reload, "reload", false, "reload the data even if a complete bench index exists")
	flag.BoolVar(&o.keepAlerts, "keep-alerts", false, "keep the alerts indices of the runs")
	flag.BoolVar(&o.cache, "request-cache", false, "leave Elasticsearch's shard request cache on for the bench index (off: repeated runs on a static index would be served from it, unlike live data)")
	flag.BoolVar(&o.trace, "trace", false, "print every request of the execution (path, duration, took) on stderr")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the execution (last run) to this file")
	flag.StringVar(&o.refresh, "refresh", "wait_for", "refresh parameter of the alerts bulk (esrule run sends none, false; it used wait_for before issue 20; Kibana uses true)")
	flag.BoolVar(&o.warm, "warm", false, "measure a second execution in the same process, after a dry run (esrule serve); default is a cold process (esrule run as a CronJob)")
	flag.BoolVar(&o.child, "child", false, "internal: run one execution and print its measurements as JSON")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	if o.child {
		err = runChild(ctx, o, os.Stdout)
	} else {
		err = runParent(ctx, o, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func (o options) okta() randdata.OktaConfig {
	return randdata.OktaConfig{Seed: o.seed, Events: o.events, Actors: o.actors, Days: o.days, End: randdata.OktaEnd, NewActors: o.newActors}
}

func runParent(ctx context.Context, o options, out io.Writer) error {
	c, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{o.es}})
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	cfg := o.okta()
	index := indexName(cfg, o.shards)
	didLoad, took, err := ensureData(ctx, c, index, cfg, o.shards, o.reload)
	if err != nil {
		return err
	}
	if didLoad {
		fmt.Fprintf(out, "loaded %s: %d events in %s (%.0f events/s)\n", index, cfg.Total(), took.Round(time.Second), float64(cfg.Total())/took.Seconds())
	} else {
		fmt.Fprintf(out, "reusing %s (%d events)\n", index, cfg.Total())
	}
	cacheSetting := fmt.Sprintf(`{"index":{"requests":{"cache":{"enable":%t}}}}`, o.cache)
	if err := benchkit.Call(ctx, c, "PUT", "/"+index+"/_settings", cacheSetting); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	var rows []measurement
	for i := range o.runs {
		args := append(os.Args[1:], "--child")
		cmd := exec.CommandContext(ctx, self, args...)
		cmd.Stderr = os.Stderr
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		var m measurement
		if err := json.Unmarshal(stdout.Bytes(), &m); err != nil {
			return fmt.Errorf("decode measurement of run %d: %w (%q)", i+1, err, stdout.String())
		}
		rows = append(rows, m)
	}
	printTable(out, o, index, rows)
	return nil
}

func printTable(out io.Writer, o options, index string, rows []measurement) {
	mode := "cold process"
	if o.warm {
		mode = "warm process"
	}
	fmt.Fprintf(out, "\nbuilt-in rule, slot %s, index %s (%d events, %d actors, %d days, %d new actors), %s, alerts bulk refresh=%s\n\n",
		randdata.OktaEnd.Format(time.RFC3339), index, o.events+o.newActors, o.actors, o.days, o.newActors, mode, o.refresh)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\twall\tES took (searches)\tES took (all)\toverhead\tin HTTP\tesrule CPU\tCPU/wall\trequests (search/bulk/other)\tpeak RSS\tterms checked\tnew terms\talerts\tduplicates\t")
	for i, m := range rows {
		wall := float64(max(m.WallMs, 1))
		overhead := 1 - float64(m.ESTookAllMs)/wall
		fmt.Fprintf(tw, "%d\t%d ms\t%d ms\t%d ms\t%.1f%%\t%d ms\t%d ms\t%.1f%%\t%d/%d/%d\t%.1f MiB\t%d\t%d\t%d\t%d\t\n", i+1,
			m.WallMs, m.ESTookSearchMs, m.ESTookAllMs, 100*overhead, m.HTTPMs, m.CPUMs, 100*float64(m.CPUMs)/wall,
			m.Requests["search"], m.Requests["bulk"], m.Requests["other"],
			float64(m.PeakRSSKiB)/1024, m.TermsChecked, m.NewTerms, m.AlertsCreated, m.AlertsDuplicate)
	}
	tw.Flush()
	fmt.Fprintln(out, "\noverhead = 1 - ES took (all responses) / wall; target < 10%, peak RSS < 100 MiB")
	fmt.Fprintln(out, "in HTTP = time from sending each request to closing its response; esrule CPU = user+sys CPU of the process during the execution")
	for i, m := range rows {
		for _, w := range m.Warnings {
			fmt.Fprintf(out, "run %d warning: %s\n", i+1, w)
		}
	}
}
