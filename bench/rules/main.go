// Command rules benchmarks one scheduler tick of a catalogue-sized rule set:
// the rules under rules/ plus rules generated from the built-in one (other
// new-terms fields, history windows and queries) up to --rules, over the
// Okta index bench/backfill loads (reached through the alias
// logs-okta.system-bench, so the catalogue's Okta rule reads it too; the
// other catalogue rules read their own, usually empty, index patterns). For
// each replica count it runs that many serve replicas (schedulers with their
// own client and owner, keeping leases, sharing one fresh state index) in
// this process: a warm-up tick at the slot before, which registers the
// replicas and starts every rule, then the measured tick. It prints the
// tick's wall time, how the rules spread over the replicas, and whether any
// rule was executed twice or not at all for the slot.
//
//	go run ./bench/rules [--es URL] [--rules 245] [--replicas 1,2,3] [--concurrency 4]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/rs/zerolog"

	"github.com/esrule/esrule/bench/internal/benchkit"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/engine"
	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/schedule"
)

type options struct {
	es          string
	index       string
	catalog     string
	rules       int
	replicas    string
	concurrency string
	slot        string
	keep        bool
}

// alias is the Okta data stream-like name the bench index is reached by.
const alias = "logs-okta.system-bench"

func main() {
	var o options
	flag.StringVar(&o.es, "es", benchkit.EnvOr("ELASTICSEARCH_URL", "http://127.0.0.1:9250"), "Elasticsearch URL")
	flag.StringVar(&o.index, "index", "esrule-bench-bf-okta-e3333334-a50000-d30-s1-p1-v1-r0.05",
		"Okta data index (load it with go run ./bench/backfill --arrivals 0.05 --jobs none)")
	flag.StringVar(&o.catalog, "catalog", "rules", "directory of catalogue rules")
	flag.IntVar(&o.rules, "rules", 245, "rules in total: the catalogue plus generated ones")
	flag.StringVar(&o.replicas, "replicas", "1,2,3", "replica counts to measure")
	flag.StringVar(&o.concurrency, "concurrency", "4", "rules ticked at once per replica (comma-separated values are measured in turn)")
	flag.StringVar(&o.slot, "slot", "2026-02-01T00:00:00Z", "slot of the measured tick (the end of the data)")
	flag.BoolVar(&o.keep, "keep", false, "keep the state and alerts indices")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("want positive integers, got %q", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// row is one measured configuration.
type row struct {
	replicas, concurrency int
	warmup, wall          time.Duration
	perReplica            []int // rules executed by each replica in the measured tick
	twice, missed         int
	elsewhere, leaseHeld  int
	failed                int
	alerts                int
	load                  string
}

func run(ctx context.Context, o options, out io.Writer) error {
	slot, err := time.Parse(time.RFC3339, o.slot)
	if err != nil {
		return fmt.Errorf("parse --slot: %w", err)
	}
	counts, err := ints(o.replicas)
	if err != nil {
		return fmt.Errorf("--replicas: %w", err)
	}
	concs, err := ints(o.concurrency)
	if err != nil {
		return fmt.Errorf("--concurrency: %w", err)
	}
	c, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{o.es}})
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	if err := benchkit.Call(ctx, c, "PUT", "/"+o.index+"/_alias/"+alias, ""); err != nil {
		return fmt.Errorf("alias the data index (load it first): %w", err)
	}
	catalog, err := rule.Load([]string{o.catalog})
	if err != nil {
		return err
	}
	var rows []row
	for _, conc := range concs {
		for _, n := range counts {
			rules, err := ruleSet(catalog, o.rules)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "%d rules, %d replicas, concurrency %d\n", len(rules), n, conc)
			r, err := measure(ctx, c, o, rules, n, conc, slot)
			if err != nil {
				return err
			}
			rows = append(rows, r)
		}
	}
	fmt.Fprintf(out, "\n%d rules (%d from %s, the rest generated over %s = %s), slot %s\n\n",
		o.rules, len(catalog), o.catalog, alias, o.index, slot.Format(time.RFC3339))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "replicas\tconcurrency\twarm-up tick\ttick wall\trules executed per replica\tin another's share\tlease held\texecuted twice\tnot executed\tfailed\talerts\tload after\t")
	for _, r := range rows {
		per := make([]string, len(r.perReplica))
		for i, v := range r.perReplica {
			per[i] = strconv.Itoa(v)
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", r.replicas, r.concurrency,
			r.warmup.Round(100*time.Millisecond), r.wall.Round(100*time.Millisecond), strings.Join(per, " / "),
			r.elsewhere, r.leaseHeld, r.twice, r.missed, r.failed, r.alerts, r.load)
	}
	return tw.Flush()
}

