package detect

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/esquery"
	"github.com/esrule/esrule/internal/estest"
	"github.com/esrule/esrule/rule"
)

var (
	testSlot = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	testFrom = testSlot.Add(-6 * time.Minute)
)

func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func testRule(fields ...string) *rule.Rule {
	r := &rule.Rule{
		ID: "so-1", RuleID: "rule-1", Name: "test rule", Type: "new_terms", Language: "kuery",
		Index: []string{"logs-test"}, NewTermsFields: fields, HistoryWindowStart: "now-7d",
		From: "now-6m", Interval: "5m", MaxSignals: 100, Severity: "low", RiskScore: 21,
	}
	if err := r.Normalize(); err != nil {
		panic(err)
	}
	return r
}

// testIndex is the concrete index behind the rules' "logs-test".
const testIndex = "logs-test-000001"

// doc is a document of testIndex with flat dotted fields.
func doc(id string, fields map[string]any) estest.Doc {
	return estest.Doc{Index: testIndex, ID: id, Source: fields}
}

// newES returns a search fake over docs (fields typed by dynamic mapping),
// with the alias logs-test over testIndex.
func newES(t *testing.T, docs ...estest.Doc) *estest.SearchFake {
	t.Helper()
	es := estest.NewSearchFake(nil)
	es.AddAlias("logs-test", testIndex)
	require.NoError(t, es.Add(docs...))
	return es
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func arr(v any) []any          { a, _ := v.([]any); return a }

// alertID is the id the executor must give the alert of (doc, terms).
func alertID(d estest.Doc, terms ...any) string {
	return alerts.ID(d.Index, d.ID, "default", "so-1", terms)
}

func run(t *testing.T, es *estest.SearchFake, store *fakeStore, r *rule.Rule, cfg Config) (Result, error) {
	t.Helper()
	ex := &Executor{Searcher: es, Config: cfg}
	if store != nil {
		ex.Alerts = store
	}
	return ex.Run(context.Background(), r, testSlot, RunOptions{DryRun: store == nil})
}

func alertIDs(res Result) []string {
	var ids []string
	for _, a := range res.Alerts {
		ids = append(ids, a.ID)
	}
	return ids
}

func TestSingleFieldStrictFirstSeen(t *testing.T) {
	atFrom := doc("at-from", map[string]any{"@timestamp": iso(testFrom), "user": "edge"})
	justAfter := doc("just-after", map[string]any{"@timestamp": iso(testFrom.Add(time.Millisecond)), "user": "fresh"})
	old := doc("old", map[string]any{"@timestamp": iso(testSlot.Add(-24 * time.Hour)), "user": "known"})
	recentKnown := doc("recent-known", map[string]any{"@timestamp": iso(testSlot.Add(-time.Minute)), "user": "known"})
	atTo := doc("at-to", map[string]any{"@timestamp": iso(testSlot), "user": "last"})
	afterTo := doc("after-to", map[string]any{"@timestamp": iso(testSlot.Add(time.Millisecond)), "user": "future"})
	noField := doc("no-field", map[string]any{"@timestamp": iso(testSlot.Add(-time.Minute))})
	es := newES(t, []estest.Doc{atFrom, justAfter, old, recentKnown, atTo, afterTo, noField}...)

	res, err := run(t, es, nil, testRule("user"), Config{})
	require.NoError(t, err)
	require.Equal(t, 4, res.TermsChecked, "edge, fresh, known, last")
	require.Equal(t, 2, res.NewTerms)
	require.ElementsMatch(t, []string{alertID(justAfter, "fresh"), alertID(atTo, "last")}, alertIDs(res))
	require.Equal(t, 2, res.AlertsCreated)
	require.Empty(t, res.Warnings)
}

func TestSingleFieldTimestampOverrideFallback(t *testing.T) {
	r := testRule("user")
	r.TimestampOverride = "event.ingested"
	require.NoError(t, r.Normalize())
	// "late" happened long ago but was ingested now: new by event.ingested.
	late := doc("late", map[string]any{"@timestamp": iso(testSlot.Add(-48 * time.Hour)), "event.ingested": iso(testSlot.Add(-time.Minute)), "user": "late"})
	// "fallback-old" has no event.ingested in history: its @timestamp counts (not new).
	fallbackOld := doc("fallback-old", map[string]any{"@timestamp": iso(testSlot.Add(-48 * time.Hour)), "user": "mixed"})
	mixedRecent := doc("mixed-recent", map[string]any{"@timestamp": iso(testSlot.Add(-2 * time.Minute)), "event.ingested": iso(testSlot.Add(-time.Minute)), "user": "mixed"})
	// Only @timestamp, in the window: new through the fallback.
	fallbackNew := doc("fallback-new", map[string]any{"@timestamp": iso(testSlot.Add(-3 * time.Minute)), "user": "fb"})
	// The oldest document of "fb" in the window is the one with event.ingested earlier than fallback-new's @timestamp.
	fbIngested := doc("fb-ingested", map[string]any{"@timestamp": iso(testSlot.Add(-time.Minute)), "event.ingested": iso(testSlot.Add(-4 * time.Minute)), "user": "fb"})
	es := newES(t, []estest.Doc{late, fallbackOld, mixedRecent, fallbackNew, fbIngested}...)

	res, err := run(t, es, nil, testRule("user"), Config{})
	require.NoError(t, err)
	require.Equal(t, []string{alertID(fallbackNew, "fb")}, alertIDs(res), "by @timestamp only fb is new")

	res, err = run(t, es, nil, r, Config{})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{alertID(late, "late"), alertID(fbIngested, "fb")}, alertIDs(res))

	r.TimestampOverrideFallbackDisabled = true
	require.NoError(t, r.Normalize())
	res, err = run(t, es, nil, r, Config{})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{alertID(late, "late"), alertID(fbIngested, "fb"), alertID(mixedRecent, "mixed")}, alertIDs(res),
		"without fallback, documents lacking event.ingested are invisible")
}

