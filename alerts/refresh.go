package alerts

import (
	"context"
	"fmt"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/esrule/esrule/esclient"
)

// waitsForRefresh reports whether the writer's bulk requests make their
// alerts searchable before answering.
func (w *Writer) waitsForRefresh() bool {
	return w.cfg.Refresh == "true" || w.cfg.Refresh == "wait_for"
}

// markWritten records that alerts may have been written that searches do
// not see yet.
func (w *Writer) markWritten() {
	if !w.waitsForRefresh() {
		w.unrefreshed.Store(true)
	}
}

// refreshIfWritten refreshes the alias before the writer's first ids
// pre-check and when this writer wrote alerts since its last refresh, so
// that the pre-check, a search, sees them: a bulk without refresh costs
// nothing when no pre-check follows (a one-off run), and a pre-check that
// follows one (the next slot, a retried execution) pays one refresh instead
// of every bulk waiting for one.
func (w *Writer) refreshIfWritten(ctx context.Context) error {
	if !w.unrefreshed.Swap(false) {
		return nil
	}
	yes := true
	if _, err := esclient.Call(ctx, w.es, esapi.IndicesRefreshRequest{
		Index: []string{w.cfg.Alias}, IgnoreUnavailable: &yes, AllowNoIndices: &yes,
	}); err != nil {
		w.unrefreshed.Store(true)
		return fmt.Errorf("refresh first: %w", err)
	}
	return nil
}
