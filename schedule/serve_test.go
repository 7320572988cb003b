package schedule

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/rule"
)

// blockingRunner blocks every execution until its context ends.
type blockingRunner struct{ started chan time.Time }

func (b blockingRunner) Run(ctx context.Context, _ *rule.Rule, slot time.Time, _ detect.RunOptions) (detect.Result, error) {
	b.started <- slot
	<-ctx.Done()
	return detect.Result{}, ctx.Err()
}

func (b blockingRunner) execute(ctx context.Context, r *rule.Rule, slots []time.Time, done func(SlotDone) error) error {
	for _, slot := range slots {
		res, err := b.Run(ctx, r, slot, detect.RunOptions{})
		if err != nil {
			return &SlotError{Slot: slot, Result: res, Err: err}
		}
		if err := done(SlotDone{Through: slot, Slots: 1, Result: res}); err != nil {
			return err
		}
	}
	return nil
}

func TestServeAbandonsAfterGrace(t *testing.T) {
	r := testRule()
	r.Interval = "1h" // one execution: the catch-up tick on start
	require.NoError(t, r.Normalize())
	store := newMemStore()
	run := blockingRunner{started: make(chan time.Time, 1)}
	s, err := New(Config{Rules: []*rule.Rule{r}, Store: store, Execute: run.execute, Clock: time.Now, Owner: "a",
		KeepLease: true, ShutdownGrace: 50 * time.Millisecond, Logger: zerolog.Nop()})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Serve(ctx) }()
	slot := <-run.started
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the grace period")
	}
	st := store.rule(t, r)
	require.True(t, st.LastCompletedSlot.Equal(slot.Add(-time.Hour)),
		"an abandoned slot does not move the checkpoint (the start mark, one slot before): %v", st.LastCompletedSlot)
	require.Nil(t, st.LastSuccessAt)
	require.Nil(t, st.Lease, "shutdown releases the lease")
}

func TestServeTicksEverySlot(t *testing.T) {
	r := testRule()
	r.Interval, r.From, r.HistoryWindowStart = "1s", "now-3s", "now-1m"
	require.NoError(t, r.Normalize())
	store := newMemStore()
	run := &fakeRunner{}
	s, err := New(Config{Rules: []*rule.Rule{r}, Store: store, Execute: run.execute, Clock: time.Now, Owner: "a",
		KeepLease: true, Logger: zerolog.Nop()})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Serve(ctx) }()
	require.Eventually(t, func() bool {
		run.mu.Lock()
		defer run.mu.Unlock()
		return len(run.ran) >= 3
	}, 10*time.Second, 20*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	for i := 1; i < len(run.ran); i++ {
		require.Equal(t, time.Second, run.ran[i].Sub(run.ran[i-1]), "slots are consecutive: %v", run.ran)
	}
}
