package engine

import (
	"context"
	"sync"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/detect"
)

// countingStore counts the alerts a run of slots through the backfill
// engine writes, so that catch-up and gap fills report per group of slots
// exactly what was written (metrics and the state's counts). Two stores
// (the fast path's and the exactly executed slots') may share one count
// through into.
type countingStore struct {
	detect.AlertStore
	into *countingStore

	mu                 sync.Mutex
	created, duplicate int
}

// Create writes as and counts the result.
func (c *countingStore) Create(ctx context.Context, as []alerts.Alert) (alerts.WriteResult, error) {
	res, err := c.AlertStore.Create(ctx, as)
	dst := c
	if c.into != nil {
		dst = c.into
	}
	dst.mu.Lock()
	dst.created += res.Created
	dst.duplicate += res.Duplicate
	dst.mu.Unlock()
	return res, err
}

// take returns the counts since the last take and resets them.
func (c *countingStore) take() (created, duplicate int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	created, duplicate = c.created, c.duplicate
	c.created, c.duplicate = 0, 0
	return created, duplicate
}
