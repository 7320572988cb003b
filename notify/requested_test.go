package notify

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/alerts"
)

type fakeStore struct{ created []alerts.Alert }

func (f *fakeStore) Existing(context.Context, []string) (map[string]string, error) { return nil, nil }

func (f *fakeStore) Create(_ context.Context, as []alerts.Alert) (alerts.WriteResult, error) {
	f.created = append(f.created, as...)
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	return alerts.WriteResult{Created: len(as), CreatedIDs: ids}, nil
}

func TestRequestDeliveryMarksCopies(t *testing.T) {
	orig := alerts.Alert{ID: "a1", Doc: map[string]any{"kibana.alert.uuid": "a1"}}
	f := &fakeStore{}
	_, err := RequestDelivery(f).Create(context.Background(), []alerts.Alert{orig})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"kibana.alert.uuid": "a1", "esrule": map[string]any{"notify": map[string]any{"requested": true}}}, f.created[0].Doc)
	require.Equal(t, map[string]any{"kibana.alert.uuid": "a1"}, orig.Doc, "the caller's alert is unchanged")
	require.True(t, parseNotifyState(f.created[0].Doc).requested)
}

func TestWakingWakesEveryAction(t *testing.T) {
	d, err := New(nil, Config{
		Actions: []Action{{Name: "a", Type: TypeWebhook, URL: "http://x"}, {Name: "b", Type: TypeSlack, URL: "http://y"}},
		Aliases: []string{"esrule-alerts-default"}, Clock: time.Now,
	})
	require.NoError(t, err)
	_, err = d.Waking(&fakeStore{}).Create(context.Background(), []alerts.Alert{{ID: "x"}})
	require.NoError(t, err)
	for _, w := range d.workers {
		require.Len(t, w.wake, 1)
	}
	var none *Deliverer
	none.Wake([]string{"x"})
	f := &fakeStore{}
	require.Same(t, AlertStore(f), none.Waking(f))
}

func TestBackoff(t *testing.T) {
	d := &Deliverer{cfg: Config{MinBackoff: time.Second, MaxBackoff: 10 * time.Second}}
	tests := []struct {
		n          int
		retryAfter time.Duration
		want       time.Duration
	}{
		{n: 1, want: time.Second},
		{n: 2, want: 2 * time.Second},
		{n: 4, want: 8 * time.Second},
		{n: 5, want: 10 * time.Second},
		{n: 100, want: 10 * time.Second},
		{n: 1, retryAfter: 30 * time.Second, want: 30 * time.Second},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, d.backoff(tt.n, tt.retryAfter), "n=%d retry-after=%s", tt.n, tt.retryAfter)
	}
}
