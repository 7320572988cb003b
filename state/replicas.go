package state

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// KindReplica marks the registration document of a serve replica.
const KindReplica = "replica"

// maxReplicas bounds the replicas LiveReplicas reads.
const maxReplicas = 1000

// Replica is the registration of a serve replica: it is live until
// Lease.ExpiresAt, which its heartbeats push forward.
type Replica struct {
	Kind      string    `json:"kind"` // always KindReplica
	Lease     *Lease    `json:"lease"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ReplicaDocID is the registration document id of replica owner.
func ReplicaDocID(owner string) string { return "replica:" + owner }

// Heartbeat registers owner as a live replica until now+ttl. The write waits
// for a refresh, so that the other replicas' next LiveReplicas sees it.
func (s *Store) Heartbeat(ctx context.Context, owner string, now time.Time, ttl time.Duration) error {
	body, err := json.Marshal(Replica{Kind: KindReplica, Lease: &Lease{Owner: owner, ExpiresAt: now.Add(ttl).UTC()}, UpdatedAt: now.UTC()})
	if err != nil {
		return fmt.Errorf("encode replica %s: %w", owner, err)
	}
	res, err := esapi.IndexRequest{
		Index: s.index, DocumentID: ReplicaDocID(owner), Body: bytes.NewReader(body), Refresh: "wait_for",
	}.Do(ctx, s.c)
	if err != nil {
		return fmt.Errorf("register replica %s: %w", owner, err)
	}
	defer res.Body.Close()
	if res.IsError() {
		return fmt.Errorf("register replica %s: %w", owner, responseError(res))
	}
	return nil
}

// LiveReplicas lists the owners of the replicas registered as live at now,
// sorted.
func (s *Store) LiveReplicas(ctx context.Context, now time.Time) ([]string, error) {
	body, err := json.Marshal(map[string]any{
		"size": maxReplicas, "track_total_hits": false, "_source": []string{"lease.owner"},
		"sort": []any{map[string]any{"lease.owner": "asc"}},
		"query": map[string]any{"bool": map[string]any{"filter": []any{
			map[string]any{"term": map[string]any{"kind": KindReplica}},
			map[string]any{"range": map[string]any{"lease.expires_at": map[string]any{"gt": now.UTC().Format(time.RFC3339Nano)}}},
		}}},
	})
	if err != nil {
		return nil, fmt.Errorf("encode replicas search: %w", err)
	}
	yes := true
	res, err := esapi.SearchRequest{Index: []string{s.index}, Body: bytes.NewReader(body), IgnoreUnavailable: &yes}.Do(ctx, s.c)
	if err != nil {
		return nil, fmt.Errorf("list replicas: %w", err)
	}
	defer res.Body.Close()
	if res.IsError() {
		return nil, fmt.Errorf("list replicas: %w", responseError(res))
	}
	var out struct {
		Shards struct {
			Failed int `json:"failed"`
		} `json:"_shards"`
		Hits struct {
			Hits []struct {
				Source Replica `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("decode replicas: %w", err)
	}
	if out.Shards.Failed > 0 {
		return nil, fmt.Errorf("list replicas: %d shards failed", out.Shards.Failed)
	}
	owners := make([]string, 0, len(out.Hits.Hits))
	for _, h := range out.Hits.Hits {
		if h.Source.Lease != nil && h.Source.Lease.Owner != "" {
			owners = append(owners, h.Source.Lease.Owner)
		}
	}
	return owners, nil
}

// Leave ends owner's registration at now (a replica shutting down), so that
// the others take its rules at their next tick. It writes an expired
// registration rather than deleting it: the runner role may index state
// documents, not delete them.
func (s *Store) Leave(ctx context.Context, owner string, now time.Time) error {
	return s.Heartbeat(ctx, owner, now, 0)
}
