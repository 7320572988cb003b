package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/esrule/esrule/esclient"
)

// Store reads and writes state documents in one index.
type Store struct {
	c     esapi.Transport
	index string
}

// NewStore returns a Store on index (mappings.StateIndex in production).
func NewStore(c esapi.Transport, index string) *Store {
	return &Store{c: c, index: index}
}

// Get reads document id into dst. A missing document leaves dst untouched and
// returns the zero Version.
func (s *Store) Get(ctx context.Context, id string, dst any) (Version, error) {
	res, err := esapi.GetRequest{Index: s.index, DocumentID: id}.Do(ctx, s.c)
	if err != nil {
		return Version{}, fmt.Errorf("get state %s: %w", id, err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		return Version{}, nil
	}
	if res.IsError() {
		return Version{}, fmt.Errorf("get state %s: %w", id, responseError(res))
	}
	var doc struct {
		SeqNo       int64           `json:"_seq_no"`
		PrimaryTerm int64           `json:"_primary_term"`
		Found       bool            `json:"found"`
		Source      json.RawMessage `json:"_source"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		return Version{}, fmt.Errorf("decode state %s: %w", id, err)
	}
	if !doc.Found {
		return Version{}, nil
	}
	if err := json.Unmarshal(doc.Source, dst); err != nil {
		return Version{}, fmt.Errorf("decode state %s: %w", id, err)
	}
	return Version{SeqNo: doc.SeqNo, PrimaryTerm: doc.PrimaryTerm}, nil
}

// Put writes doc as document id if it is still at version v (the zero Version:
// only if it does not exist yet). It returns ErrConflict when another writer
// got there first, and the new Version otherwise.
func (s *Store) Put(ctx context.Context, id string, doc any, v Version) (Version, error) {
	body, err := json.Marshal(doc)
	if err != nil {
		return Version{}, fmt.Errorf("encode state %s: %w", id, err)
	}
	req := esapi.IndexRequest{
		Index:      s.index,
		DocumentID: id,
		Body:       bytes.NewReader(body),
		Refresh:    "false",
	}
	if v.IsZero() {
		req.OpType = "create"
	} else {
		seq, term := int(v.SeqNo), int(v.PrimaryTerm)
		req.IfSeqNo, req.IfPrimaryTerm = &seq, &term
	}
	res, err := req.Do(ctx, s.c)
	if err != nil {
		return Version{}, fmt.Errorf("write state %s: %w", id, err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusConflict {
		return Version{}, fmt.Errorf("write state %s: %w", id, ErrConflict)
	}
	if res.IsError() {
		return Version{}, fmt.Errorf("write state %s: %w", id, responseError(res))
	}
	var out struct {
		SeqNo       int64 `json:"_seq_no"`
		PrimaryTerm int64 `json:"_primary_term"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return Version{}, fmt.Errorf("decode write of state %s: %w", id, err)
	}
	return Version{SeqNo: out.SeqNo, PrimaryTerm: out.PrimaryTerm}, nil
}

// AcquireLease reads the rule's state and takes (or renews) its lease for
// owner until now+ttl. It returns ErrLeaseHeld when another owner holds an
// unexpired lease or wins the race for it. The returned state and Version are
// what the caller updates when the execution ends.
func (s *Store) AcquireLease(ctx context.Context, id, owner string, now time.Time, ttl time.Duration, init RuleState) (RuleState, Version, error) {
	r := init
	v, err := s.Get(ctx, id, &r)
	if err != nil {
		return RuleState{}, Version{}, err
	}
	if r.Lease.Held(owner, now) {
		return r, v, fmt.Errorf("acquire lease on %s (held by %s until %s): %w",
			id, r.Lease.Owner, r.Lease.ExpiresAt.Format(time.RFC3339), ErrLeaseHeld)
	}
	r.Lease = &Lease{Owner: owner, ExpiresAt: now.Add(ttl).UTC()}
	r.UpdatedAt = now.UTC()
	nv, err := s.Put(ctx, id, r, v)
	if err != nil {
		if errors.Is(err, ErrConflict) {
			return r, v, fmt.Errorf("acquire lease on %s: %w", id, ErrLeaseHeld)
		}
		return r, v, err
	}
	return r, nv, nil
}

// ReleaseLease clears owner's lease, keeping everything else, if the state is
// still at version v.
func (s *Store) ReleaseLease(ctx context.Context, id, owner string, r RuleState, v Version, now time.Time) (Version, error) {
	if r.Lease == nil || r.Lease.Owner != owner {
		return v, nil
	}
	r.Lease = nil
	r.UpdatedAt = now.UTC()
	return s.Put(ctx, id, r, v)
}

func responseError(res *esapi.Response) error {
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return esclient.DecodeError(res.StatusCode, b)
}
