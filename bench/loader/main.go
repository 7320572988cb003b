// Command loader measures the demo loader (demo.Load, its bulk sender on esapi.BulkRequest) and
// prints a table: generation alone, the loader against an in-process sink that
// accepts every document (the loader's own ceiling on this machine), and the
// loader against Elasticsearch with full and lean documents, with the CPU
// Elasticsearch used meanwhile (from _nodes/_local/stats).
//
//	go run ./bench/loader --es http://127.0.0.1:9250 --users 3000
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/esrule/esrule/bench/internal/benchkit"
	"github.com/esrule/esrule/demo"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/loader:", err)
		os.Exit(1)
	}
}

type options struct {
	es         string
	users      int
	days       int
	workers    int
	generators int
	flushBytes int
	runs       string
	end        time.Time
}

type result struct {
	name, target      string
	docs, bytes       int64
	wall, cpu, esCPU  time.Duration
	requests, retried int64
}

func run() error {
	var o options
	var end string
	flag.StringVar(&o.es, "es", benchkit.EnvOr("ELASTICSEARCH_URL", "http://127.0.0.1:9250"), "Elasticsearch URL")
	flag.IntVar(&o.users, "users", 3000, "background users (3000 users, 8 days: about 200,000 documents)")
	flag.IntVar(&o.days, "days", 8, "days of data")
	flag.IntVar(&o.workers, "workers", 2, "bulk workers (esrule demo load --workers)")
	flag.IntVar(&o.generators, "generators", 2, "generator goroutines (esrule demo load --generators)")
	flag.IntVar(&o.flushBytes, "flush-bytes", 5<<20, "bulk request size")
	flag.StringVar(&o.runs, "runs", "generate,sink,es,es-lean", "runs: generate, sink, es (full documents), es-lean")
	flag.StringVar(&end, "end", "2026-11-26T17:00:00Z", "end of the data, RFC 3339")
	flag.Parse()
	var err error
	if o.end, err = time.Parse(time.RFC3339, end); err != nil {
		return fmt.Errorf("parse --end: %w", err)
	}
	ctx := context.Background()
	var results []result
	for _, name := range strings.Split(o.runs, ",") {
		var r result
		switch name {
		case "generate":
			r, err = generate(o)
		case "sink":
			r, err = sinkLoad(ctx, o)
		case "es":
			r, err = esLoad(ctx, o, false)
		case "es-lean":
			r, err = esLoad(ctx, o, true)
		default:
			return fmt.Errorf("unknown run %q", name)
		}
		if err != nil {
			return fmt.Errorf("run %s: %w", name, err)
		}
		fmt.Fprintf(os.Stderr, "%s: %d docs in %s\n", name, r.docs, r.wall.Round(time.Millisecond))
		results = append(results, r)
	}
	printTable(o, results)
	return nil
}

func generator(o options, lean bool, namespace string) (*demo.Generator, error) {
	return demo.New(demo.Config{Seed: 1, End: o.end, Days: o.days, Users: o.users, Scenarios: true, Lean: lean, Namespace: namespace})
}

func generate(o options) (result, error) {
	g, err := generator(o, false, "bench")
	if err != nil {
		return result{}, err
	}
	var docs, bytes atomic.Int64
	cpu0, t0 := benchkit.CPUTime(), time.Now()
	err = g.EachParallel(o.generators, func(d demo.Doc) error {
		docs.Add(1)
		bytes.Add(int64(len(d.Body)))
		return nil
	})
	return result{name: "generate", target: "none", docs: docs.Load(), bytes: bytes.Load(),
		wall: time.Since(t0), cpu: benchkit.CPUTime() - cpu0}, err
}

// sinkLoad runs demo.Load against a local HTTP server that answers like
// Elasticsearch and accepts every bulk item without storing anything.
func sinkLoad(ctx context.Context, o options) (result, error) {
	srv := httptest.NewServer(http.HandlerFunc(sink))
	defer srv.Close()
	c, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{srv.URL}})
	if err != nil {
		return result{}, fmt.Errorf("create client: %w", err)
	}
	return load(ctx, c, o, false, "sink", "sink")
}

func sink(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	if !strings.HasSuffix(r.URL.Path, "/_bulk") {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/_settings") {
			_, _ = w.Write([]byte(`{}`))
			return
		}
		_, _ = w.Write([]byte(`{"acknowledged":true}`))
		return
	}
	body, _ := io.ReadAll(r.Body)
	items := bytes.Count(body, []byte{'\n'}) / 2
	var out bytes.Buffer
	out.WriteString(`{"errors":false,"items":[`)
	for i := range items {
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteString(`{"create":{"status":201}}`)
	}
	out.WriteString(`]}`)
	_, _ = w.Write(out.Bytes())
}

