package timespec

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	now := time.Date(2026, 12, 4, 17, 42, 13, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2026-05-01T10:05:00Z":      time.Date(2026, 5, 1, 10, 5, 0, 0, time.UTC),
		"2026-05-01T12:05:00+02:00": time.Date(2026, 5, 1, 10, 5, 0, 0, time.UTC),
		"2026-05-01":                time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC),
		"now":                       now,
		"now-1h":                    now.Add(-time.Hour),
		"now/d":                     time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC),
		"now-1d/d":                  time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC),
		"2026-05-01||+1d":           time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC),
	} {
		got, err := Parse(in, now)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestParseErrorListsTheForms(t *testing.T) {
	for _, in := range []string{"", "yesterday", "now-1x", "2026-13-01", "05/01/2026"} {
		_, err := ParseFlag("from", in, time.Now())
		if err == nil {
			t.Fatalf("ParseFlag(%q) accepted", in)
		}
		if !strings.HasPrefix(err.Error(), "--from ") || !strings.Contains(err.Error(), Forms) {
			t.Errorf("ParseFlag(%q) error %q does not name the flag and list the forms", in, err)
		}
	}
}
