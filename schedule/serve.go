package schedule

import (
	"context"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/esrule/esrule/rule"
)

// Serve ticks every rule at once (catch-up on start) and then on its
// schedule until ctx ends. Then it starts no new execution, lets the running
// ones finish within ShutdownGrace, cancels them after that (their
// checkpoints stay; the slots run again on the next start), releases the
// leases it holds and returns nil. Failed ticks are logged and recorded in the
// state; they are retried by the next tick.
func (s *Scheduler) Serve(ctx context.Context) error {
	// Executions get a context of their own so that shutdown can let them
	// finish: it is cancelled only after the grace period.
	work, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()

	l := cronLogger{s.cfg.Logger}
	c := cron.New(
		cron.WithLocation(time.UTC),
		cron.WithLogger(l),
		cron.WithChain(cron.Recover(l), cron.SkipIfStillRunning(l)),
	)
	var first []cron.Job
	for _, r := range s.cfg.Rules {
		sched, err := s.scheduleOf(r)
		if err != nil {
			return err
		}
		id := c.Schedule(sched, cron.FuncJob(func() { s.serveTick(ctx, work, sched, r) }))
		first = append(first, c.Entry(id).WrappedJob)
	}
	var starting sync.WaitGroup
	for _, job := range first {
		starting.Go(job.Run)
	}
	c.Start()
	s.cfg.Logger.Info().Int("rules", len(s.cfg.Rules)).Str("owner", s.cfg.Owner).Msg("scheduler started")

	<-ctx.Done()
	stopped := c.Stop()
	finished := make(chan struct{})
	go func() {
		<-stopped.Done()
		starting.Wait()
		close(finished)
	}()
	grace := time.NewTimer(s.cfg.ShutdownGrace)
	defer grace.Stop()
	select {
	case <-finished:
	case <-grace.C:
		s.cfg.Logger.Warn().Str("grace", s.cfg.ShutdownGrace.String()).Msg("shutdown grace period over, abandoning running executions")
		abandon()
		<-finished
	}
	s.releaseAll(context.WithoutCancel(ctx))
	s.leave(context.WithoutCancel(ctx))
	s.cfg.Logger.Info().Msg("scheduler stopped")
	return nil
}

func (s *Scheduler) scheduleOf(r *rule.Rule) (cron.Schedule, error) {
	for _, key := range []string{r.RuleID, r.SavedObjectID()} {
		if sched, ok := s.cfg.Schedules[key]; ok {
			return sched, nil
		}
	}
	return SlotSchedule{Interval: r.Timing.Interval, Delay: s.cfg.Delay}, nil
}

// serveTick runs one tick of r. When another replica holds the lease and
// it expires before the rule's next tick, it tries again at the expiry, so
// that a replica takes over a dead one's rules within the lease TTL rather
// than at the next slot boundary.
func (s *Scheduler) serveTick(stop, work context.Context, sched cron.Schedule, r *rule.Rule) {
	quiet := false
	for {
		rep := s.tickRule(work, stop.Done(), r, quiet)
		if !rep.LeaseHeld || stop.Err() != nil {
			return
		}
		now := s.cfg.Clock()
		if !rep.LeaseExpiresAt.Before(sched.Next(now)) {
			return
		}
		t := time.NewTimer(max(rep.LeaseExpiresAt.Sub(now)+leaseSkew, 0))
		select {
		case <-stop.Done():
			t.Stop()
			return
		case <-t.C:
		}
		quiet = true
	}
}

// releaseAll gives up the leases this replica holds so that another replica
// takes over at its next tick instead of after the lease expires.
func (s *Scheduler) releaseAll(ctx context.Context) {
	for _, h := range s.takeHolders() {
		h.release(ctx)
	}
}

// cronLogger adapts zerolog to cron.Logger; cron's routine messages are Debug.
type cronLogger struct{ l zerolog.Logger }

func (c cronLogger) Info(msg string, kv ...any) {
	c.l.Debug().Fields(kv).Msg("cron: " + msg)
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error().Err(err).Fields(kv).Msg("cron: " + msg)
}
