//go:build integration

package integration

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/state"
)

func TestIntegrationStateLease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClient(t)
	s := state.NewStore(c, uniqueName(t, "esrule-state-test"))
	id := state.RuleDocID("default", "rule-1")
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	init := state.RuleState{RuleID: "r1", RuleUUID: "rule-1", Space: "default"}

	r, v, err := s.AcquireLease(ctx, id, state.Claim{Owner: "replica-a", Now: t0, TTL: time.Minute}, init)
	require.NoError(t, err)
	require.Equal(t, "replica-a", r.Lease.Owner)

	_, _, err = s.AcquireLease(ctx, id, state.Claim{Owner: "replica-b", Now: t0.Add(30 * time.Second), TTL: time.Minute}, init)
	require.ErrorIs(t, err, state.ErrLeaseHeld)

	// The owner completes a slot; a stale version then conflicts.
	slot := t0
	r.LastCompletedSlot = &slot
	r.LastStatus = state.StatusSucceeded
	v2, err := state.WriteHeld(ctx, s, id, &r, v)
	require.NoError(t, err)
	_, err = s.Put(ctx, id, r, v)
	require.True(t, errors.Is(err, state.ErrConflict), "stale write must conflict, got %v", err)

	// After expiry another replica takes over and sees the checkpoint.
	r2, _, err := s.AcquireLease(ctx, id, state.Claim{Owner: "replica-b", Now: t0.Add(2 * time.Minute), TTL: time.Minute}, init)
	require.NoError(t, err)
	require.Equal(t, "replica-b", r2.Lease.Owner)
	require.True(t, r2.LastCompletedSlot.Equal(slot))

	// The old owner is fenced off: its writes fail, its release leaves
	// the new lease alone.
	_, err = state.WriteHeld(ctx, s, id, &r, v2)
	require.ErrorIs(t, err, state.ErrLeaseLost)
	_, err = state.ReleaseLease(ctx, s, id, r, v2, t0.Add(2*time.Minute))
	require.NoError(t, err)
	var cur state.RuleState
	_, err = s.Get(ctx, id, &cur)
	require.NoError(t, err)
	require.Equal(t, "replica-b", cur.Lease.Owner)

	// Two racing acquirers of a free lease: exactly one wins.
	id2 := state.RuleDocID("default", "rule-2")
	errs := make(chan error, 2)
	for _, owner := range []string{"x", "y"} {
		go func() {
			_, _, err := s.AcquireLease(ctx, id2, state.Claim{Owner: owner, Now: t0, TTL: time.Minute}, init)
			errs <- err
		}()
	}
	e1, e2 := <-errs, <-errs
	require.True(t, (e1 == nil) != (e2 == nil), "exactly one acquirer wins: %v / %v", e1, e2)
}