func TestSingleFieldTypedValues(t *testing.T) {
	docs := []estest.Doc{
		doc("1", map[string]any{"@timestamp": iso(testSlot.Add(-time.Minute)), "port": float64(443), "flag": true}),
		doc("2", map[string]any{"@timestamp": iso(testSlot.Add(-2 * time.Minute)), "port": []any{float64(22), float64(443)}, "flag": false}),
	}
	res, err := run(t, newES(t, docs...), nil, testRule("port"), Config{})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{alertID(docs[1], float64(22)), alertID(docs[1], float64(443))}, alertIDs(res))
	for _, a := range res.Alerts {
		require.IsType(t, float64(0), a.Doc["kibana.alert.new_terms"].([]any)[0])
	}

	res, err = run(t, newES(t, docs...), nil, testRule("flag"), Config{})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{alertID(docs[0], true), alertID(docs[1], false)}, alertIDs(res), "booleans stay booleans")
}

func TestMultiFieldCrowdingByHistoryArrays(t *testing.T) {
	// Recent combinations (a, x1) .. (a, x4); history documents with large
	// arrays add many combinations (a, h..) that sort between them. With a
	// batch of 4 and history pages of 2, a single history page per batch would
	// leave most batch combinations undecided (docs/semantics.md D4).
	var docs []estest.Doc
	for i := 1; i <= 4; i++ {
		docs = append(docs, doc(fmt.Sprintf("recent-%d", i), map[string]any{
			"@timestamp": iso(testSlot.Add(-time.Duration(i) * time.Minute)), "host": "a", "user": fmt.Sprintf("x%d", i),
		}))
	}
	// x2 and x4 were seen before; their history documents also hold many other users.
	hist := []any{"x2", "x4"}
	for i := 0; i < 30; i++ {
		hist = append(hist, fmt.Sprintf("x1%02d", i), fmt.Sprintf("x3%02d", i))
	}
	docs = append(docs, doc("history", map[string]any{"@timestamp": iso(testSlot.Add(-72 * time.Hour)), "host": "a", "user": hist}))
	es := newES(t, docs...)

	res, err := run(t, es, nil, testRule("host", "user"), Config{BatchSize: 4, HistoryPageSize: 2})
	require.NoError(t, err)
	require.Equal(t, []string{alertID(docs[0], "a", "x1"), alertID(docs[2], "a", "x3")}, alertIDs(res), "in composite key order")
	require.Empty(t, res.Warnings)
	require.Equal(t, 2, res.NewTerms)
}

