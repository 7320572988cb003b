package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/rs/zerolog"
	"github.com/spf13/pflag"

	"github.com/esrule/esrule/backfill"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/esquery"
	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/schedule"
	"github.com/esrule/esrule/state"
)

// tickOptions are the flags shared by `serve` and `run` without --at: where
// the state lives, how far catch-up goes, and the lease.
type tickOptions struct {
	stateIndex       string
	maxCatchup       time.Duration
	startFrom        string
	leaseTTL         time.Duration
	timeout          time.Duration
	owner            string
	maxResponseBytes int64
}

func (o *tickOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.stateIndex, "state-index", mappings.StateIndex, "index of the per-rule state documents")
	f.DurationVar(&o.maxCatchup, "max-catchup", schedule.DefaultMaxCatchup,
		"oldest missed slot still executed; older ones are reported as a gap to fill with esrule backfill")
	f.StringVar(&o.startFrom, "start-from", "now",
		"where a rule without state starts: now (the latest slot) or an RFC 3339 time")
	f.DurationVar(&o.leaseTTL, "lease-ttl", 0, "rule lease duration, renewed after every slot (default: twice the rule's interval, at least the timeout plus one interval)")
	f.DurationVar(&o.timeout, "execution-timeout", 0, "limit of one slot's execution (default: the rule's interval)")
	f.StringVar(&o.owner, "owner", "", "replica id in rule leases (default: hostname-pid-random)")
}

// addMaxResponseBytes adds --max-response-bytes (run defines its own).
func (o *tickOptions) addMaxResponseBytes(f *pflag.FlagSet) {
	f.Int64Var(&o.maxResponseBytes, "max-response-bytes", esquery.DefaultMaxResponseBytes,
		"largest search response read; larger ones halve the batch and retry")
}

// validate checks the flags and returns --start-from as a time (zero: now).
func (o *tickOptions) validate() (time.Time, error) {
	if o.maxCatchup < 0 {
		return time.Time{}, usagef("--max-catchup %s: want 0 (no limit) or a positive duration", o.maxCatchup)
	}
	if o.leaseTTL < 0 || o.timeout < 0 {
		return time.Time{}, usagef("--lease-ttl and --execution-timeout must not be negative")
	}
	if o.maxResponseBytes <= 0 {
		return time.Time{}, usagef("--max-response-bytes %d: want a positive size", o.maxResponseBytes)
	}
	if o.stateIndex == "" {
		return time.Time{}, usagef("--state-index must not be empty")
	}
	if o.startFrom == "" || o.startFrom == "now" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, o.startFrom)
	if err != nil {
		return time.Time{}, usagef("--start-from %q: want now or an RFC 3339 time such as 2024-05-01T10:05:00Z", o.startFrom)
	}
	return t.UTC(), nil
}

