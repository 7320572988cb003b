package detect

import (
	"context"

	"github.com/esrule/esrule/alerts"
)

// fakeStore is an in-memory AlertStore.
type fakeStore struct {
	alerts   map[string]string // id -> execution uuid
	created  []string          // ids in creation order
	existErr error
	// unconfirmed are ids whose write answer was "lost" (ClaimUnconfirmed).
	unconfirmed map[string]bool
}

func (s *fakeStore) ClaimUnconfirmed(ids []string) []string {
	var out []string
	for _, id := range ids {
		if s.unconfirmed[id] {
			delete(s.unconfirmed, id)
			out = append(out, id)
		}
	}
	return out
}

func newFakeStore() *fakeStore { return &fakeStore{alerts: map[string]string{}} }

func (s *fakeStore) Existing(_ context.Context, ids []string) (map[string]string, error) {
	if s.existErr != nil {
		return nil, s.existErr
	}
	out := map[string]string{}
	for _, id := range ids {
		if u, ok := s.alerts[id]; ok {
			out[id] = u
		}
	}
	return out, nil
}

func (s *fakeStore) Create(_ context.Context, as []alerts.Alert) (alerts.WriteResult, error) {
	var wr alerts.WriteResult
	for _, a := range as {
		if _, ok := s.alerts[a.ID]; ok {
			wr.Duplicate++
			continue
		}
		u, _ := a.Doc["kibana.alert.rule.execution.uuid"].(string)
		s.alerts[a.ID] = u
		s.created = append(s.created, a.ID)
		wr.Created++
		wr.CreatedIDs = append(wr.CreatedIDs, a.ID)
	}
	return wr, nil
}
