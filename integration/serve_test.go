//go:build integration

package integration

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/metrics"
	"github.com/esrule/esrule/schedule"
	"github.com/esrule/esrule/state"
)

// TestIntegrationServeTicks: serve catches up from S0 on start, then ticks
// every slot; its alerts equal a slot-by-slot run, and the state says so.
func TestIntegrationServeTicks(t *testing.T) {
	t.Parallel()
	e := newServeEnv(t)
	run := newCountingRunner(e.newEngine(t, esURL, e.alias, serveTimeout))
	stop := startServe(t, e.config("replica-a", e.store, run))
	e.waitCheckpoint(t, e.slot(5))
	stop()

	st := e.ruleState(t)
	through := *st.LastCompletedSlot
	require.Equal(t, state.StatusSucceeded, st.LastStatus)
	require.Empty(t, st.LastError)
	require.Nil(t, st.Lease, "shutdown releases the lease")
	require.Nil(t, st.Gap)
	require.Equal(t, alerts.ExecutionUUID(e.space, e.rule.SavedObjectID(), through), st.LastExecutionUUID)
	runs, failed := run.counts()
	require.Zero(t, failed)
	e.requireOncePerSlot(t, runs, through)
	e.requireSameAlerts(t, through)
}

// TestIntegrationServeCrashMidSlot: the process dies after a slot's alerts
// are written but before its checkpoint (the execution is abandoned at
// shutdown); a restart re-runs that slot: nothing lost, nothing duplicated.
func TestIntegrationServeCrashMidSlot(t *testing.T) {
	t.Parallel()
	e := newServeEnv(t)
	crashSlot := e.slot(3)
	run := newCountingRunner(e.newEngine(t, esURL, e.alias, serveTimeout))
	held := make(chan struct{})
	run.hook = func(ctx context.Context, slot time.Time, err error) error {
		if !slot.Equal(crashSlot) {
			return err
		}
		close(held)
		<-ctx.Done() // alerts written; hang until abandoned
		return ctx.Err()
	}
	cfg := e.config("replica-a", e.store, run)
	cfg.ShutdownGrace = 100 * time.Millisecond
	stop := startServe(t, cfg)
	waitChan(t, "slot 3 reached", held, func() string { return describeState(e.ruleState(t)) })
	stop()
	st := e.ruleState(t)
	require.True(t, st.LastCompletedSlot.Equal(e.slot(2)), "abandoned slot must not move the checkpoint: %v", st.LastCompletedSlot)
	require.Greater(t, len(alertsByID(t, e.c, e.alias, e.rule.SavedObjectID())), 0)

	restarted := newCountingRunner(e.newEngine(t, esURL, e.alias, serveTimeout))
	stop = startServe(t, e.config("replica-b", e.store, restarted))
	e.waitCheckpoint(t, e.slot(6))
	stop()
	through := *e.ruleState(t).LastCompletedSlot
	first, _ := run.counts()
	second, _ := restarted.counts()
	require.Equal(t, 1, first[crashSlot])
	require.Equal(t, 1, second[crashSlot], "the abandoned slot runs again after the restart")
	for slot, n := range second {
		first[slot] += n
	}
	first[crashSlot]-- // the abandoned execution
	e.requireOncePerSlot(t, first, through)
	e.requireSameAlerts(t, through)
}

