package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/engine"
	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/interrupt"
	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/output"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/schedule"
)

// tickOptions are the flags shared by serve and run without --at: where the
// state lives, how far catch-up goes, and the lease.
type tickOptions struct {
	// sched holds --max-catchup, --lease-ttl, --owner, --fill-old-gaps,
	// --gap-fill-chunk and --concurrency.
	sched schedule.Config
	// engine holds --state-index, --max-response-bytes and
	// --execution-timeout.
	engine    engine.Config
	startFrom string
}

func (o *tickOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.engine.StateIndex, "state-index", mappings.StateIndex, "index of the per-rule state documents")
	f.DurationVar(&o.sched.MaxCatchup, "max-catchup", schedule.DefaultMaxCatchup,
		"oldest missed slot still executed; older ones are reported as a gap to fill with esrule backfill (0: no limit)")
	f.StringVar(&o.startFrom, "start-from", "now",
		"where a rule without state starts: now (the latest slot), an RFC 3339 time, a date or date math")
	f.DurationVar(&o.sched.LeaseTTL, "lease-ttl", schedule.DefaultLeaseTTL,
		"rule lease duration, renewed every third of it while a rule runs: the takeover time after a replica dies")
	f.DurationVar(&o.engine.Timeout, "execution-timeout", 0, "limit of one slot's execution (default: the rule's interval)")
	f.StringVar(&o.sched.Owner, "owner", "", "replica id in rule leases (default: hostname-pid-random)")
	f.BoolVar(&o.sched.FillOldGaps, "fill-old-gaps", false,
		"fill missed slots older than --max-catchup in the background through the backfill engine (at most --gap-fill-chunk per tick)")
	f.DurationVar(&o.sched.GapFillChunk, "gap-fill-chunk", schedule.DefaultGapFillChunk,
		"with --fill-old-gaps: the part of a rule's gap one tick fills")
	f.Int64Var(&o.engine.MaxResponseBytes, "max-response-bytes", esclient.DefaultMaxResponseBytes,
		"largest search response read; larger ones halve the batch and retry")
	f.IntVar(&o.sched.Concurrency, "concurrency", schedule.DefaultConcurrency, "rules ticked at once by this replica")
}

// validate checks the flags and returns --start-from as a time (zero: now,
// the latest slot).
func (o *tickOptions) validate(now time.Time) (time.Time, error) {
	s, e := o.sched, o.engine
	if s.MaxCatchup == 0 {
		o.sched.MaxCatchup = schedule.NoCatchupLimit
	}
	switch {
	case s.MaxCatchup < 0:
		return time.Time{}, usagef("--max-catchup %s: want 0 (no limit) or a positive duration", s.MaxCatchup)
	case s.LeaseTTL < 0 || e.Timeout < 0:
		return time.Time{}, usagef("--lease-ttl and --execution-timeout must not be negative")
	case s.GapFillChunk < 0:
		return time.Time{}, usagef("--gap-fill-chunk %s: want a positive duration", s.GapFillChunk)
	case s.Concurrency < 0:
		return time.Time{}, usagef("--concurrency %d: want a positive number (0: the default, %d)", s.Concurrency, schedule.DefaultConcurrency)
	case e.MaxResponseBytes <= 0:
		return time.Time{}, usagef("--max-response-bytes %d: want a positive size", e.MaxResponseBytes)
	case e.StateIndex == "":
		return time.Time{}, usagef("--state-index must not be empty")
	case o.startFrom == "" || o.startFrom == "now":
		return time.Time{}, nil
	}
	return timeFlag("start-from", o.startFrom, now)
}

// schedule is the scheduler's configuration of rules from the flags.
func (o *tickOptions) schedule(rules []*rule.Rule, startFrom time.Time) schedule.Config {
	sc := o.sched
	sc.Rules, sc.Owner, sc.StartFrom = rules, o.ownerID(), startFrom
	return sc
}

