package state

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// The rule lease (docs/state.md) lets one replica execute a rule at a time. It
// lives in the rule's state document, so that taking it, renewing it and
// recording a checkpoint are one conditional write each (if_seq_no and
// if_primary_term):
//
//   - Acquisition writes a new Token (random, one per acquisition) and the
//     next Generation. A write whose answer was lost (a 503 after the write,
//     a truncated body, a timeout) is retried by the client and conflicts
//     with itself; the acquirer then re-reads the document and recognises
//     its own Token instead of concluding that another replica holds the rule.
//   - Every later write by the holder (checkpoint, heartbeat, failure,
//     release) goes through WriteHeld, which counts it in Writes. A conflict
//     is resolved by re-reading: the holder's own Token and Writes mean the
//     write landed; another Token means the lease was lost (ErrLeaseLost)
//     and the holder must stop at once. This is the fencing: a replica that
//     was paused past its TTL cannot write a checkpoint after its successor
//     took over, because every write is conditional on the version the
//     successor's acquisition changed.
//   - The holder renews the lease on a heartbeat (RenewedAt, HeartbeatMS)
//     independent of its checkpoints. An acquirer that watches a held lease
//     for one heartbeat and sees no renewal knows that the holder is gone,
//     and that the lease is free at ExpiresAt.

// ErrLeaseHeld means another owner holds an unexpired lease on the rule.
var ErrLeaseHeld = errors.New("lease held by another replica")

// ErrLeaseLost means the lease this process held was taken over by another
// acquisition: the process must stop working on the rule.
var ErrLeaseLost = errors.New("lease lost to another replica")

// Lease marks the replica that may execute the rule until ExpiresAt.
type Lease struct {
	// Owner names the replica (hostname-pid-random by default).
	Owner string `json:"owner"`
	// Token is unique per acquisition (NewToken).
	Token string `json:"token,omitempty"`
	// Generation counts the acquisitions of the rule's lease, by anyone: a
	// fencing number that only grows.
	Generation int64 `json:"generation,omitempty"`
	// Writes counts the writes of this acquisition; WriteHeld recognises
	// its own write by Token and Writes after a lost answer.
	Writes int64 `json:"writes,omitempty"`
	// ExpiresAt is when the lease ends without renewal.
	ExpiresAt time.Time `json:"expires_at"`
	// RenewedAt is the holder's last write (acquisition, heartbeat,
	// checkpoint).
	RenewedAt time.Time `json:"renewed_at,omitzero"`
	// HeartbeatMS is the holder's renewal period in milliseconds (0: it
	// renews only when it writes a checkpoint, as esrule before heartbeats).
	HeartbeatMS int64 `json:"heartbeat_ms,omitempty"`
}

// Held reports whether the lease is held by someone other than owner at now.
func (l *Lease) Held(owner string, now time.Time) bool {
	return l != nil && l.Owner != owner && now.Before(l.ExpiresAt)
}

// NewToken returns a random acquisition token.
func NewToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Docs reads and writes documents with optimistic concurrency; *Store is
// one, tests use an in-memory one.
type Docs interface {
	Get(ctx context.Context, id string, dst any) (Version, error)
	Put(ctx context.Context, id string, doc any, v Version) (Version, error)
}

// Claim is one acquisition of a rule's lease.
type Claim struct {
	// Owner names the replica.
	Owner string
	// Token identifies this acquisition; NewToken when empty.
	Token string
	// Now is the acquisition time; the lease lasts until Now+TTL.
	Now time.Time
	TTL time.Duration
	// Heartbeat is the renewal period the holder promises (0: none).
	Heartbeat time.Duration
}

