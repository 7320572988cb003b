package schedule

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/state"
)

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu       sync.Mutex
	executed map[string]int // "kind/result" -> slots
	failed   map[string]int // stage -> ticks
	skipped  int
	stuck    int
}

func newRecorder() *recorder {
	return &recorder{executed: map[string]int{}, failed: map[string]int{}}
}

func (o *recorder) Executed(_, kind string, _ time.Time, slots int, _ detect.Result, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	res := "success"
	if err != nil {
		res = "failure"
	}
	o.executed[kind+"/"+res] += slots
}

func (o *recorder) TickFailed(_, stage string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failed[stage]++
}

func (o *recorder) TickStuck(string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.stuck++
}

func (o *recorder) LeaseSkipped(string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.skipped++
}
func (o *recorder) GapSeconds(string, float64) {}
func (o *recorder) LeaseHeld(string, bool)     {}

func (o *recorder) get(m map[string]int, k string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return m[k]
}

// slowRunner executes every slot until release is closed or its context
// ends, and reports how the last execution ended.
type slowRunner struct {
	started chan struct{}
	release chan struct{}
	ended   chan error
}

func newSlowRunner() *slowRunner {
	return &slowRunner{started: make(chan struct{}, 100), release: make(chan struct{}), ended: make(chan error, 100)}
}

func (s *slowRunner) execute(ctx context.Context, r *rule.Rule, slots []time.Time, done func(SlotDone) error) error {
	for _, slot := range slots {
		s.started <- struct{}{}
		select {
		case <-ctx.Done():
			err := context.Cause(ctx)
			s.ended <- err
			return &SlotError{Slot: slot, Result: detect.Result{RuleID: r.RuleID, Slot: slot}, Err: err}
		case <-s.release:
		}
		s.ended <- nil
		if err := done(SlotDone{Through: slot, Slots: 1, Result: detect.Result{RuleID: r.RuleID, Slot: slot}}); err != nil {
			return err
		}
	}
	return nil
}

// shortLeaseConfig is a replica with a 300ms lease (100ms heartbeat) on the real clock.
func shortLeaseConfig(owner string, store Store, run ExecuteFunc, obs Observer) Config {
	return Config{
		Rules: []*rule.Rule{testRule()}, Store: store, Execute: run, Clock: time.Now, Owner: owner,
		LeaseTTL: 300 * time.Millisecond, Timeout: time.Hour, Logger: zerolog.Nop(), Observer: obs,
	}
}

// An execution far longer than the lease TTL keeps its lease through the
// heartbeat: another replica cannot take the rule meanwhile.
func TestHeartbeatKeepsLeaseOfLongExecution(t *testing.T) {
	store := newMemStore()
	run := newSlowRunner()
	obsB := newRecorder()
	a, err := New(shortLeaseConfig("a", store, run.execute, nil))
	require.NoError(t, err)
	b, err := New(shortLeaseConfig("b", store, (&fakeRunner{}).execute, obsB))
	require.NoError(t, err)
	r := a.Rules()[0]

	done := make(chan TickReport, 1)
	go func() { done <- a.TickRule(context.Background(), nil, r) }()
	<-run.started
	// Until a renewed its lease ten times (over three TTLs), b cannot take it.
	deadline := time.Now().Add(30 * time.Second)
	for store.rule(t, r).Lease.Writes < 10 {
		require.True(t, time.Now().Before(deadline), "the heartbeat does not renew the lease")
		rep := b.TickRule(context.Background(), nil, r)
		require.True(t, rep.LeaseHeld, "b must not take a rule whose holder renews its lease")
		require.NoError(t, rep.Err)
		time.Sleep(20 * time.Millisecond)
	}
	obsB.mu.Lock()
	require.Positive(t, obsB.skipped, "skips for a lease are counted")
	obsB.mu.Unlock()
	close(run.release)
	rep := <-done
	require.NoError(t, rep.Err)
	require.Equal(t, 1, rep.Executed)
}

// When the lease is taken over (the holder was paused or cut off past its
// TTL), the holder's work stops at once and it records nothing.
func TestLostLeaseStopsWork(t *testing.T) {
	store := newMemStore()
	run := newSlowRunner()
	obs := newRecorder()
	a, err := New(shortLeaseConfig("a", store, run.execute, obs))
	require.NoError(t, err)
	r := a.Rules()[0]
	id := state.RuleDocID(r.Space, r.SavedObjectID())

	done := make(chan TickReport, 1)
	go func() { done <- a.TickRule(context.Background(), nil, r) }()
	<-run.started
	before := store.rule(t, r)
	// Another replica takes the lease (as after a's expiry).
	var st state.RuleState
	v, err := store.Get(context.Background(), id, &st)
	require.NoError(t, err)
	st.Lease = &state.Lease{Owner: "b", Token: "b-token", Generation: st.Lease.Generation + 1, ExpiresAt: time.Now().Add(time.Hour)}
	_, err = store.Put(context.Background(), id, st, v)
	require.NoError(t, err)

	select {
	case err := <-run.ended:
		require.ErrorIs(t, err, state.ErrLeaseLost)
	case <-time.After(5 * time.Second):
		t.Fatal("the execution did not stop after the lease was lost")
	}
	rep := <-done
	require.ErrorIs(t, rep.Err, state.ErrLeaseLost)
	after := store.rule(t, r)
	require.Equal(t, "b", after.Lease.Owner, "the old holder wrote nothing after losing the lease")
	require.Equal(t, before.LastCompletedSlot, after.LastCompletedSlot)
	require.Equal(t, 1, obs.get(obs.failed, StageLost))
}

