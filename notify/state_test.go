package notify

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseNotifyStateNestedAndDotted(t *testing.T) {
	claimed := time.Date(2024, 5, 13, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		source string
	}{
		{name: "nested", source: `{"esrule":{"notify":{"requested":true,"slack":{"status":"sending","attempts":2,"claimed_at":"2024-05-13T03:00:00Z","claimed_by":"p1"}}}}`},
		{name: "dotted", source: `{"esrule.notify":{"requested":true,"slack":{"status":"sending","attempts":2,"claimed_at":"2024-05-13T03:00:00Z","claimed_by":"p1"}}}`},
		{name: "mixed", source: `{"esrule":{"notify.requested":true,"notify":{"slack":{"status":"sending","attempts":2,"claimed_at":"2024-05-13T03:00:00Z","claimed_by":"p1"}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var src map[string]any
			require.NoError(t, decode([]byte(tt.source), &src))
			st := parseNotifyState(src)
			if tt.name != "mixed" {
				require.True(t, st.requested)
			}
			require.Equal(t, deliveryState{Status: StatusSending, Attempts: 2, ClaimedAt: claimed, ClaimedBy: "p1"}, st.actions["slack"])
		})
	}
}

func TestStateDocRoundTrip(t *testing.T) {
	ds := deliveryState{Status: StatusSent, Attempts: 3, SentAt: time.Date(2024, 5, 13, 3, 0, 0, 0, time.UTC), LastError: ""}
	b, err := json.Marshal(stateDoc("hook", ds))
	require.NoError(t, err)
	require.JSONEq(t, `{"doc":{"esrule":{"notify":{"hook":{"status":"sent","attempts":3,"sent_at":"2024-05-13T03:00:00Z",
		"last_error":null,"claimed_at":null,"claimed_by":null}}}}}`, string(b))
	var src map[string]any
	require.NoError(t, decode(b, &src))
	require.Equal(t, ds, parseNotifyState(src["doc"].(map[string]any)).actions["hook"])
}

func TestEligible(t *testing.T) {
	now := time.Date(2024, 5, 13, 3, 0, 0, 0, time.UTC)
	w := &worker{d: &Deliverer{cfg: Config{ClaimTimeout: time.Minute}}, a: Action{Name: "hook", Rules: []string{"r1"}}}
	s := Summary{RuleID: "r1"}
	tests := []struct {
		name   string
		manual bool
		s      Summary
		st     notifyState
		want   bool
	}{
		{name: "new", s: s, want: true},
		{name: "other rule", s: Summary{RuleID: "r2"}},
		{name: "rule by uuid", s: Summary{RuleID: "x", RuleUUID: "r1"}, want: true},
		{name: "manual", manual: true, s: s},
		{name: "manual requested", manual: true, s: s, st: notifyState{requested: true}, want: true},
		{name: "sent", s: s, st: notifyState{actions: map[string]deliveryState{"hook": {Status: StatusSent}}}},
		{name: "failed", s: s, st: notifyState{actions: map[string]deliveryState{"hook": {Status: StatusFailed}}}},
		{name: "pending", s: s, st: notifyState{actions: map[string]deliveryState{"hook": {Status: StatusPending}}}, want: true},
		{name: "sent by another action", s: s, st: notifyState{actions: map[string]deliveryState{"slack": {Status: StatusSent}}}, want: true},
		{name: "claimed recently", s: s, st: notifyState{actions: map[string]deliveryState{"hook": {Status: StatusSending, ClaimedAt: now.Add(-30 * time.Second)}}}},
		{name: "claim expired", s: s, st: notifyState{actions: map[string]deliveryState{"hook": {Status: StatusSending, ClaimedAt: now.Add(-time.Minute)}}}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, w.eligible(tt.manual, tt.s, tt.st, now))
		})
	}
}
