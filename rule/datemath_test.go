package rule

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDateMath(t *testing.T) {
	// Wednesday 2024-01-31 14:37:12.345 UTC.
	now := time.Date(2024, 1, 31, 14, 37, 12, 345e6, time.UTC)
	tests := []struct {
		expr string
		want time.Time
	}{
		{"now", now},
		{"now-6m", now.Add(-6 * time.Minute)},
		{"now-7d", now.AddDate(0, 0, -7)},
		{"now-12h", now.Add(-12 * time.Hour)},
		{"now-12H", now.Add(-12 * time.Hour)},
		{"now+1s", now.Add(time.Second)},
		{"now-500ms", now.Add(-500 * time.Millisecond)},
		{"now-2w", now.AddDate(0, 0, -14)},
		{"now-d", now.AddDate(0, 0, -1)},
		{"now/d", time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"now-1d/d", time.Date(2024, 1, 30, 0, 0, 0, 0, time.UTC)},
		{"now/h", time.Date(2024, 1, 31, 14, 0, 0, 0, time.UTC)},
		{"now/m", time.Date(2024, 1, 31, 14, 37, 0, 0, time.UTC)},
		{"now/s", time.Date(2024, 1, 31, 14, 37, 12, 0, time.UTC)},
		{"now/w", time.Date(2024, 1, 28, 0, 0, 0, 0, time.UTC)}, // Sunday, moment's "en" week
		{"now/M", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"now/y", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"now+1M", time.Date(2024, 2, 29, 14, 37, 12, 345e6, time.UTC)}, // clamped like moment
		{"now-1y", time.Date(2023, 1, 31, 14, 37, 12, 345e6, time.UTC)},
		{"now-1d/d+6h", time.Date(2024, 1, 30, 6, 0, 0, 0, time.UTC)},
		{"2024-01-01", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"2024-01-01T10:00:00Z||+1h", time.Date(2024, 1, 1, 11, 0, 0, 0, time.UTC)},
		{"2024-01-01T10:00:00+02:00||/d", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			d, err := ParseDateMath(tc.expr)
			require.NoError(t, err)
			require.Equal(t, tc.want, d.At(now))
			require.Equal(t, tc.expr, d.String())
		})
	}
}

func TestDateMathAtIsUTC(t *testing.T) {
	d, err := ParseDateMath("now/d")
	require.NoError(t, err)
	local := time.Date(2024, 1, 31, 1, 0, 0, 0, time.FixedZone("X", 5*3600)) // 2024-01-30T20:00Z
	require.Equal(t, time.Date(2024, 1, 30, 0, 0, 0, 0, time.UTC), d.At(local))
}

func TestDateMathErrors(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"", "empty expression"},
		{"now-", "missing or unknown unit"},
		{"now-7", "missing or unknown unit"},
		{"now-7x", "missing or unknown unit"},
		{"now*2d", "want +, - or /"},
		{"now - 7d", "want +, - or /"},
		{"yesterday", "neither \"now\" nor an ISO 8601 date"},
		{"2024-13-01", "neither"},
		{"now-99999999999999999999d", "amount"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := ParseDateMath(tc.expr)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestParseInterval(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{in: "30s", want: 30 * time.Second},
		{in: "5m", want: 5 * time.Minute},
		{in: "1h", want: time.Hour},
		{in: "1d", want: 24 * time.Hour},
		{in: "60m", want: time.Hour},
		{in: "", err: "want a whole number"},
		{in: "m", err: "want a whole number"},
		{in: "5", err: "want a whole number"},
		{in: "5w", err: `unit "w"`},
		{in: "1.5h", err: "want a whole number"},
		{in: "-5m", err: "want a whole number"},
		{in: "0s", err: "greater than zero"},
		{in: "99999999999999d", err: "out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseInterval(tc.in)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestAlignSlot(t *testing.T) {
	at := time.Date(2026, 11, 26, 17, 7, 31, 0, time.UTC)
	require.Equal(t, time.Date(2026, 11, 26, 17, 5, 0, 0, time.UTC), AlignSlot(at, 5*time.Minute))
	require.Equal(t, time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC), AlignSlot(at, time.Hour))
	// Alignment counts from the Unix epoch: 7m slots are not minute-of-hour multiples.
	got := AlignSlot(at, 7*time.Minute)
	require.Zero(t, got.Unix()%(7*60))
	require.False(t, got.After(at))
	require.True(t, at.Sub(got) < 7*time.Minute)
}