// TestIntegrationServeDowntime: serve stops for several slots; on restart it
// executes every missed slot, oldest first, with the same alerts as an
// uninterrupted run. A restart after a longer downtime than --max-catchup
// records the gap instead. The downtimes are moves of the schedulers'
// clock, not waits.
func TestIntegrationServeDowntime(t *testing.T) {
	t.Parallel()
	e := newServeEnv(t)
	run := newCountingRunner(e.newEngine(t, esURL, e.alias, serveTimeout))
	stop := startServe(t, e.config("replica-a", e.store, run))
	e.waitCheckpoint(t, e.slot(2))
	stop()
	down := *e.ruleState(t).LastCompletedSlot
	e.clock.AdvanceTo(down.Add(5 * serveInterval)) // five slots missed

	stop = startServe(t, e.config("replica-a", e.store, run))
	e.waitCheckpoint(t, down.Add(5*serveInterval))
	stop()
	st := e.ruleState(t)
	require.Nil(t, st.Gap)
	runs, failed := run.counts()
	require.Zero(t, failed)
	e.requireOncePerSlot(t, runs, *st.LastCompletedSlot)
	e.requireSameAlerts(t, *st.LastCompletedSlot)

	// Down for longer than the catch-up limit: one tick (esrule run) executes
	// the slots of the last 3 intervals and records the older ones as a gap.
	e.clock.AdvanceTo(st.LastCompletedSlot.Add(5 * serveInterval))
	cfg := e.config("runner", e.store, run)
	cfg.KeepLease, cfg.MaxCatchup = false, 3*serveInterval
	s, err := schedule.New(cfg)
	require.NoError(t, err)
	reports, err := s.Tick(context.Background())
	require.NoError(t, err)
	require.Len(t, reports, 1)
	gap := reports[0].Gap
	require.NotNil(t, gap)
	require.True(t, gap.From.Equal(*st.LastCompletedSlot), "gap starts after the checkpoint: %v", gap)
	require.Equal(t, 4, reports[0].Executed, "the slots within --max-catchup, oldest first")
	after := e.ruleState(t)
	require.Equal(t, &state.Gap{From: gap.From, To: gap.To}, after.Gap)
	require.True(t, after.LastCompletedSlot.Equal(gap.To.Add(4*serveInterval)))
	require.Nil(t, after.Lease, "a tick releases the lease")

	// --fill-old-gaps: the next tick fills the gap through the backfill
	// engine, one chunk (here two slots) per tick, and records its progress.
	eng := e.newEngine(t, esURL, e.alias, serveTimeout)
	m := metrics.New()
	cfg.FillOldGaps, cfg.FillGap, cfg.GapFillChunk, cfg.Observer = true, eng.FillGap, 2*serveInterval, m
	s, err = schedule.New(cfg)
	require.NoError(t, err)
	filled := 0
	for range 10 {
		reports, err = s.Tick(context.Background())
		require.NoError(t, err)
		filled += reports[0].GapFilled
		if e.ruleState(t).Gap == nil {
			break
		}
	}
	final := e.ruleState(t)
	require.Nil(t, final.Gap, "the gap is filled")
	require.Positive(t, filled)
	require.Equal(t, int(gap.Duration()/serveInterval), filled)
	require.InDelta(t, float64(filled), testutil.ToFloat64(m.Executions(e.rule.RuleID, schedule.ExecBackfill, metrics.ResultSuccess)), 0)
	// The same alerts as slot by slot; those of the gap are manual
	// executions (as esrule backfill writes them), with their own uuids.
	want := e.expected(t, *final.LastCompletedSlot)
	got := alertsByID(t, e.c, e.alias, e.rule.SavedObjectID())
	require.Equal(t, slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(got)), "alert ids")
}

// TestIntegrationServeReplicas: two replicas against the same state index.
// First they compete every tick (leases released after each tick), then one
// keeps its lease and dies without releasing it: the other takes over once the
// lease expires. Every slot is executed exactly once.
func TestIntegrationServeReplicas(t *testing.T) {
	t.Parallel()
	e := newServeEnv(t)
	run := newCountingRunner(e.newEngine(t, esURL, e.alias, serveTimeout)) // shared: counts executions of both replicas
	cfgA, cfgB := e.config("replica-a", e.store, run), e.config("replica-b", e.store, run)
	cfgA.KeepLease, cfgB.KeepLease = false, false
	stopA, stopB := startServe(t, cfgA), startServe(t, cfgB)
	e.waitCheckpoint(t, e.slot(3))
	stopA()
	stopB()

	// Replica a keeps its lease and "dies" (its release is lost); b waits
	// for the lease to expire and catches up.
	crashing := noRelease{e.store}
	cfgA, cfgB = e.config("replica-a", crashing, run), e.config("replica-b", e.store, run)
	cfgA.LeaseTTL = 3 * time.Second
	stopA = startServe(t, cfgA)
	e.waitLeaseOwner(t, "replica-a")
	stopB = startServe(t, cfgB)
	stopA()
	deadAt := *e.ruleState(t).LastCompletedSlot
	st := e.waitCheckpoint(t, deadAt.Add(2*serveInterval))
	require.Equal(t, "replica-b", st.Lease.Owner)
	stopB()

	through := *e.ruleState(t).LastCompletedSlot
	runs, failed := run.counts()
	require.Zero(t, failed)
	e.requireOncePerSlot(t, runs, through)
	e.requireSameAlerts(t, through)
}

// noRelease is a store whose lease releases are lost (a crashed replica).
type noRelease struct{ *state.Store }

func (n noRelease) Put(ctx context.Context, id string, doc any, v state.Version) (state.Version, error) {
	if st, ok := doc.(state.RuleState); ok && st.Lease == nil {
		return v, errors.New("replica crashed")
	}
	return n.Store.Put(ctx, id, doc, v)
}