func TestMultiFieldCartesianAndMissing(t *testing.T) {
	// Kibana's test: ips [.1, .2] × tags [new-1, 2, new-3] against history
	// {(.1, 1), (.1, 2)} gives 5 alerts; a document missing a field never alerts.
	d := doc("d", map[string]any{"@timestamp": iso(testSlot.Add(-time.Minute)),
		"source.ip": []any{"192.168.1.1", "192.168.1.2"}, "tags": []any{"tag-new-1", "tag-2", "tag-new-3"}})
	h := doc("h", map[string]any{"@timestamp": iso(testSlot.Add(-time.Hour)),
		"source.ip": "192.168.1.1", "tags": []any{"tag-1", "tag-2"}})
	missing := doc("m", map[string]any{"@timestamp": iso(testSlot.Add(-time.Minute)), "source.ip": "10.0.0.9"})
	res, err := run(t, newES(t, []estest.Doc{d, h, missing}...), nil, testRule("source.ip", "tags"), Config{})
	require.NoError(t, err)
	require.Equal(t, []string{
		alertID(d, "192.168.1.1", "tag-new-1"), alertID(d, "192.168.1.1", "tag-new-3"),
		alertID(d, "192.168.1.2", "tag-2"), alertID(d, "192.168.1.2", "tag-new-1"), alertID(d, "192.168.1.2", "tag-new-3"),
	}, alertIDs(res))
}

func TestHalvingOnTooLargeResponses(t *testing.T) {
	var docs []estest.Doc
	for i := 0; i < 9; i++ {
		docs = append(docs, doc(fmt.Sprintf("d%d", i), map[string]any{
			"@timestamp": iso(testSlot.Add(-time.Duration(i+1) * time.Second)), "user": fmt.Sprintf("u%d", i), "host": "h",
		}))
	}
	tooLarge := func(limit int) func(int, map[string]any) (esquery.Response, bool, error) {
		return func(_ int, body map[string]any) (esquery.Response, bool, error) {
			agg := obj(obj(body["aggregations"])["new_terms"])
			n := len(arr(obj(agg["terms"])["include"]))
			n = max(n, len(arr(obj(agg["filters"])["filters"])))
			if n > limit {
				return esquery.Response{}, true, fmt.Errorf("phase: %w", esquery.ErrTooLarge)
			}
			return esquery.Response{}, false, nil
		}
	}
	t.Run("single field", func(t *testing.T) {
		es := withHook(newES(t, docs...), tooLarge(2))
		res, err := run(t, es, nil, testRule("user"), Config{})
		require.NoError(t, err)
		require.Len(t, res.Alerts, 9)
		require.NotEmpty(t, res.Warnings)
	})
	t.Run("multi field", func(t *testing.T) {
		es := withHook(newES(t, docs...), tooLarge(3))
		res, err := run(t, es, nil, testRule("host", "user"), Config{})
		require.NoError(t, err)
		require.Len(t, res.Alerts, 9)
	})
	t.Run("phase 1 page", func(t *testing.T) {
		es := withHook(newES(t, docs...), func(_ int, body map[string]any) (esquery.Response, bool, error) {
			c := obj(obj(obj(body["aggregations"])["new_terms"])["composite"])
			n, ok := c["size"].(json.Number)
			if size, _ := n.Int64(); ok && size > 2 {
				return esquery.Response{}, true, esquery.ErrTooLarge
			}
			return esquery.Response{}, false, nil
		})
		res, err := run(t, es, nil, testRule("user"), Config{PageSize: 8})
		require.NoError(t, err)
		require.Len(t, res.Alerts, 9)
		require.Contains(t, res.Warnings, "phase 1 (recent terms): response too large, page size reduced to 2")
	})
	t.Run("fails at batch size one", func(t *testing.T) {
		es := withHook(newES(t, docs...), tooLarge(0))
		_, err := run(t, es, nil, testRule("user"), Config{})
		require.ErrorIs(t, err, esquery.ErrTooLarge)
		require.ErrorContains(t, err, "phase 2 (history)")
	})
}

