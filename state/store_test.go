package state_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/internal/estest"
	"github.com/esrule/esrule/state"
)

const index = "esrule-state"

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func newStore(t *testing.T) (*state.Store, *estest.Transport, *estest.Documents) {
	t.Helper()
	tr := estest.NewTransport()
	docs := tr.ServeDocuments()
	return state.NewStore(tr.Client(t), index), tr, docs
}

func TestGetMissingAndPutCreate(t *testing.T) {
	s, tr, _ := newStore(t)
	ctx := context.Background()
	r := state.RuleState{RuleID: "keep"}
	v, err := s.Get(ctx, "default:r1", &r)
	require.NoError(t, err)
	require.True(t, v.IsZero())
	require.Equal(t, "keep", r.RuleID, "a missing document leaves dst alone")

	doc := state.RuleState{RuleID: "r1", Space: "default", UpdatedAt: t0}
	v1, err := s.Put(ctx, "default:r1", doc, state.Version{})
	require.NoError(t, err)
	require.False(t, v1.IsZero())
	put := tr.RequestsTo(http.MethodPut, "/"+index+"/_doc/*")
	require.Len(t, put, 1)
	require.Equal(t, "create", put[0].Query.Get("op_type"), "the zero version creates")
	require.Equal(t, "false", put[0].Query.Get("refresh"))

	var got state.RuleState
	v2, err := s.Get(ctx, "default:r1", &got)
	require.NoError(t, err)
	require.Equal(t, v1, v2)
	require.Equal(t, doc, got)

	_, err = s.Put(ctx, "default:r1", doc, state.Version{})
	require.ErrorIs(t, err, state.ErrConflict, "create over an existing document")
}

func TestOptimisticConcurrency(t *testing.T) {
	s, tr, _ := newStore(t)
	ctx := context.Background()
	v1, err := s.Put(ctx, "id", state.RuleState{RuleID: "a"}, state.Version{})
	require.NoError(t, err)
	v2, err := s.Put(ctx, "id", state.RuleState{RuleID: "b"}, v1)
	require.NoError(t, err)
	require.NotEqual(t, v1, v2)
	last := tr.Requests()[len(tr.Requests())-1]
	require.Equal(t, "", last.Query.Get("op_type"))
	require.NotEmpty(t, last.Query.Get("if_seq_no"))
	require.NotEmpty(t, last.Query.Get("if_primary_term"))

	_, err = s.Put(ctx, "id", state.RuleState{RuleID: "stale"}, v1)
	require.ErrorIs(t, err, state.ErrConflict, "a write at a stale version")
	var got state.RuleState
	_, err = s.Get(ctx, "id", &got)
	require.NoError(t, err)
	require.Equal(t, "b", got.RuleID)
}

func TestLeases(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	init := state.RuleState{RuleID: "r1", RuleUUID: "so-1", Space: "default"}
	ttl := 2 * time.Minute

	r, v, err := s.AcquireLease(ctx, "default:so-1", state.Claim{Owner: "a", Token: "ta", Now: t0, TTL: ttl, Heartbeat: 40 * time.Second}, init)
	require.NoError(t, err)
	require.Equal(t, &state.Lease{Owner: "a", Token: "ta", Generation: 1, Writes: 1, ExpiresAt: t0.Add(ttl), RenewedAt: t0, HeartbeatMS: 40000}, r.Lease)
	require.Equal(t, t0, r.UpdatedAt)

	// Another owner is refused while the lease runs.
	_, _, err = s.AcquireLease(ctx, "default:so-1", state.Claim{Owner: "b", Now: t0.Add(time.Minute), TTL: ttl}, init)
	require.ErrorIs(t, err, state.ErrLeaseHeld)
	require.ErrorContains(t, err, "held by a until 2026-03-02T10:02:00Z")

	// The owner acquires it again (a new acquisition: token and generation).
	r, v2, err := s.AcquireLease(ctx, "default:so-1", state.Claim{Owner: "a", Token: "ta2", Now: t0.Add(time.Minute), TTL: ttl}, init)
	require.NoError(t, err)
	require.Equal(t, t0.Add(time.Minute+ttl), r.Lease.ExpiresAt)
	require.Equal(t, int64(2), r.Lease.Generation)
	require.NotEqual(t, v, v2)

	// Release keeps the rest of the state and clears the lease.
	r.LastStatus = state.StatusSucceeded
	v3, err := state.ReleaseLease(ctx, s, "default:so-1", r, v2, t0.Add(90*time.Second))
	require.NoError(t, err)
	var stored state.RuleState
	_, err = s.Get(ctx, "default:so-1", &stored)
	require.NoError(t, err)
	require.Nil(t, stored.Lease)
	require.Equal(t, state.StatusSucceeded, stored.LastStatus)

	// Releasing no lease writes nothing.
	same, err := state.ReleaseLease(ctx, s, "default:so-1", stored, v3, t0)
	require.NoError(t, err)
	require.Equal(t, v3, same)

	// After expiry another owner takes it.
	_, _, err = s.AcquireLease(ctx, "default:so-1", state.Claim{Owner: "a", Now: t0.Add(2 * time.Minute), TTL: time.Minute}, init)
	require.NoError(t, err)
	r, _, err = s.AcquireLease(ctx, "default:so-1", state.Claim{Owner: "b", Now: t0.Add(3 * time.Minute), TTL: ttl}, init)
	require.NoError(t, err)
	require.Equal(t, "b", r.Lease.Owner)

	// Losing the race between read and write is a held lease.
	racing := estest.NewTransport()
	racingDocs := racing.ServeDocuments()
	racingDocs.Put(index, "default:so-2", init)
	racing.OnFunc(http.MethodPut, "/"+index+"/_doc/*", func(req estest.Request) estest.Reply {
		return estest.Error(http.StatusConflict, "version_conflict_engine_exception", "[default:so-2]: version conflict")
	})
	rs := state.NewStore(racing.Client(t), index)
	_, _, err = rs.AcquireLease(ctx, "default:so-2", state.Claim{Owner: "a", Now: t0, TTL: ttl}, init)
	require.ErrorIs(t, err, state.ErrLeaseHeld)
}