// ownerID is --owner, or hostname-pid-random: unique per process, readable in
// the state document.
func (o *tickOptions) ownerID() string {
	if o.sched.Owner != "" {
		return o.sched.Owner
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "esrule"
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// runOptions are the flags of `esrule run`.
type runOptions struct {
	at     string
	format string
	tick   tickOptions
	notify notifyFlags
}

func newRunCommand(g *globalOptions) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Execute each selected rule once for one slot, then exit",
		Long:  longHelp("run"),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := output.CheckFormat(o.format); err != nil {
				return asUsage(err)
			}
			ctx, sig, stop := interrupt.Context(cmd.Context())
			defer stop()
			if o.at == "" && !g.dryRun {
				return interrupt.Mark(runTick(ctx, g, o, cmd.OutOrStdout(), time.Now()), sig())
			}
			return interrupt.Mark(runSlots(ctx, g, o, cmd.OutOrStdout(), time.Now()), sig())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.at, "at", "", "slot time: RFC 3339, date or date math, aligned to the rule's interval (default: the latest completed slot)")
	output.AddFormatFlag(f, &o.format, output.JSON)
	o.tick.addFlags(f)
	o.notify.addFlags(f)
	return cmd
}

// slotsFor returns the slot of each rule: --at (which must be aligned) or
// the latest completed slot at now.
func slotsFor(rules []*rule.Rule, at string, now time.Time) ([]time.Time, error) {
	var t time.Time
	if at != "" {
		var err error
		if t, err = timeFlag("at", at, now); err != nil {
			return nil, err
		}
	}
	slots, err := detect.SlotsFor(rules, t, now)
	if err != nil {
		return nil, usagef("--at: %w", err)
	}
	return slots, nil
}

// runSlots executes one slot of every rule: --at, or with --dry-run the
// latest completed one. It does not touch the checkpoints.
func runSlots(ctx context.Context, g *globalOptions, o runOptions, stdout io.Writer, now time.Time) error {
	rules, err := g.start("")
	if err != nil {
		return err
	}
	slots, err := slotsFor(rules, o.at, now)
	if err != nil {
		return err
	}
	if _, err := o.tick.validate(now); err != nil {
		return err
	}
	actions, err := o.notify.loadActions()
	if err != nil {
		return err
	}
	e, err := g.newEngine(o.tick.engine)
	if err != nil {
		return err
	}
	lines, out := output.NewLines(stdout), output.NewSummaries(stdout, o.format)
	return e.RunSlots(ctx, rules, slots, engine.SlotOptions{
		DryRun:        g.dryRun,
		Notifications: engine.Notifications{Config: actions, Owner: o.tick.ownerID()},
		Report: func(r *rule.Rule, res detect.Result, err error) error {
			if g.dryRun {
				if err := lines.AlertDocs(g.alias(r.Space), res.Alerts); err != nil {
					return err
				}
			}
			return out.Run(detect.Summarize(res, err))
		},
	})
}

// runTick is `esrule run` without --at: one tick of serve for every selected
// rule, then one delivery round of the notification actions (engine.Tick).
// It prints one summary per slot executed one by one and fails (exit 1) if
// any execution failed.
func runTick(ctx context.Context, g *globalOptions, o runOptions, stdout io.Writer, now time.Time) error {
	rules, err := g.start("")
	if err != nil {
		return err
	}
	startFrom, err := o.tick.validate(now)
	if err != nil {
		return err
	}
	actions, err := o.notify.loadActions()
	if err != nil {
		return err
	}
	out := output.NewSummaries(stdout, o.format)
	cfg := o.tick.engine
	cfg.OnSlot = func(res detect.Result, err error) { _ = out.Run(detect.Summarize(res, err)) }
	e, err := g.newEngine(cfg)
	if err != nil {
		return err
	}
	err = e.Tick(ctx, o.tick.schedule(rules, startFrom), actions)
	return errors.Join(out.Err(), err)
}