// When renewals fail (Elasticsearch unreachable from this replica), the
// holder stops before its lease may expire.
func TestFailingRenewalStopsWork(t *testing.T) {
	store := newMemStore()
	run := newSlowRunner()
	a, err := New(shortLeaseConfig("a", store, run.execute, nil))
	require.NoError(t, err)
	r := a.Rules()[0]
	done := make(chan TickReport, 1)
	go func() { done <- a.TickRule(context.Background(), nil, r) }()
	<-run.started
	store.mu.Lock()
	store.failPut = true
	store.mu.Unlock()
	select {
	case err := <-run.ended:
		require.ErrorIs(t, err, errLeaseExpiring)
	case <-time.After(5 * time.Second):
		t.Fatal("the execution did not stop while its lease could not be renewed")
	}
	require.Error(t, (<-done).Err)
}

// `run` (Tick) watches the lease of a holder that does not renew it (a
// killed CronJob pod) until it expires, and takes the rule over instead of
// skipping it.
func TestTickReclaimsLeaseOfGoneHolder(t *testing.T) {
	store := newMemStore()
	obs := newRecorder()
	run := &fakeRunner{}
	s, err := New(shortLeaseConfig("run-2", store, run.execute, obs))
	require.NoError(t, err)
	r := s.Rules()[0]
	id := state.RuleDocID(r.Space, r.SavedObjectID())
	now := time.Now().UTC()
	_, err = store.Put(context.Background(), id, state.RuleState{RuleID: r.RuleID, Lease: &state.Lease{
		Owner: "run-1", Token: "t1", Generation: 1, RenewedAt: now.Add(-time.Second), HeartbeatMS: 100,
		ExpiresAt: now.Add(200 * time.Millisecond),
	}}, state.Version{})
	require.NoError(t, err)
	reports, err := s.Tick(context.Background())
	require.NoError(t, err)
	require.False(t, reports[0].LeaseHeld)
	require.Equal(t, 1, reports[0].Executed)
	obs.mu.Lock()
	require.Zero(t, obs.skipped, "a rule taken over is not skipped")
	obs.mu.Unlock()
	st := store.rule(t, r)
	require.Nil(t, st.Lease, "run releases the lease")
}

// A tick that fails before executing anything is counted, by stage.
func TestFailedTickIsCounted(t *testing.T) {
	store := newMemStore()
	store.failPut = true
	obs := newRecorder()
	s, err := New(shortLeaseConfig("a", store, (&fakeRunner{}).execute, obs))
	require.NoError(t, err)
	_, err = s.Tick(context.Background())
	require.Error(t, err)
	require.Equal(t, 1, obs.get(obs.failed, StageLease))
}

// A tick without progress for the execution timeout plus the lease TTL is
// logged and counted as stuck; its lease stays renewed meanwhile.
func TestStuckTickIsCounted(t *testing.T) {
	store := newMemStore()
	run := newSlowRunner()
	obs := newRecorder()
	cfg := shortLeaseConfig("a", store, run.execute, obs)
	cfg.Timeout = 100 * time.Millisecond // the runner ignores it: stuck
	s, err := New(cfg)
	require.NoError(t, err)
	done := make(chan TickReport, 1)
	go func() { done <- s.TickRule(context.Background(), nil, s.Rules()[0]) }()
	<-run.started
	require.Eventually(t, func() bool {
		obs.mu.Lock()
		defer obs.mu.Unlock()
		return obs.stuck == 1
	}, 5*time.Second, 10*time.Millisecond)
	close(run.release)
	require.NoError(t, (<-done).Err)
}

// `run` skips a rule whose holder renews its lease while it watches: the
// holder is alive. The skip is logged and counted.
func TestTickSkipsLeaseOfLiveHolder(t *testing.T) {
	store := newMemStore()
	obs := newRecorder()
	run := &fakeRunner{}
	s, err := New(shortLeaseConfig("run-2", store, run.execute, obs))
	require.NoError(t, err)
	r := s.Rules()[0]
	id := state.RuleDocID(r.Space, r.SavedObjectID())
	now := time.Now().UTC()
	lease := state.Lease{Owner: "serve-1", Token: "t1", Generation: 1, RenewedAt: now, HeartbeatMS: 100, ExpiresAt: now.Add(300 * time.Millisecond)}
	v, err := store.Put(context.Background(), id, state.RuleState{RuleID: r.RuleID, Lease: &lease}, state.Version{})
	require.NoError(t, err)
	go func() { // the holder's heartbeat
		time.Sleep(100 * time.Millisecond)
		renewed := lease
		renewed.RenewedAt, renewed.ExpiresAt = time.Now().UTC(), time.Now().UTC().Add(300*time.Millisecond)
		_, _ = store.Put(context.Background(), id, state.RuleState{RuleID: r.RuleID, Lease: &renewed}, v)
	}()
	reports, err := s.Tick(context.Background())
	require.NoError(t, err)
	require.True(t, reports[0].LeaseHeld)
	require.Equal(t, "serve-1", reports[0].LeaseHolder)
	require.Empty(t, run.ran)
	obs.mu.Lock()
	defer obs.mu.Unlock()
	require.Equal(t, 1, obs.skipped)
}
