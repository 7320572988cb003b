package state

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLeaseHeld(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	l := &Lease{Owner: "a", ExpiresAt: t0.Add(time.Minute)}
	tests := []struct {
		name  string
		lease *Lease
		owner string
		at    time.Time
		want  bool
	}{
		{"no lease", nil, "b", t0, false},
		{"own lease", l, "a", t0, false},
		{"other owner, unexpired", l, "b", t0, true},
		{"other owner, at expiry", l, "b", t0.Add(time.Minute), false},
		{"other owner, expired", l, "b", t0.Add(2 * time.Minute), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.lease.Held(tt.owner, tt.at))
		})
	}
}

func TestDocIDs(t *testing.T) {
	require.Equal(t, "default:rule-1", RuleDocID("default", "rule-1"))
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600))
	to := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	require.Equal(t, "backfill:default:rule-1:2025-12-31T23:00:00Z:2026-01-02T00:00:00Z",
		BackfillDocID("default", "rule-1", from, to))
	require.True(t, Version{}.IsZero())
	require.False(t, Version{SeqNo: 0, PrimaryTerm: 1}.IsZero())
}