func TestTooManyClausesHalvesAtMostTwice(t *testing.T) {
	var docs []estest.Doc
	for i := 0; i < 8; i++ {
		docs = append(docs, doc(fmt.Sprintf("d%d", i), map[string]any{
			"@timestamp": iso(testSlot.Add(-time.Duration(i+1) * time.Second)), "user": fmt.Sprintf("u%d", i), "host": "h",
		}))
	}
	clauses := func(limit int) func(int, map[string]any) (esquery.Response, bool, error) {
		return func(_ int, body map[string]any) (esquery.Response, bool, error) {
			filters := arr(obj(obj(body["query"])["bool"])["filter"])
			if len(filters) < 3 {
				return esquery.Response{}, false, nil
			}
			if n := len(arr(obj(obj(filters[2])["bool"])["should"])); n > limit {
				return esquery.Response{}, true, &esclient.Error{Status: 400, Type: "search_phase_execution_exception",
					Reason: "all shards failed", Shards: []esclient.ShardFailure{{Index: "logs-test-000001", Type: "query_shard_exception", Reason: "failed to create query: Query contains too many nested clauses; maxClauseCount is set to 2"}}}
			}
			return esquery.Response{}, false, nil
		}
	}
	res, err := run(t, withHook(newES(t, docs...), clauses(2)), nil, testRule("host", "user"), Config{BatchSize: 8})
	require.NoError(t, err, "8 -> 4 -> 2")
	require.Len(t, res.Alerts, 8)

	_, err = run(t, withHook(newES(t, docs...), clauses(1)), nil, testRule("host", "user"), Config{BatchSize: 8})
	require.ErrorContains(t, err, "too many nested clauses")
	require.ErrorContains(t, err, "logs-test-000001")
}

func TestFailClosed(t *testing.T) {
	docs := []estest.Doc{
		doc("1", map[string]any{"@timestamp": iso(testSlot.Add(-time.Minute)), "user": "u1", "host": "h"}),
	}
	shardFailure := &esclient.Error{Type: "shard_failure", Reason: "1 of 2 shards failed",
		Shards: []esclient.ShardFailure{{Index: "logs-test-000002", Shard: 1, Type: "query_shard_exception", Reason: "boom"}}}
	failAt := func(phase string, resp esquery.Response, err error) func(int, map[string]any) (esquery.Response, bool, error) {
		return func(_ int, body map[string]any) (esquery.Response, bool, error) {
			agg := obj(obj(body["aggregations"])["new_terms"])
			var this string
			switch {
			case agg == nil:
				this = "coverage"
			case agg["composite"] != nil && obj(agg["aggs"]) == nil:
				this = "recent"
			case obj(agg["aggs"])["first_seen"] != nil:
				this = "history"
			default:
				this = "fetch"
			}
			if this != phase {
				return esquery.Response{}, false, nil
			}
			return resp, true, err
		}
	}
	cases := []struct {
		name, phase string
		resp        esquery.Response
		err         error
		want        string
	}{
		{"shard failure in history", "history", esquery.Response{}, shardFailure, "phase 2 (history): elasticsearch: shard_failure: 1 of 2 shards failed; 1 shard failure(s): [index logs-test-000002 shard 1] query_shard_exception: boom"},
		{"timed out in recent terms", "recent", esquery.Response{}, esclient.ErrTimedOut, "phase 1 (recent terms): search timed out"},
		{"missing aggregations in history", "history", esquery.Response{Took: 1, Shards: 2}, nil, "phase 2 (history): aggregations missing"},
		{"missing aggregations in fetch", "fetch", esquery.Response{Took: 1, Shards: 2}, nil, "phase 3 (document fetch): aggregations missing"},
		{"coverage failure", "coverage", esquery.Response{}, shardFailure, "coverage check"},
	}
	for _, fields := range [][]string{{"user"}, {"host", "user"}} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s %v", tc.name, fields), func(t *testing.T) {
				store := newFakeStore()
				_, err := run(t, withHook(newES(t, docs...), failAt(tc.phase, tc.resp, tc.err)), store, testRule(fields...), Config{})
				require.ErrorContains(t, err, tc.want)
				require.Empty(t, store.created, "no alerts from partial data")
			})
		}
	}
}

func TestNoIndexMatches(t *testing.T) {
	es := estest.NewSearchFake(nil) // no index at all: zero shards, no aggregations
	res, err := run(t, es, newFakeStore(), testRule("user"), Config{})
	require.NoError(t, err)
	require.Equal(t, []string{"no index matches [logs-test]"}, res.Warnings)
	require.Equal(t, 2, res.Requests, "coverage and one recent-terms page")
}

