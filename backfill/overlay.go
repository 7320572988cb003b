package backfill

import (
	"context"
	"errors"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/detect"
)

// overlay is the alert store of a dry run: what Elasticsearch holds plus the
// alerts this dry run would have written, so that later slots see earlier
// slots' alerts as existing, as in a real run.
type overlay struct {
	base    detect.AlertStore // may be nil
	written map[string]string // id → execution uuid
}

func (o *overlay) Existing(ctx context.Context, ids []string) (map[string]string, error) {
	found := map[string]string{}
	if o.base != nil {
		var err error
		if found, err = o.base.Existing(ctx, ids); err != nil {
			return nil, err
		}
	}
	for _, id := range ids {
		if u, ok := o.written[id]; ok {
			found[id] = u
		}
	}
	return found, nil
}

func (o *overlay) Create(context.Context, []alerts.Alert) (alerts.WriteResult, error) {
	return alerts.WriteResult{}, errors.New("dry run: no alert is written")
}