func TestCheckpointDocument(t *testing.T) {
	s, _, docs := newStore(t)
	ctx := context.Background()
	from, to := t0, t0.Add(time.Hour)
	id := state.BackfillDocID("default", "so-1", from, to)
	require.Equal(t, "backfill:default:so-1:2026-03-02T10:00:00Z:2026-03-02T11:00:00Z", id)
	ck := state.Backfill{Kind: "backfill", RuleID: "r1", RuleUUID: "so-1", Space: "default",
		Backfill: state.Range{ID: id, From: from, To: to, DoneUntil: from.Add(10 * time.Minute)}, UpdatedAt: t0}
	v, err := s.Put(ctx, id, ck, state.Version{})
	require.NoError(t, err)
	ck.Backfill.DoneUntil = to
	_, err = s.Put(ctx, id, ck, v)
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(docs.Source(index, id), &raw))
	require.Equal(t, "2026-03-02T11:00:00Z", raw["backfill"].(map[string]any)["done_until"])
	require.Equal(t, "default:so-1", state.RuleDocID("default", "so-1"))
}

func TestErrorStatuses(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name         string
		reply        estest.Reply
		status       int
		kind, reason string
	}{
		{"elasticsearch error", estest.Error(http.StatusForbidden, "security_exception", "action [indices:data/read/get] is unauthorized"),
			403, "security_exception", "action [indices:data/read/get] is unauthorized"},
		{"proxy error", estest.Reply{Status: http.StatusBadGateway, Body: []byte("<html>502 Bad Gateway</html>\n")},
			502, "", "<html>502 Bad Gateway</html>"},
		{"unavailable", estest.Error(http.StatusServiceUnavailable, "unavailable_shards_exception", "primary shard is not active"),
			503, "unavailable_shards_exception", "primary shard is not active"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := estest.NewTransport()
			tr.On("", "/**", tc.reply)
			s := state.NewStore(tr.Client(t), index)
			check := func(err error, action string) {
				t.Helper()
				require.ErrorContains(t, err, action)
				var ee *esclient.Error
				require.ErrorAs(t, err, &ee)
				require.Equal(t, tc.status, ee.Status)
				require.Equal(t, tc.kind, ee.Type)
				require.Equal(t, tc.reason, ee.Reason)
				require.NotErrorIs(t, err, state.ErrConflict)
			}
			var r state.RuleState
			_, err := s.Get(ctx, "x", &r)
			check(err, "get state x: ")
			_, err = s.Put(ctx, "x", r, state.Version{})
			check(err, "write state x: ")
			_, _, err = s.AcquireLease(ctx, "x", state.Claim{Owner: "a", Now: t0, TTL: time.Minute}, r)
			check(err, "get state x: ")
		})
	}
	t.Run("transport error", func(t *testing.T) {
		refused := errors.New("connect: connection refused")
		tr := estest.NewTransport()
		tr.On("", "/**", estest.Fail(refused))
		s := state.NewStore(tr.Client(t), index)
		var r state.RuleState
		_, err := s.Get(ctx, "x", &r)
		require.ErrorIs(t, err, refused)
		_, err = s.Put(ctx, "x", r, state.Version{SeqNo: 1, PrimaryTerm: 1})
		require.ErrorIs(t, err, refused)
	})
	t.Run("undecodable bodies", func(t *testing.T) {
		tr := estest.NewTransport()
		tr.On(http.MethodGet, "/**", estest.JSON(200, `{"found":true,"_seq_no":1,"_primary_term":1,"_source":`))
		tr.On(http.MethodPut, "/**", estest.JSON(201, `{"_seq_no":1,"_primary_term":`))
		s := state.NewStore(tr.Client(t), index)
		var r state.RuleState
		_, err := s.Get(ctx, "x", &r)
		require.ErrorContains(t, err, "decode state x")
		_, err = s.Put(ctx, "x", r, state.Version{})
		require.ErrorContains(t, err, "decode write of state x")
	})
	t.Run("source of another shape", func(t *testing.T) {
		tr := estest.NewTransport()
		tr.On(http.MethodGet, "/**", estest.JSON(200, `{"found":true,"_seq_no":1,"_primary_term":1,"_source":{"rule_id":7}}`))
		s := state.NewStore(tr.Client(t), index)
		var r state.RuleState
		_, err := s.Get(ctx, "x", &r)
		require.ErrorContains(t, err, "decode state x")
	})
	t.Run("not found body", func(t *testing.T) {
		tr := estest.NewTransport()
		tr.On(http.MethodGet, "/**", estest.JSON(200, `{"found":false}`))
		s := state.NewStore(tr.Client(t), index)
		var r state.RuleState
		v, err := s.Get(ctx, "x", &r)
		require.NoError(t, err)
		require.True(t, v.IsZero())
	})
	t.Run("impostor", func(t *testing.T) {
		tr := estest.NewTransport()
		tr.Impostor = true
		tr.ServeDocuments().Put(index, "x", state.RuleState{RuleID: "r"})
		s := state.NewStore(tr.Client(t), index)
		var r state.RuleState
		_, err := s.Get(ctx, "x", &r)
		require.ErrorContains(t, err, "not Elasticsearch")
		require.Empty(t, r.RuleID)
	})
}
