package esquery

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/rule"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// golden compares got (a JSON body) with testdata/<name>/request.json, or
// rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var pretty bytes.Buffer
	require.NoError(t, json.Indent(&pretty, got, "", "  "))
	pretty.WriteByte('\n')
	path := filepath.Join("testdata", name, "request.json")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, pretty.Bytes(), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./esquery -update to create it")
	require.Equal(t, string(want), pretty.String())
}

var (
	testFrom    = time.Date(2024, 5, 1, 9, 54, 0, 0, time.UTC)
	testTo      = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	testHistory = time.Date(2024, 4, 24, 10, 0, 0, 0, time.UTC)
	testFilter  = map[string]any{"bool": map[string]any{
		"must": []any{}, "should": []any{}, "must_not": []any{},
		"filter": []any{map[string]any{"match": map[string]any{"event.dataset": "okta.system"}}},
	}}
)

func TestPhaseBodies(t *testing.T) {
	recent := TimeRange{From: testFrom, To: testTo}
	history := TimeRange{From: testHistory, To: testTo}
	plain := Query{Fields: []string{"okta.actor.id"}, Timestamps: rule.Timestamps{Primary: "@timestamp"}, Filter: testFilter}
	override := Query{
		Fields:     []string{"okta.actor.id"},
		Timestamps: rule.Timestamps{Primary: "event.ingested", Secondary: "@timestamp"},
		Filter:     testFilter,
	}
	pair := Query{
		Fields:     []string{"okta.actor.id", "cloud.account.id"},
		Timestamps: rule.Timestamps{Primary: "event.ingested", Secondary: "@timestamp"},
		Filter:     testFilter,
	}
	num := json.Number("443")
	keys := []Key{{"u1", "a1"}, {"u2", num}}
	cases := []struct {
		name  string
		build func() ([]byte, error)
	}{
		{"recent_first_page", func() ([]byte, error) { return plain.RecentTerms(recent, nil) }},
		{"recent_next_page", func() ([]byte, error) { return plain.RecentTerms(recent, Key{"u9"}) }},
		{"recent_pair_override", func() ([]byte, error) { return pair.RecentTerms(recent, Key{"u9", true}) }},
		{"new_terms_plain", func() ([]byte, error) { return plain.NewTerms(history, []any{"u1", num, true}) }},
		{"new_terms_override", func() ([]byte, error) { return override.NewTerms(history, []any{"u1", "u2"}) }},
		{"doc_fetch_plain", func() ([]byte, error) { return plain.DocFetch(recent, []any{"u1"}) }},
		{"doc_fetch_override", func() ([]byte, error) { return override.DocFetch(recent, []any{"u1"}) }},
		{"history_composite_pair", func() ([]byte, error) { return pair.HistoryComposite(history, keys, Key{"u0", "a0"}, 10000) }},
		{"doc_fetch_filters_pair", func() ([]byte, error) { return pair.DocFetchFilters(recent, keys) }},
		{"coverage_pair", func() ([]byte, error) { return pair.Coverage(history) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, err := tc.build()
			require.NoError(t, err)
			golden(t, tc.name, body)
		})
	}
}

func timestampsOf(override string, fallbackDisabled bool) rule.Timestamps {
	r := &rule.Rule{TimestampOverride: override, TimestampOverrideFallbackDisabled: fallbackDisabled, HistoryWindowStart: "now-7d"}
	if err := r.Normalize(); err != nil {
		panic(err)
	}
	return r.Timestamps
}

func TestTimestampsFor(t *testing.T) {
	require.Equal(t, rule.Timestamps{Primary: "@timestamp"}, timestampsOf("", false))
	require.Equal(t, rule.Timestamps{Primary: "event.ingested", Secondary: "@timestamp"}, timestampsOf("event.ingested", false))
	require.Equal(t, rule.Timestamps{Primary: "event.ingested"}, timestampsOf("event.ingested", true))
	require.Equal(t, rule.Timestamps{Primary: "@timestamp"}, timestampsOf("@timestamp", false))
}

func TestRangeFilterUsesISOMillis(t *testing.T) {
	q := Query{Timestamps: rule.Timestamps{Primary: "@timestamp"}}
	b, err := json.Marshal(q.RangeFilter(TimeRange{From: testFrom, To: testTo.Add(123 * time.Millisecond)}))
	require.NoError(t, err)
	require.JSONEq(t, `{"range":{"@timestamp":{"gte":"2024-05-01T09:54:00.000Z","lte":"2024-05-01T10:00:00.123Z","format":"strict_date_optional_time"}}}`, string(b))
}