// ruleSet is the catalogue (fresh copies) plus generated rules up to total.
func ruleSet(catalog []*rule.Rule, total int) ([]*rule.Rule, error) {
	fields := [][]string{
		{"okta.actor.id"}, {"source.ip"}, {"okta.client.ip"}, {"user.name"}, {"okta.actor.alternate_id"},
		{"okta.actor.id", "source.ip"}, {"user.name", "okta.client.ip"},
	}
	histories := []string{"now-7d", "now-5d", "now-3d", "now-10d", "now-14d"}
	queries := []string{
		rule.Builtin().Query,
		"event.dataset:okta.system and okta.security_context.is_proxy:true",
		"event.dataset:okta.system and okta.event_type:user.session.start and not okta.actor.id: okta*",
	}
	var rules []*rule.Rule
	for _, r := range catalog {
		cp := *r
		rules = append(rules, &cp)
	}
	for i := 0; len(rules) < total; i++ {
		r := rule.Builtin()
		r.ID, r.RuleID = fmt.Sprintf("bench-generated-%03d", i), fmt.Sprintf("bench-generated-%03d", i)
		r.Name = fmt.Sprintf("Generated Okta rule %d", i)
		r.Index = []string{alias}
		r.NewTermsFields = fields[i%len(fields)]
		r.HistoryWindowStart = histories[(i/len(fields))%len(histories)]
		r.Query = queries[(i/(len(fields)*len(histories)))%len(queries)]
		if err := r.Normalize(); err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules[:total], nil
}

func measure(ctx context.Context, c *elasticsearch.Client, o options, rules []*rule.Rule, n, conc int, slot time.Time) (row, error) {
	res := row{replicas: n, concurrency: conc}
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)
	space := "benchrules-" + tag
	stateIndex := "esrule-bench-rules-state-" + tag
	zero := 0
	if err := mappings.Ensure(ctx, c, mappings.Options{Space: space, Replicas: &zero, StateIndex: stateIndex}); err != nil {
		return res, fmt.Errorf("set up alerts space %s: %w", space, err)
	}
	if !o.keep {
		defer benchkit.CleanupSpace(c, space)
		defer func() { _ = benchkit.Call(context.Background(), c, "DELETE", "/"+stateIndex, "") }()
	}
	for _, r := range rules {
		r.Space = space
	}
	var now atomic.Int64 // the replicas' clock, moved by the bench
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	var (
		mu       sync.Mutex
		executed = map[string]int{} // rule id -> executions of the measured slot
		alerts   int
	)
	scheds := make([]*schedule.Scheduler, n)
	for i := range n {
		e, err := engine.New(engine.Config{
			ES: esclient.Config{Addresses: []string{o.es}}, Clock: clock, StateIndex: stateIndex,
			Logger: zerolog.New(os.Stderr).Level(zerolog.WarnLevel).With().Timestamp().Str("replica", strconv.Itoa(i)).Logger(),
			OnSlot: func(r detect.Result, err error) {
				if err != nil || !r.Slot.Equal(slot) {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				executed[r.RuleID]++
				alerts += r.AlertsCreated
			},
		})
		if err != nil {
			return res, err
		}
		if scheds[i], err = e.Scheduler(schedule.Config{
			Rules: rules, Owner: fmt.Sprintf("replica-%d", i), KeepLease: true, Concurrency: conc,
		}); err != nil {
			return res, err
		}
	}
	tick := func(at time.Time) (time.Duration, [][]schedule.TickReport, error) {
		now.Store(at.UnixNano())
		reports := make([][]schedule.TickReport, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := time.Now()
		for i, s := range scheds {
			wg.Go(func() { reports[i], errs[i] = s.Tick(ctx) })
		}
		wg.Wait()
		return time.Since(start), reports, errors.Join(errs...)
	}
	// The measured slot is a boundary of every catalogue interval; the
	// warm-up tick is one built-in interval before it. The 10 s after the
	// boundary are the clock's, not a wait.
	iv := rule.Builtin().Timing.Interval
	var err error
	if res.warmup, _, err = tick(slot.Add(-iv).Add(10 * time.Second)); err != nil {
		res.failed = strings.Count(err.Error(), "\n") + 1
		fmt.Fprintln(os.Stderr, "warm-up tick:", err)
	}
	wall, reports, err := tick(slot.Add(10 * time.Second))
	res.wall, res.load = wall, benchkit.LoadAvg()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tick:", err)
	}
	res.perReplica = make([]int, n)
	for i, reps := range reports {
		for _, rep := range reps {
			switch {
			case rep.Err != nil:
				res.failed++
			case rep.Elsewhere:
				res.elsewhere++
			case rep.LeaseHeld:
				res.leaseHeld++
			case rep.Executed > 0:
				res.perReplica[i]++
			}
		}
	}
	for _, r := range rules {
		switch k := executed[r.RuleID]; {
		case k > 1:
			res.twice++
		case k == 0:
			res.missed++
		}
	}
	res.alerts = alerts
	return res, nil
}
