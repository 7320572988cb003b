// Command backfill benchmarks `esrule backfill` on Okta-shaped data: the fast
// path over the whole range against --replay (every slot with the executor),
// on a sub-range when replaying the whole range would take too long. Each run
// is a child process, so that its peak RSS (VmHWM) is its own. It prints a
// table; alert sets of the runs over the same range are compared by _id.
//
//	go run ./bench/backfill [--events 3000000] [--actors 50000] [--days 30] [--replay-days 2]
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
	"strings"
	"text/tabwriter"
	"time"

	"github.com/esrule/esrule/bench/internal/benchkit"

	"github.com/elastic/go-elasticsearch/v8"
)

type options struct {
	es         string
	events     int
	actors     int
	days       int
	replayDays float64
	arrivals   float64
	seed       uint64
	shards     int
	reload     bool
	keepAlerts bool
	jobs       string
	fetchBatch int
	workers    int
	noAgain    bool
	// child mode
	child bool
	mode  string
	from  string
	to    string
}

var end = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)

func main() {
	var o options
	flag.StringVar(&o.es, "es", benchkit.EnvOr("ELASTICSEARCH_URL", "http://127.0.0.1:9250"), "Elasticsearch URL")
	flag.IntVar(&o.events, "events", 3_333_334, "events (90% match the rule query: the default makes 3 million matching events)")
	flag.IntVar(&o.actors, "actors", 50_000, "distinct actors")
	flag.IntVar(&o.days, "days", 30, "backfill range in days (the data adds the rule's 7-day history)")
	flag.Float64Var(&o.replayDays, "replay-days", 2, "days replayed slot by slot (and fast on the same range, for the alert-set comparison); 0 replays the whole range")
	flag.Float64Var(&o.arrivals, "arrivals", 1, "share of actors first seen at a random time of the range (1: nearly all; 0.05: a stable population)")
	flag.Uint64Var(&o.seed, "seed", 1, "generator seed")
	flag.IntVar(&o.shards, "shards", 1, "primary shards of the bench index")
	flag.BoolVar(&o.reload, "reload", false, "reload the data even if a complete bench index exists")
	flag.BoolVar(&o.keepAlerts, "keep-alerts", false, "keep the alerts indices of the runs")
	flag.StringVar(&o.jobs, "jobs", "fast,limit,fast-sub,replay", "runs to measure: fast (whole range), limit (one plain composite over the same documents), fast-sub (replay's range), replay")
	flag.IntVar(&o.fetchBatch, "fetch-batch", 0, "first occurrences per document fetch and alert write (0: backfill's default)")
	flag.IntVar(&o.workers, "scan-workers", 0, "partitions the fast path scans at once (0: backfill's default)")
	flag.BoolVar(&o.noAgain, "no-index-again", false, "skip indexing the fast path's alerts again (it holds them all in memory: for very large alert sets)")
	flag.BoolVar(&o.child, "child", false, "internal: run one backfill and print its measurements as JSON")
	flag.StringVar(&o.mode, "mode", "fast", "internal: fast, limit or replay")
	flag.StringVar(&o.from, "from", "", "internal: range start")
	flag.StringVar(&o.to, "to", "", "internal: range end")
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

func (o options) data() dataConfig {
	return dataConfig{Seed: o.seed, Events: o.events, Actors: o.actors, Days: o.days, End: end, Arrivals: o.arrivals}
}

type job struct {
	name     string
	mode     string
	from, to time.Time
}

func runParent(ctx context.Context, o options, out io.Writer) error {
	c, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{o.es}})
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	cfg := o.data()
	index := cfg.index(o.shards)
	didLoad, took, err := ensureData(ctx, c, cfg, o.shards, o.reload, os.Stderr)
	if err != nil {
		return err
	}
	if didLoad {
		fmt.Fprintf(out, "loaded %s: %d events in %s (%.0f events/s)\n", index, cfg.Events, took.Round(time.Second), float64(cfg.Events)/took.Seconds())
	} else {
		fmt.Fprintf(out, "reusing %s (%d events)\n", index, cfg.Events)
	}
	if err := benchkit.Call(ctx, c, "PUT", "/"+index+"/_settings", `{"index":{"requests":{"cache":{"enable":false}}}}`); err != nil {
		return err
	}
	full := job{"fast", "fast", end.Add(-time.Duration(o.days) * 24 * time.Hour), end}
	want := map[string]bool{}
	for _, j := range strings.Split(o.jobs, ",") {
		want[strings.TrimSpace(j)] = true
	}
	var jobs []job
	if want["fast"] {
		jobs = append(jobs, full)
	}
	if want["limit"] {
		jobs = append(jobs, job{"limit", "limit", full.from, full.to})
	}
	if o.replayDays <= 0 || o.replayDays >= float64(o.days) {
		if want["replay"] {
			jobs = append(jobs, job{"replay", "replay", full.from, full.to})
		}
	} else {
		sub := end.Add(-time.Duration(o.replayDays * float64(24*time.Hour)))
		if want["fast-sub"] {
			jobs = append(jobs, job{"fast (sub-range)", "fast", sub, end})
		}
		if want["replay"] {
			jobs = append(jobs, job{"replay (sub-range)", "replay", sub, end})
		}
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	var rows []measurement
	for _, j := range jobs {
		fmt.Fprintf(os.Stderr, "running %s over (%s, %s]\n", j.name, j.from.Format(time.RFC3339), j.to.Format(time.RFC3339))
		// Every job starts with cold caches: the filter bitsets the first job
		// builds would otherwise speed up the next.
		if err := benchkit.Call(ctx, c, "POST", "/"+index+"/_cache/clear", ""); err != nil {
			return err
		}
		args := append(os.Args[1:], "--child", "--mode", j.mode, "--from", j.from.Format(time.RFC3339), "--to", j.to.Format(time.RFC3339))
		cmd := exec.CommandContext(ctx, self, args...)
		cmd.Stderr = os.Stderr
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("run %s: %w", j.name, err)
		}
		var m measurement
		if err := json.Unmarshal(stdout.Bytes(), &m); err != nil {
			return fmt.Errorf("decode measurement of %s: %w (%q)", j.name, err, stdout.String())
		}
		m.Name, m.Load = j.name, benchkit.LoadAvg()
		rows = append(rows, m)
	}
	printTable(out, o, index, rows)
	return nil
}

