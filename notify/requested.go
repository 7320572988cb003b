package notify

import (
	"context"
	"maps"

	"github.com/esrule/esrule/alerts"
)

// AlertStore is what writes alerts (detect.AlertStore, alerts.Writer).
type AlertStore interface {
	Existing(ctx context.Context, ids []string) (map[string]string, error)
	Create(ctx context.Context, as []alerts.Alert) (alerts.WriteResult, error)
}

// RequestDelivery wraps the alert store of a manual execution (backfill
// --notify) so that every alert it creates carries esrule.notify.requested:
// true. The delivery loop skips alerts of manual executions
// (kibana.alert.rule.execution.type: manual) without that mark, so backfill
// notifies nothing unless asked to. Alerts that already existed (409) are
// left as they are.
func RequestDelivery(s AlertStore) AlertStore { return requestingStore{s} }

type requestingStore struct{ AlertStore }

func (r requestingStore) Create(ctx context.Context, as []alerts.Alert) (alerts.WriteResult, error) {
	marked := make([]alerts.Alert, len(as))
	for i, a := range as {
		marked[i] = MarkRequested(a)
	}
	return r.AlertStore.Create(ctx, marked)
}

// MarkRequested returns a copy of a whose document asks for delivery
// (esrule.notify.requested: true); a itself is not changed.
func MarkRequested(a alerts.Alert) alerts.Alert {
	doc := maps.Clone(a.Doc)
	doc["esrule"] = map[string]any{"notify": map[string]any{requestedKey: true}}
	a.Doc = doc
	return a
}

// Waking wraps the alert store of scheduled executions so that every Create
// that created alerts wakes d with their ids (alerts.WriteResult.CreatedIDs).
// With a nil d it returns s.
func (d *Deliverer) Waking(s AlertStore) AlertStore {
	if d == nil {
		return s
	}
	return wakingStore{AlertStore: s, d: d}
}

type wakingStore struct {
	AlertStore
	d *Deliverer
}

func (w wakingStore) Create(ctx context.Context, as []alerts.Alert) (alerts.WriteResult, error) {
	res, err := w.AlertStore.Create(ctx, as)
	w.d.Wake(res.CreatedIDs)
	return res, err
}
