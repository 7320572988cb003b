package randdata

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestOktaActorIDsAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for i := range 200000 {
		id := OktaActorID(i)
		require.Len(t, id, 20)
		require.True(t, strings.HasPrefix(id, "00u"))
		require.False(t, seen[id], "actor %d repeats %s", i, id)
		seen[id] = true
	}
}

func TestOktaEventsShapeAndNewActors(t *testing.T) {
	cfg := OktaConfig{Seed: 3, Events: 5000, Actors: 300, Days: 7, End: OktaEnd, NewActors: 7}
	var n, matching int
	newActors := map[string]bool{}
	err := cfg.Each(func(id string, src []byte) error {
		n++
		var e struct {
			Timestamp string `json:"@timestamp"`
			Event     struct{ Dataset string }
			Okta      struct {
				EventType string `json:"event_type"`
				Actor     struct{ ID string }
				Security  struct {
					IsProxy bool `json:"is_proxy"`
				} `json:"security_context"`
			}
		}
		require.NoError(t, json.Unmarshal(src, &e))
		ts, err := time.Parse(time.RFC3339Nano, e.Timestamp)
		require.NoError(t, err)
		require.False(t, ts.After(cfg.End))
		require.False(t, ts.Before(cfg.End.Add(-7*24*time.Hour)))
		match := e.Event.Dataset == "okta.system" && e.Okta.Security.IsProxy && !strings.HasPrefix(e.Okta.Actor.ID, "okta") &&
			(e.Okta.EventType == "user.session.start" || e.Okta.EventType == "user.authentication.verify")
		if match {
			matching++
		}
		if strings.HasPrefix(id, "okta-") && n > cfg.Events {
			require.True(t, match)
			require.True(t, ts.After(cfg.End.Add(-5*time.Minute)))
			newActors[e.Okta.Actor.ID] = true
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, cfg.Total(), n)
	require.Len(t, newActors, 7)
	require.InDelta(t, 0.17, float64(matching)/float64(n), 0.03)
}