func printTable(out io.Writer, o options, index string, rows []measurement) {
	fmt.Fprintf(out, "\nbuilt-in rule (5m slots, from now-6m, history 7d, event.ingested with @timestamp fallback), index %s\n", index)
	fmt.Fprintf(out, "%d events (90%% match), %d actors (%g first seen during the range), backfill %d days ending %s\n\n",
		o.events, o.actors, o.arrivals, o.days, end.Format(time.RFC3339))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tslots\twall\tper slot\tES took\tscan/fetch/write/exact\trequests\tterms\talerts\tduplicates\tfirst occurrences\treplayed slots\tpeak RSS\talert set (sha256/12)\tindex alerts again\tload after\t")
	ms := func(v int64) string {
		return (time.Duration(v) * time.Millisecond).Round(100 * time.Millisecond).String()
	}
	for _, m := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%.1f ms\t%s\t%s/%s/%s/%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f MiB\t%s\t%s\t%s\t\n", m.Name, m.Slots,
			ms(m.WallMs), float64(m.WallMs)/float64(max(m.Slots, 1)), ms(m.ESTookMs),
			ms(m.ScanMS), ms(m.FetchMS), ms(m.WriteMS), ms(m.ExactMS), m.Requests, m.Terms, m.AlertsCreated, m.AlertsDuplicate,
			m.FirstOccurrences, m.ReplayedSlots, float64(m.PeakRSSKiB)/1024, m.Digest, ms(m.IndexMS), m.Load)
	}
	tw.Flush()
	var fast, replay, fastSub, limit *measurement
	for i := range rows {
		switch rows[i].Name {
		case "fast":
			fast = &rows[i]
		case "limit":
			limit = &rows[i]
		case "replay", "replay (sub-range)":
			replay = &rows[i]
		case "fast (sub-range)":
			fastSub = &rows[i]
		}
	}
	fmt.Fprintln(out)
	if fast != nil && limit != nil {
		fmt.Fprintf(out, "fast / limit wall time: %.2fx\n", float64(fast.WallMs)/float64(max(limit.WallMs, 1)))
		fmt.Fprintf(out, "fast / (limit + indexing the alerts again) wall time: %.2fx\n", float64(fast.WallMs)/float64(max(limit.WallMs+fast.IndexMS, 1)))
	}
	if fast != nil && replay != nil {
		perSlotReplay := float64(replay.WallMs) / float64(max(replay.Slots, 1))
		projected := perSlotReplay * float64(fast.Slots)
		if replay.Slots == fast.Slots {
			fmt.Fprintf(out, "replay / fast wall time: %.1fx (same range)\n", float64(replay.WallMs)/float64(max(fast.WallMs, 1)))
			fmt.Fprintf(out, "alert sets identical: %v\n", replay.Digest == fast.Digest && replay.Count == fast.Count)
		} else {
			fmt.Fprintf(out, "replay measured on %d of %d slots: %.1f ms per slot, projected %s for the whole range\n",
				replay.Slots, fast.Slots, perSlotReplay, (time.Duration(projected) * time.Millisecond).Round(time.Second))
			fmt.Fprintf(out, "projected replay / fast wall time over the whole range: %.1fx\n", projected/float64(max(fast.WallMs, 1)))
			if fastSub != nil {
				fmt.Fprintf(out, "replay / fast wall time on the sub-range: %.1fx\n", float64(replay.WallMs)/float64(max(fastSub.WallMs, 1)))
				fmt.Fprintf(out, "alert sets identical on the sub-range (fast vs replay, by _id): %v (%d alerts)\n",
					replay.Digest == fastSub.Digest && replay.Count == fastSub.Count, replay.Count)
			}
		}
	}
	fmt.Fprintln(out, "targets: fast <= 2x limit (plus indexing the alerts again when most actors are new), peak RSS <= 100 MiB")
}