func esLoad(ctx context.Context, o options, lean bool) (result, error) {
	c, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{o.es}})
	if err != nil {
		return result{}, fmt.Errorf("create client: %w", err)
	}
	name, namespace := "es", "bench-loader"
	if lean {
		name, namespace = "es-lean", "bench-loader-lean"
	}
	// A data stream where the template makes one (a full distribution), else an index.
	_ = benchkit.Call(ctx, c, http.MethodDelete, "/_data_stream/logs-okta.system-"+namespace, "")
	if err := benchkit.Call(ctx, c, http.MethodDelete, "/logs-okta.system-"+namespace+"?ignore_unavailable=true", ""); err != nil {
		return result{}, err
	}
	es0, err := esCPU(ctx, c)
	if err != nil {
		return result{}, err
	}
	r, err := load(ctx, c, o, lean, name, namespace)
	if err != nil {
		return r, err
	}
	es1, err := esCPU(ctx, c)
	r.esCPU = es1 - es0
	r.target = o.es
	return r, err
}

func load(ctx context.Context, c *elasticsearch.Client, o options, lean bool, name, namespace string) (result, error) {
	g, err := generator(o, lean, namespace)
	if err != nil {
		return result{}, err
	}
	total, err := g.Count()
	if err != nil {
		return result{}, err
	}
	cfg := demo.LoadConfig{NumWorkers: o.workers, FlushBytes: o.flushBytes, Total: int64(total), Clock: time.Now}
	each := func(yield func(demo.Doc) error) error { return g.EachParallel(o.generators, yield) }
	cpu0, t0 := benchkit.CPUTime(), time.Now()
	s, err := demo.Load(ctx, c, g.Indices(), each, cfg)
	r := result{name: name, target: "sink", docs: s.Created + s.Duplicates, bytes: int64(s.Bytes),
		wall: time.Since(t0), cpu: benchkit.CPUTime() - cpu0, requests: int64(s.Requests), retried: s.Retried}
	if err == nil && r.docs != int64(total) {
		err = fmt.Errorf("loaded %d of %d documents", r.docs, total)
	}
	return r, err
}

// esCPU is the Elasticsearch node's process CPU time so far (the local node).
func esCPU(ctx context.Context, c *elasticsearch.Client) (time.Duration, error) {
	res, err := c.Nodes.Stats(c.Nodes.Stats.WithContext(ctx), c.Nodes.Stats.WithNodeID("_local"), c.Nodes.Stats.WithMetric("process"))
	if err != nil {
		return 0, fmt.Errorf("read node stats: %w", err)
	}
	defer res.Body.Close()
	var body struct {
		Nodes map[string]struct {
			Process struct {
				CPU struct {
					TotalInMillis int64 `json:"total_in_millis"`
				} `json:"cpu"`
			} `json:"process"`
		} `json:"nodes"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return 0, fmt.Errorf("decode node stats: %w", err)
	}
	for _, n := range body.Nodes {
		return time.Duration(n.Process.CPU.TotalInMillis) * time.Millisecond, nil
	}
	return 0, fmt.Errorf("node stats: no node")
}

func printTable(o options, rs []result) {
	fmt.Printf("\n%d users, %d days, %d bulk workers, %d generators, %d MiB requests, peak RSS %.1f MiB\n\n",
		o.users, o.days, o.workers, o.generators, o.flushBytes>>20, float64(benchkit.PeakRSSKiB())/1024)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "run\tdocs\tMiB\twall\tdocs/s\tMiB/s\tloader CPU\tES CPU (cores)\trequests\tretried")
	for _, r := range rs {
		secs := r.wall.Seconds()
		es := "-"
		if r.esCPU > 0 {
			es = fmt.Sprintf("%.2f", r.esCPU.Seconds()/secs)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%.0f\t%.1f\t%s\t%s\t%d\t%d\n", r.name, r.docs, float64(r.bytes)/(1<<20),
			r.wall.Round(10*time.Millisecond), float64(r.docs)/secs, float64(r.bytes)/(1<<20)/secs,
			r.cpu.Round(10*time.Millisecond), es, r.requests, r.retried)
	}
	tw.Flush()
}
