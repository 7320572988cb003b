package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/state"
)

// memStore is an in-memory Store with the same optimistic concurrency.
type memStore struct {
	mu   sync.Mutex
	docs map[string][]byte
	seq  map[string]int64
	// failPut makes Put fail (Elasticsearch down).
	failPut bool
}

func newMemStore() *memStore { return &memStore{docs: map[string][]byte{}, seq: map[string]int64{}} }

func (m *memStore) Get(_ context.Context, id string, dst any) (state.Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.docs[id]
	if !ok {
		return state.Version{}, nil
	}
	return state.Version{SeqNo: m.seq[id], PrimaryTerm: 1}, json.Unmarshal(b, dst)
}

func (m *memStore) Put(_ context.Context, id string, doc any, v state.Version) (state.Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failPut {
		return state.Version{}, errors.New("elasticsearch 503")
	}
	_, exists := m.docs[id]
	if v.IsZero() && exists || !v.IsZero() && (!exists || m.seq[id] != v.SeqNo) {
		return state.Version{}, fmt.Errorf("write state %s: %w", id, state.ErrConflict)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return state.Version{}, err
	}
	m.docs[id] = b
	m.seq[id]++
	return state.Version{SeqNo: m.seq[id], PrimaryTerm: 1}, nil
}

func (m *memStore) rule(t *testing.T, r *rule.Rule) state.RuleState {
	t.Helper()
	var st state.RuleState
	_, err := m.Get(context.Background(), state.RuleDocID("default", r.SavedObjectID()), &st)
	require.NoError(t, err)
	return st
}

// fakeRunner records executed slots and fails the slots in fail.
type fakeRunner struct {
	mu   sync.Mutex
	ran  []time.Time
	fail map[time.Time]bool
}

func (f *fakeRunner) Run(_ context.Context, r *rule.Rule, slot time.Time, _ detect.RunOptions) (detect.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ran = append(f.ran, slot)
	if f.fail[slot] {
		return detect.Result{RuleID: r.RuleID, Slot: slot}, errors.New("phase 1 (recent terms): shard failure")
	}
	return detect.Result{RuleID: r.RuleID, Slot: slot, NewTerms: 1, AlertsCreated: 1, ExecutionUUID: slot.Format(time.RFC3339)}, nil
}

// execute runs slots one by one as engine.Engine.Execute does.
func (f *fakeRunner) execute(ctx context.Context, r *rule.Rule, slots []time.Time, done func(SlotDone) error) error {
	for _, slot := range slots {
		res, err := f.Run(ctx, r, slot, detect.RunOptions{})
		if err != nil {
			return &SlotError{Slot: slot, Result: res, Err: err}
		}
		if err := done(SlotDone{Through: slot, Slots: 1, Result: res}); err != nil {
			return err
		}
	}
	return nil
}

