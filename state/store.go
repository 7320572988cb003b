package state

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/esrule/esrule/esclient"
)

// DefaultRequestTimeout bounds every state request (all its attempts and
// retries): a hung Elasticsearch must not hold a tick, a lease renewal or a
// release for minutes.
const DefaultRequestTimeout = 30 * time.Second

// Store reads and writes state documents in one index.
type Store struct {
	c       esapi.Transport
	index   string
	timeout time.Duration
}

// NewStore returns a Store on index (mappings.StateIndex in production)
// whose requests are bounded by DefaultRequestTimeout.
func NewStore(c esapi.Transport, index string) *Store {
	return &Store{c: c, index: index, timeout: DefaultRequestTimeout}
}

// WithRequestTimeout returns a copy of s whose requests are bounded by d
// (d <= 0: DefaultRequestTimeout).
func (s *Store) WithRequestTimeout(d time.Duration) *Store {
	if d <= 0 {
		d = DefaultRequestTimeout
	}
	c := *s
	c.timeout = d
	return &c
}

// Get reads document id into dst. A missing document leaves dst untouched and
// returns the zero Version.
func (s *Store) Get(ctx context.Context, id string, dst any) (Version, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
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
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
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

func responseError(res *esapi.Response) error {
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return esclient.DecodeError(res.StatusCode, b)
}