func TestCoverageWarning(t *testing.T) {
	docs := []estest.Doc{
		doc("1", map[string]any{"@timestamp": iso(testSlot.Add(-time.Hour)), "okta.actor.id": "a"}),
		doc("2", map[string]any{"@timestamp": iso(testSlot.Add(-time.Hour)), "okta.actor.id": "b"}),
		doc("3", map[string]any{"@timestamp": iso(testSlot.Add(-time.Hour)), "okta.actor.id": "c", "cloud.account.id": "x"}),
	}
	res, err := run(t, newES(t, docs...), nil, testRule("okta.actor.id", "cloud.account.id"), Config{})
	require.NoError(t, err)
	require.Equal(t, &Coverage{Total: 3, AllFields: 1, Fields: []FieldCoverage{{"okta.actor.id", 3}, {"cloud.account.id", 1}}}, res.Coverage)
	require.Equal(t, []string{`new-terms field "cloud.account.id" is missing from 2 of 3 documents matching the rule in the history window; only documents that have it can alert`}, res.Warnings)

	c, err := CheckCoverage(context.Background(), newES(t, docs...), testRule("okta.actor.id"), Window{Slot: testSlot, From: testFrom, To: testSlot, HistoryStart: testSlot.AddDate(0, 0, -7)}, nil)
	require.NoError(t, err)
	require.Empty(t, c.Warnings())
}

// TestCoverageThreeFields checks the counts of documents holding each field
// and all fields (inclusion-exclusion over the missing aggregations) against
// a direct count, with every pattern of present and missing fields.
func TestCoverageThreeFields(t *testing.T) {
	fields := []string{"user", "host", "ip"}
	var docs []estest.Doc
	want := Coverage{Fields: []FieldCoverage{{"user", 0}, {"host", 0}, {"ip", 0}}}
	for i := 0; i < 40; i++ {
		pattern := (i * 5) % 8 // each of the 8 patterns, 5 times
		src := map[string]any{"@timestamp": iso(testSlot.Add(-time.Hour))}
		all := true
		for k, f := range fields {
			if pattern&(1<<k) != 0 {
				src[f] = fmt.Sprintf("v%d", i)
				want.Fields[k].Docs++
			} else {
				all = false
			}
		}
		if all {
			want.AllFields++
		}
		want.Total++
		docs = append(docs, doc(fmt.Sprintf("d%02d", i), src))
	}
	c, err := CheckCoverage(context.Background(), newES(t, docs...), testRule(fields...), Window{Slot: testSlot, From: testFrom, To: testSlot, HistoryStart: testSlot.AddDate(0, 0, -7)}, nil)
	require.NoError(t, err)
	require.Equal(t, want, c)
	require.EqualValues(t, 5, c.AllFields)
}

// manyNew returns n documents, each with its own new user, newest first.
func manyNew(n int) []estest.Doc {
	var docs []estest.Doc
	for i := 0; i < n; i++ {
		docs = append(docs, doc(fmt.Sprintf("d%02d", i), map[string]any{
			"@timestamp": iso(testSlot.Add(-time.Duration(i+1) * time.Second)), "user": fmt.Sprintf("u%02d", i),
		}))
	}
	return docs
}

func TestMaxSignals(t *testing.T) {
	r := testRule("user")
	r.MaxSignals = 3
	docs := manyNew(5)
	store := newFakeStore()
	res, err := run(t, newES(t, docs...), store, r, Config{})
	require.NoError(t, err)
	require.Equal(t, 3, res.AlertsCreated)
	require.Equal(t, 2, res.AlertsTruncated)
	require.Equal(t, []string{MaxSignalsWarning}, res.Warnings)
	require.Len(t, store.created, 3)

	t.Run("exactly max_signals new terms: no warning", func(t *testing.T) {
		res, err := run(t, newES(t, manyNew(3)...), newFakeStore(), r, Config{})
		require.NoError(t, err)
		require.Equal(t, 3, res.AlertsCreated)
		require.Empty(t, res.Warnings)
	})

	t.Run("a re-run of the slot yields the same alerts", func(t *testing.T) {
		again, err := run(t, newES(t, docs...), store, r, Config{})
		require.NoError(t, err)
		require.Equal(t, 0, again.AlertsCreated)
		require.Equal(t, 3, again.AlertsDuplicate)
		require.Equal(t, 2, again.AlertsTruncated)
		require.Equal(t, []string{MaxSignalsWarning}, again.Warnings)
		require.Len(t, store.created, 3)
	})

	t.Run("a re-run counts as created what this store wrote without an answer", func(t *testing.T) {
		store.unconfirmed = map[string]bool{store.created[0]: true, store.created[2]: true}
		again, err := run(t, newES(t, docs...), store, r, Config{})
		require.NoError(t, err)
		require.Equal(t, 2, again.AlertsCreated)
		require.Equal(t, 1, again.AlertsDuplicate)
		require.Equal(t, 2, again.AlertsTruncated, "they take their places under max_signals")
		require.Empty(t, store.unconfirmed)
		require.Len(t, store.created, 3)
	})

	t.Run("alerts of another execution are dropped before the cap", func(t *testing.T) {
		other := newFakeStore()
		for _, id := range store.created {
			other.alerts[id] = "another-execution"
		}
		next, err := run(t, newES(t, docs...), other, r, Config{})
		require.NoError(t, err)
		require.Equal(t, 2, next.AlertsCreated)
		require.Equal(t, 3, next.AlertsDuplicate)
		require.Empty(t, next.Warnings)
	})

	t.Run("page loop stops once truncated", func(t *testing.T) {
		es := newES(t, docs...)
		_, err := run(t, es, newFakeStore(), r, Config{PageSize: 2})
		require.NoError(t, err)
		// coverage, then pages of 2 terms: page 1 (3 requests) and page 2 (3
		// requests) which hits the cap; no third page.
		require.Len(t, es.Requests(), 7)
	})
}