func testRule() *rule.Rule {
	r := &rule.Rule{RuleID: "r1", Name: "test", Interval: "5m", From: "now-6m", HistoryWindowStart: "now-1h", NewTermsFields: []string{"user"}}
	if err := r.Normalize(); err != nil {
		panic(err)
	}
	return r
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestTickRule(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	iv := 5 * time.Minute
	at := func(n int) time.Time { return t0.Add(time.Duration(n) * iv) }
	r := testRule()
	store := newMemStore()
	run := &fakeRunner{fail: map[time.Time]bool{}}
	clk := &clock{t: at(0).Add(time.Second)}
	s, err := New(Config{Rules: []*rule.Rule{r}, Store: store, Execute: run.execute, Clock: clk.now, Owner: "a",
		MaxCatchup: 30 * time.Minute, Logger: zerolog.Nop()})
	require.NoError(t, err)
	ctx := context.Background()

	// First start: only the current slot.
	rep := s.TickRule(ctx, nil, r)
	require.NoError(t, rep.Err)
	require.Equal(t, []time.Time{at(0)}, run.ran)
	st := store.rule(t, r)
	require.True(t, st.LastCompletedSlot.Equal(at(0)))
	require.Equal(t, state.StatusSucceeded, st.LastStatus)
	require.Nil(t, st.Lease, "run mode releases the lease")

	// A first slot that fails is not skipped by the next tick.
	fresh := testRule()
	fresh.ID, fresh.RuleID = "r2", "r2"
	run.fail[at(0)] = true
	s2, err := New(Config{Rules: []*rule.Rule{fresh}, Store: store, Execute: run.execute, Clock: clk.now, Owner: "a", Logger: zerolog.Nop()})
	require.NoError(t, err)
	require.Error(t, s2.TickRule(ctx, nil, fresh).Err)
	clk.t = at(1).Add(time.Second)
	run.ran, run.fail[at(0)] = nil, false
	require.NoError(t, s2.TickRule(ctx, nil, fresh).Err)
	require.Equal(t, []time.Time{at(0), at(1)}, run.ran)

	// Three slots later: catch-up, oldest first; slot 2 fails, so the checkpoint stops at 1.
	run.ran, run.fail[at(2)] = nil, true
	clk.t = at(3).Add(time.Second)
	rep = s.TickRule(ctx, nil, r)
	require.Error(t, rep.Err)
	require.Equal(t, []time.Time{at(1), at(2)}, run.ran)
	st = store.rule(t, r)
	require.True(t, st.LastCompletedSlot.Equal(at(1)))
	require.Equal(t, state.StatusFailed, st.LastStatus)
	require.Contains(t, st.LastError, "shard failure")

	// Recovery: 2 and 3 run.
	run.ran, run.fail = nil, nil
	rep = s.TickRule(ctx, nil, r)
	require.NoError(t, rep.Err)
	require.Equal(t, []time.Time{at(2), at(3)}, run.ran)
	require.Equal(t, 2, rep.Executed)

	// A long downtime: slots older than 30 minutes are a gap.
	run.ran = nil
	clk.t = at(20).Add(time.Second)
	rep = s.TickRule(ctx, nil, r)
	require.NoError(t, rep.Err)
	require.Equal(t, &GapRange{From: at(3), To: at(13)}, rep.Gap)
	require.Equal(t, []time.Time{at(14), at(15), at(16), at(17), at(18), at(19), at(20)}, run.ran)
	st = store.rule(t, r)
	require.Equal(t, &state.Gap{From: at(3), To: at(13)}, st.Gap)
	require.True(t, st.LastCompletedSlot.Equal(at(20)))
}

func TestTickRuleLease(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	r := testRule()
	store := newMemStore()
	clk := &clock{t: t0}
	runA, runB := &fakeRunner{}, &fakeRunner{}
	a, err := New(Config{Rules: []*rule.Rule{r}, Store: store, Execute: runA.execute, Clock: clk.now, Owner: "a", KeepLease: true, Logger: zerolog.Nop()})
	require.NoError(t, err)
	b, err := New(Config{Rules: []*rule.Rule{r}, Store: store, Execute: runB.execute, Clock: clk.now, Owner: "b", KeepLease: true, Logger: zerolog.Nop()})
	require.NoError(t, err)
	ctx := context.Background()

	require.NoError(t, a.TickRule(ctx, nil, r).Err)
	require.Equal(t, "a", store.rule(t, r).Lease.Owner, "serve mode keeps the lease")
	rep := b.TickRule(ctx, nil, r)
	require.True(t, rep.LeaseHeld)
	require.Empty(t, runB.ran)

	// a dies; once its lease (DefaultLeaseTTL) expires, b takes over and catches up.
	clk.t = t0.Add(15 * time.Minute)
	rep = b.TickRule(ctx, nil, r)
	require.NoError(t, rep.Err)
	require.False(t, rep.LeaseHeld)
	require.Equal(t, []time.Time{t0.Add(5 * time.Minute), t0.Add(10 * time.Minute), t0.Add(15 * time.Minute)}, runB.ran)
}

func TestTickRuleStopsWhenDraining(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	r := testRule()
	store := newMemStore()
	clk := &clock{t: t0}
	run := &fakeRunner{}
	s, err := New(Config{Rules: []*rule.Rule{r}, Store: store, Execute: run.execute, Clock: clk.now, Owner: "a", Logger: zerolog.Nop()})
	require.NoError(t, err)
	require.NoError(t, s.TickRule(context.Background(), nil, r).Err)
	clk.t = t0.Add(time.Hour)
	drain := make(chan struct{})
	close(drain)
	rep := s.TickRule(context.Background(), drain, r)
	require.NoError(t, rep.Err)
	require.Equal(t, 1, rep.Executed, "the running slot finishes, no new one starts")
	require.True(t, store.rule(t, r).LastCompletedSlot.Equal(t0.Add(5*time.Minute)))
}

func TestNewRejectsBadLeaseSettings(t *testing.T) {
	base := Config{Rules: []*rule.Rule{testRule()}, Store: newMemStore(), Execute: (&fakeRunner{}).execute,
		Clock: time.Now, Owner: "a"}
	c := base
	c.LeaseTTL = time.Millisecond
	_, err := New(c)
	require.ErrorContains(t, err, "too short")
	c = base
	c.FillOldGaps = true
	_, err = New(c)
	require.ErrorContains(t, err, "without a gap filler")
	// A lease shorter than the execution timeout is fine: the heartbeat keeps it.
	c = base
	c.Timeout, c.LeaseTTL = 10*time.Minute, 30*time.Second
	_, err = New(c)
	require.NoError(t, err)
}

func TestLeaseTTLDefault(t *testing.T) {
	require.Equal(t, DefaultLeaseTTL, Config{}.leaseTTL(5*time.Minute))
	require.Equal(t, time.Hour, Config{LeaseTTL: time.Hour}.leaseTTL(5*time.Minute))
}

// TestTickRuleNoCatchupLimit: with NoCatchupLimit a tick executes every
// missed slot however old, and reports no gap.
func TestTickRuleNoCatchupLimit(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	iv := 5 * time.Minute
	at := func(n int) time.Time { return t0.Add(time.Duration(n) * iv) }
	r := testRule()
	store := newMemStore()
	run := &fakeRunner{fail: map[time.Time]bool{}}
	clk := &clock{t: at(0).Add(time.Second)}
	s, err := New(Config{Rules: []*rule.Rule{r}, Store: store, Execute: run.execute, Clock: clk.now, Owner: "a",
		MaxCatchup: NoCatchupLimit, Logger: zerolog.Nop()})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, s.TickRule(ctx, nil, r).Err)

	clk.t = at(600).Add(time.Second) // 50 hours later
	run.ran = nil
	rep := s.TickRule(ctx, nil, r)
	require.NoError(t, rep.Err)
	require.Len(t, run.ran, 600, "every missed slot")
	require.True(t, run.ran[0].Equal(at(1)))
	require.Nil(t, store.rule(t, r).Gap)
}