// ownerID is --owner, or hostname-pid-random: unique per process, readable in
// the state document.
func (o *tickOptions) ownerID() string {
	if o.owner != "" {
		return o.owner
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "esrule"
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// rulesSpaces returns the distinct spaces of rules, in order.
func rulesSpaces(rules []*rule.Rule) []string {
	var spaces []string
	seen := map[string]bool{}
	for _, r := range rules {
		s := r.Space
		if s == "" {
			s = rule.DefaultSpace
		}
		if !seen[s] {
			seen[s] = true
			spaces = append(spaces, s)
		}
	}
	return spaces
}

// ensureMappings installs the alerts template and alias of every space and the
// state index when one of them is missing.
func ensureMappings(ctx context.Context, c *elasticsearch.Client, spaces []string, stateIndex string) error {
	for _, space := range spaces {
		o := mappings.Options{Space: space, StateIndex: stateIndex}
		missing, err := mappings.Missing(ctx, c, o)
		if err != nil {
			return fmt.Errorf("check the alerts and state indices of space %s: %w", space, err)
		}
		if len(missing) == 0 {
			continue
		}
		if err := mappings.Ensure(ctx, c, o); err != nil {
			var re *mappings.ResponseError
			if errors.As(err, &re) && re.Status == http.StatusForbidden {
				return fmt.Errorf("install the alerts and state indices of space %s (missing: %s; run esrule setup with the esrule-setup role first): %w",
					space, strings.Join(missing, ", "), err)
			}
			return fmt.Errorf("install the alerts and state indices of space %s: %w", space, err)
		}
	}
	return nil
}

// spaceRunner executes a slot with the executor of the rule's space (each
// space has its own alerts alias).
type spaceRunner map[string]*detect.Executor

func newSpaceRunner(c *elasticsearch.Client, log zerolog.Logger, spaces []string, maxResponseBytes int64) spaceRunner {
	sr := spaceRunner{}
	for _, s := range spaces {
		sr[s] = newExecutor(c, log, s, runOptions{maxResponseBytes: maxResponseBytes})
	}
	return sr
}

func (sr spaceRunner) Run(ctx context.Context, r *rule.Rule, slot time.Time, o detect.RunOptions) (detect.Result, error) {
	space := r.Space
	if space == "" {
		space = rule.DefaultSpace
	}
	ex, ok := sr[space]
	if !ok {
		return detect.Result{}, fmt.Errorf("run rule %s: no executor for space %s", r.RuleID, space)
	}
	return ex.Run(ctx, r, slot, o)
}

// summaryRunner prints one runSummary line per executed slot, as `run --at` does.
type summaryRunner struct {
	next schedule.SlotRunner
	mu   sync.Mutex
	enc  *json.Encoder
	err  error
}

func (s *summaryRunner) Run(ctx context.Context, r *rule.Rule, slot time.Time, o detect.RunOptions) (detect.Result, error) {
	res, err := s.next.Run(ctx, r, slot, o)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.enc.Encode(summarize(res, err)); e != nil && s.err == nil {
		s.err = fmt.Errorf("write summary: %w", e)
	}
	return res, err
}

// runTick is `esrule run` without --at: one tick of serve for every selected
// rule (every slot from the rule's checkpoint to the latest completed slot,
// catch-up and gap reporting included, under the rule's lease), then return.
// It prints one JSON summary line per executed slot on stdout and returns an
// error (exit 1) if any execution failed. A rule whose lease another replica
// holds is skipped (logged). --dry-run is not handled here: run.go keeps its
// single-slot dry run for that case.
//
// Afterwards it runs one delivery round of the notification actions in nf, so
// that a CronJob notifies too; what it cannot deliver, the next run does.
func runTick(ctx context.Context, g *globalOptions, o tickOptions, nf notifyFlags, stdout io.Writer, now func() time.Time) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log, err := g.logger()
	if err != nil {
		return err
	}
	if g.dryRun {
		return usagef("--dry-run needs --at: a tick writes state")
	}
	rules, err := g.loadRules(log)
	if err != nil {
		return err
	}
	startFrom, err := o.validate()
	if err != nil {
		return err
	}
	if _, err := nf.loadActions(); err != nil {
		return err
	}
	c, err := g.es.client()
	if err != nil {
		return err
	}
	spaces := rulesSpaces(rules)
	owner := o.ownerID()
	if err := ensureMappings(ctx, c, spaces, o.stateIndex); err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	runner := &summaryRunner{next: newSpaceRunner(c, log, spaces, o.maxResponseBytes), enc: enc}
	s, err := schedule.New(schedule.Config{
		Rules: rules, Store: state.NewStore(c, o.stateIndex), Runner: runner, Clock: now,
		Execute: catchupExecute(c, log, o, spaces, runner),
		Owner:   owner, LeaseTTL: o.leaseTTL, Timeout: o.timeout, MaxCatchup: o.maxCatchup,
		StartFrom: startFrom, Logger: log,
	})
	if err != nil {
		return asUsage(err)
	}
	reports, err := s.Tick(ctx)
	for _, rep := range reports {
		ev := log.Info().Str("rule_id", rep.RuleID).Int("slots_executed", rep.Executed).Bool("lease_held_elsewhere", rep.LeaseHeld)
		if rep.Checkpoint != nil {
			ev = ev.Time("checkpoint", *rep.Checkpoint)
		}
		ev.Msg("tick done")
	}
	if derr := deliverOnce(ctx, nf, c, spaces, owner, log, now); derr != nil {
		log.Warn().Err(derr).Msg("notifications not all delivered; the next run retries")
	}
	if err != nil {
		failed := 0
		for _, rep := range reports {
			if rep.Err != nil {
				failed++
			}
		}
		return fmt.Errorf("%d of %d rules failed: %w", failed, len(reports), err)
	}
	return runner.err
}

// catchupExecute executes the due slots of a tick: a few one by one with
// runner, a longer run of missed slots (a restart after downtime, a late
// CronJob) through the backfill fast path, which writes the same alerts with
// one scan instead of one history search per slot.
func catchupExecute(c *elasticsearch.Client, log zerolog.Logger, o tickOptions, spaces []string, runner schedule.SlotRunner) schedule.ExecuteFunc {
	perSlot := schedule.PerSlot(runner, o.timeout)
	bySpace := map[string]schedule.ExecuteFunc{}
	for _, space := range spaces {
		d := backfillDeps(c, log, space, backfillOptions{stateIndex: o.stateIndex, maxResponseBytes: o.maxResponseBytes})
		bySpace[space] = backfill.ExecuteFunc(d, perSlot, 0)
	}
	return func(ctx context.Context, r *rule.Rule, slots []time.Time, done func(schedule.SlotDone) error) error {
		space := r.Space
		if space == "" {
			space = rule.DefaultSpace
		}
		execute, ok := bySpace[space]
		if !ok {
			return fmt.Errorf("execute rule %s: no executor for space %s", r.RuleID, space)
		}
		return execute(ctx, r, slots, done)
	}
}