// AcquireLease reads the rule's state document id (init when it does not
// exist yet) and takes its lease for c.Owner. It returns ErrLeaseHeld (with
// the state read, whose Lease says until when) when another owner holds an
// unexpired lease or wins the race for it. A lost answer to its own write
// is recognised by the token. The returned state and Version are what the
// holder writes with WriteHeld.
func AcquireLease(ctx context.Context, d Docs, id string, c Claim, init RuleState) (RuleState, Version, error) {
	if c.Token == "" {
		c.Token = NewToken()
	}
	r := init
	v, err := d.Get(ctx, id, &r)
	if err != nil {
		return RuleState{}, Version{}, err
	}
	if r.Lease.Held(c.Owner, c.Now) {
		return r, v, fmt.Errorf("acquire lease on %s (held by %s until %s): %w",
			id, r.Lease.Owner, r.Lease.ExpiresAt.Format(time.RFC3339), ErrLeaseHeld)
	}
	var gen int64
	if r.Lease != nil {
		gen = r.Lease.Generation
	}
	now := c.Now.UTC()
	r.Lease = &Lease{
		Owner: c.Owner, Token: c.Token, Generation: gen + 1, Writes: 1,
		ExpiresAt: now.Add(c.TTL), RenewedAt: now, HeartbeatMS: c.Heartbeat.Milliseconds(),
	}
	r.UpdatedAt = now
	nv, err := d.Put(ctx, id, r, v)
	if err == nil {
		return r, nv, nil
	}
	// The write may have landed although its answer was lost.
	var cur RuleState
	cv, gerr := d.Get(ctx, id, &cur)
	if gerr == nil && cur.Lease != nil && cur.Lease.Token == c.Token && cur.Lease.Writes == 1 {
		return cur, cv, nil
	}
	if errors.Is(err, ErrConflict) {
		if gerr == nil && cur.Lease != nil {
			r = cur
		}
		return r, v, fmt.Errorf("acquire lease on %s: %w", id, ErrLeaseHeld)
	}
	return RuleState{}, Version{}, fmt.Errorf("acquire lease on %s: %w", id, err)
}

// StaleError is returned by WriteHeld when the document holds a later
// write of the same lease than the caller's version: an earlier write whose
// outcome was unknown landed after all. Current is that document and
// Version its version; the holder adopts them and writes again.
type StaleError struct {
	Current RuleState
	Version Version
	Err     error
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("state is at a later write of this lease (%d): %v", e.Current.Lease.Writes, e.Err)
}

func (e *StaleError) Unwrap() error { return e.Err }

// WriteHeld writes r, whose Lease is the caller's, if the document is still
// at version v, and returns the new version. It counts the write in
// r.Lease.Writes (a count never reused). After a conflict or an ambiguous
// failure it re-reads the document: its own Token and Writes mean the write
// landed (the answer was lost); another Token means ErrLeaseLost; its own
// Token with another count means an earlier write of unknown outcome landed
// (*StaleError). Any other error is returned as is: the outcome is unknown,
// and the caller retries (a later attempt recognises either outcome).
func WriteHeld(ctx context.Context, d Docs, id string, r *RuleState, v Version) (Version, error) {
	if r.Lease == nil || r.Lease.Token == "" {
		return Version{}, fmt.Errorf("write state %s: no lease held", id)
	}
	r.Lease.Writes++
	nv, err := d.Put(ctx, id, r, v)
	if err == nil {
		return nv, nil
	}
	var cur RuleState
	cv, gerr := d.Get(ctx, id, &cur)
	if gerr != nil {
		return Version{}, fmt.Errorf("write state %s: %w", id, err)
	}
	switch {
	case cur.Lease != nil && cur.Lease.Token == r.Lease.Token && cur.Lease.Writes == r.Lease.Writes:
		return cv, nil
	case cur.Lease == nil || cur.Lease.Token != r.Lease.Token:
		return Version{}, fmt.Errorf("write state %s (generation %d): %w", id, r.Lease.Generation, ErrLeaseLost)
	case cv != v:
		return Version{}, &StaleError{Current: cur, Version: cv, Err: err}
	}
	return Version{}, fmt.Errorf("write state %s: %w", id, err)
}

// ReleaseLease clears the caller's lease in r, keeping everything else. A
// lease already lost or released is not an error.
func ReleaseLease(ctx context.Context, d Docs, id string, r RuleState, v Version, now time.Time) (Version, error) {
	if r.Lease == nil {
		return v, nil
	}
	held := *r.Lease
	r.UpdatedAt = now.UTC()
	r.Lease = nil
	nv, err := d.Put(ctx, id, r, v)
	if err == nil {
		return nv, nil
	}
	var cur RuleState
	cv, gerr := d.Get(ctx, id, &cur)
	if gerr == nil && (cur.Lease == nil || cur.Lease.Token != held.Token) {
		return cv, nil // released by the lost answer, or taken over
	}
	return Version{}, fmt.Errorf("release lease on %s: %w", id, err)
}

// AcquireLease is the package function AcquireLease on s.
func (s *Store) AcquireLease(ctx context.Context, id string, c Claim, init RuleState) (RuleState, Version, error) {
	return AcquireLease(ctx, s, id, c, init)
}