func TestDryRunWritesNothing(t *testing.T) {
	store := newFakeStore()
	ex := &Executor{Searcher: newES(t, manyNew(2)...), Alerts: store}
	res, err := ex.Run(context.Background(), testRule("user"), testSlot, RunOptions{DryRun: true})
	require.NoError(t, err)
	require.Len(t, res.Alerts, 2)
	require.Equal(t, 2, res.AlertsCreated)
	require.Empty(t, store.created)
	require.True(t, res.DryRun)
	b, err := json.Marshal(res.Alerts[0].Doc)
	require.NoError(t, err)
	require.Contains(t, string(b), `"kibana.alert.new_terms":["u00"]`)
}

func TestCandidateOrderSingleField(t *testing.T) {
	// Phase-3 bucket order is doc_count desc, then key: "b" (2 docs) before "a" and "c".
	docs := []estest.Doc{
		doc("1", map[string]any{"@timestamp": iso(testSlot.Add(-1 * time.Minute)), "user": "c"}),
		doc("2", map[string]any{"@timestamp": iso(testSlot.Add(-2 * time.Minute)), "user": "b"}),
		doc("3", map[string]any{"@timestamp": iso(testSlot.Add(-3 * time.Minute)), "user": "b"}),
		doc("4", map[string]any{"@timestamp": iso(testSlot.Add(-4 * time.Minute)), "user": "a"}),
	}
	res, err := run(t, newES(t, docs...), nil, testRule("user"), Config{})
	require.NoError(t, err)
	require.Equal(t, []string{alertID(docs[2], "b"), alertID(docs[3], "a"), alertID(docs[0], "c")}, alertIDs(res))
}

func TestRequestsAndESTook(t *testing.T) {
	res, err := run(t, newES(t, manyNew(2)...), nil, testRule("user"), Config{})
	require.NoError(t, err)
	// coverage, page 1, history, fetch, empty page 2.
	require.Equal(t, 5, res.Requests)
	require.Equal(t, 5*time.Millisecond, res.ESTook, "the sum of took (1 ms per search in the fake)")
	require.True(t, slices.Equal([]string{"user"}, testRule("user").NewTermsFields))
}

func TestInfoLogLine(t *testing.T) {
	var buf strings.Builder
	ex := &Executor{Searcher: newES(t, manyNew(2)...), Logger: zerolog.New(&buf)}
	_, err := ex.Run(context.Background(), testRule("user"), testSlot, RunOptions{DryRun: true})
	require.NoError(t, err)
	var line map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(buf.String())), &line), "exactly one line")
	for _, k := range []string{"rule_id", "slot", "window_start", "window_end", "terms", "new_terms", "alerts_created", "alerts_duplicate", "event.duration", "es_took_ms"} {
		require.Contains(t, line, k)
	}
	require.Equal(t, "info", line["level"])
	require.Equal(t, float64(2), line["new_terms"])
}

// withHook sets es's hook.
func withHook(es *estest.SearchFake, hook func(int, map[string]any) (esquery.Response, bool, error)) *estest.SearchFake {
	es.Hook = hook
	return es
}
