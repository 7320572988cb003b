package state

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// memDocs is an in-memory Docs with Elasticsearch's optimistic concurrency.
// loseNext makes the next Put apply the write and then fail as if its
// answer was lost (a 503 after the write, then a retry that conflicts).
type memDocs struct {
	mu       sync.Mutex
	docs     map[string][]byte
	seq      map[string]int64
	loseNext bool
}

func newMemDocs() *memDocs { return &memDocs{docs: map[string][]byte{}, seq: map[string]int64{}} }

func (m *memDocs) Get(_ context.Context, id string, dst any) (Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.docs[id]
	if !ok {
		return Version{}, nil
	}
	return Version{SeqNo: m.seq[id], PrimaryTerm: 1}, json.Unmarshal(b, dst)
}

func (m *memDocs) Put(_ context.Context, id string, doc any, v Version) (Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, exists := m.docs[id]
	if v.IsZero() && exists || !v.IsZero() && (!exists || m.seq[id] != v.SeqNo) {
		return Version{}, fmt.Errorf("write state %s: %w", id, ErrConflict)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return Version{}, err
	}
	m.docs[id] = b
	m.seq[id]++
	if m.loseNext {
		m.loseNext = false
		return Version{}, fmt.Errorf("write state %s: %w", id, ErrConflict)
	}
	return Version{SeqNo: m.seq[id], PrimaryTerm: 1}, nil
}

func TestAcquireLeaseRecognisesItsLostWrite(t *testing.T) {
	ctx := context.Background()
	d := newMemDocs()
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	init := RuleState{RuleID: "r1"}
	d.loseNext = true
	r, v, err := AcquireLease(ctx, d, "s:r1", Claim{Owner: "run-1", Now: t0, TTL: time.Minute, Heartbeat: 20 * time.Second}, init)
	require.NoError(t, err, "its own write is not another replica's lease")
	require.Equal(t, "run-1", r.Lease.Owner)
	require.Equal(t, int64(1), r.Lease.Generation)
	require.False(t, v.IsZero())

	// Later writes by the holder: a lost answer is recognised too.
	slot := t0
	r.LastCompletedSlot = &slot
	d.loseNext = true
	v, err = WriteHeld(ctx, d, "s:r1", &r, v)
	require.NoError(t, err)
	r.LastStatus = StatusSucceeded
	v, err = WriteHeld(ctx, d, "s:r1", &r, v)
	require.NoError(t, err)

	// Another replica cannot take the unexpired lease.
	_, _, err = AcquireLease(ctx, d, "s:r1", Claim{Owner: "run-2", Now: t0.Add(30 * time.Second), TTL: time.Minute}, init)
	require.ErrorIs(t, err, ErrLeaseHeld)

	// After expiry it can; the old holder is fenced off.
	r2, _, err := AcquireLease(ctx, d, "s:r1", Claim{Owner: "run-2", Now: t0.Add(2 * time.Minute), TTL: time.Minute}, init)
	require.NoError(t, err)
	require.Equal(t, int64(2), r2.Lease.Generation)
	require.True(t, r2.LastCompletedSlot.Equal(slot))
	_, err = WriteHeld(ctx, d, "s:r1", &r, v)
	require.ErrorIs(t, err, ErrLeaseLost)
	_, err = ReleaseLease(ctx, d, "s:r1", r, v, t0.Add(2*time.Minute))
	require.NoError(t, err, "releasing a lease already taken over is not an error")
	var cur RuleState
	_, err = d.Get(ctx, "s:r1", &cur)
	require.NoError(t, err)
	require.Equal(t, "run-2", cur.Lease.Owner, "the old holder's release leaves the new lease alone")
}
