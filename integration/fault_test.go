//go:build integration

package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/engine"
	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/metrics"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/schedule"
	"github.com/esrule/esrule/state"
)

// faultSeed is the seed of the fault injection: ESRULE_TEST_FAULT_SEED, or
// a fixed default so that CI runs are reproducible.
func faultSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(16)
	if s := os.Getenv("ESRULE_TEST_FAULT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "ESRULE_TEST_FAULT_SEED")
		seed = v
	}
	t.Logf("fault seed %d (set ESRULE_TEST_FAULT_SEED to vary it)", seed)
	return seed
}

// slotLedger records, across replicas, every slot whose checkpoint was
// written and every execution of a slot that overlapped another replica's
// execution of the same slot.
type slotLedger struct {
	iv        time.Duration
	mu        sync.Mutex
	completed map[time.Time]int
	unsure    map[time.Time]bool // a checkpoint write whose outcome was unknown
	running   map[time.Time]string
	overlaps  []string
}

func newSlotLedger(iv time.Duration) *slotLedger {
	return &slotLedger{iv: iv, completed: map[time.Time]int{}, unsure: map[time.Time]bool{}, running: map[time.Time]string{}}
}

// wrap returns next recording into the ledger as owner.
func (l *slotLedger) wrap(owner string, next schedule.ExecuteFunc) schedule.ExecuteFunc {
	return func(ctx context.Context, r *rule.Rule, slots []time.Time, done func(schedule.SlotDone) error) error {
		l.mu.Lock()
		for _, s := range slots {
			if other, ok := l.running[s]; ok && other != owner {
				l.overlaps = append(l.overlaps, fmt.Sprintf("%s by %s and %s", s.Format("15:04:05"), other, owner))
			}
			l.running[s] = owner
		}
		l.mu.Unlock()
		defer func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			for _, s := range slots {
				if l.running[s] == owner {
					delete(l.running, s)
				}
			}
		}()
		return next(ctx, r, slots, func(d schedule.SlotDone) error {
			err := done(d)
			l.mu.Lock()
			defer l.mu.Unlock()
			for i := range max(d.Slots, 1) {
				slot := d.Through.Add(-time.Duration(i) * l.iv).UTC()
				switch {
				case err == nil || errors.Is(err, schedule.ErrDraining):
					l.completed[slot]++
				case !errors.Is(err, state.ErrLeaseLost):
					l.unsure[slot] = true
				}
			}
			return err
		})
	}
}

// TestIntegrationFaultsReplicas: three serve replicas of one rule talk to
// Elasticsearch through a proxy that injects 429s, lost answers (503 after
// the write), truncated answers, hangs and shard failures into 10% of the
// requests, with short leases (heartbeat 1s) and request timeouts. Every
// slot's alerts are written exactly as a clean slot-by-slot run writes them
// (nothing lost, nothing duplicated), every slot's checkpoint is written
// once, no two replicas execute a slot at once, and the replicas' metrics
// count exactly the slots and alerts written.
func TestIntegrationFaultsReplicas(t *testing.T) {
	t.Parallel()
	e := newServeEnv(t)
	proxy := newFaultProxy(t, faultSeed(t), 0.10, 5*time.Second)
	ledger := newSlotLedger(serveInterval)
	type replica struct {
		m    *metrics.Metrics
		stop func()
	}
	var replicas []*replica
	for i := range 3 {
		owner := fmt.Sprintf("replica-%d", i)
		m := metrics.New()
		m.InitRule(e.rule.RuleID)
		eng := newEngine(t, engine.Config{
			ES: esclient.Config{
				Addresses: []string{proxy.URL}, RequestTimeout: 2 * time.Second,
				Backoff: func(int) time.Duration { return 100 * time.Millisecond },
			},
			StateIndex: e.stateIndex, Refresh: "true", Timeout: serveTimeout, Metrics: m,
			AlertsAlias: func(string) string { return e.alias }, FastCatchupSlots: 3,
		})
		cfg := schedule.Config{
			Rules: []*rule.Rule{e.rule}, Store: eng.Store(), Execute: ledger.wrap(owner, eng.Execute),
			FillGap: eng.FillGap, Clock: time.Now, Owner: owner, StartFrom: e.s0, MaxCatchup: time.Hour,
			KeepLease: true, ShutdownGrace: 5 * time.Second, Timeout: serveTimeout, LeaseTTL: 3 * time.Second,
			Logger: testLogger(owner), Observer: m,
		}
		replicas = append(replicas, &replica{m: m, stop: startServe(t, cfg)})
	}
	e.waitCheckpoint(t, e.slot(14))
	proxy.setRate(0) // the replicas stop cleanly
	for _, r := range replicas {
		r.stop()
	}
	requests, injected := proxy.stats()
	t.Logf("requests %d, injected %v", requests, injected)
	for _, f := range allFaults {
		require.Positive(t, injected[f], "fault %s injected", f)
	}

	st := e.ruleState(t)
	through := *st.LastCompletedSlot
	e.requireSameAlerts(t, through)
	ledger.mu.Lock()
	defer ledger.mu.Unlock()
	require.Empty(t, ledger.overlaps, "slots executed by two replicas at once")
	slots, landed := 0, 0
	for slot := e.s0; !slot.After(through); slot = slot.Add(serveInterval) {
		n := ledger.completed[slot.UTC()]
		if n == 0 && ledger.unsure[slot.UTC()] {
			n = 1 // its checkpoint write landed although its answer was lost
			landed++
		}
		require.Equal(t, 1, n, "checkpoints of slot %s", slot.Format("15:04:05"))
		slots++
	}

	var executed, created float64
	for _, r := range replicas {
		for _, kind := range []string{schedule.ExecScheduled, schedule.ExecCatchUp, schedule.ExecBackfill} {
			executed += testutil.ToFloat64(r.m.Executions(e.rule.RuleID, kind, metrics.ResultSuccess))
			created += testutil.ToFloat64(r.m.AlertsWritten(e.rule.RuleID, kind, "created"))
		}
	}
	require.InDelta(t, float64(slots-landed), executed, 0, "successful executions counted = slots completed")
	written := len(alertsByID(t, e.c, e.alias, e.rule.SavedObjectID()))
	require.InDelta(t, float64(written), created, 0, "alerts counted as created = alerts in the index")
}
