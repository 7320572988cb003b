package backfill_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/backfill"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/internal/estest"
	"github.com/esrule/esrule/internal/randdata"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/state"
)

// searchFor loads a dataset into a search fake.
func searchFor(t *testing.T, d randdata.Dataset) *estest.SearchFake {
	t.Helper()
	f := estest.NewSearchFake(estest.MappingOf(randdata.IndexBody(1)))
	for _, e := range d.Events {
		require.NoError(t, f.Add(estest.Doc{Index: e.Index, ID: e.ID, Source: e.Source}))
	}
	return f
}

// ruleOf is the dataset's rule under saved-object id soID.
func ruleOf(t *testing.T, d randdata.Dataset, soID string) *rule.Rule {
	t.Helper()
	r := &rule.Rule{
		ID: soID, RuleID: soID, Name: "randdata " + soID, Description: d.Describe(), Type: rule.TypeNewTerms, Language: "kuery",
		Query: d.Rule.Query, Index: []string{d.Pattern}, NewTermsFields: d.Rule.Fields,
		HistoryWindowStart: d.Rule.HistoryDateMath(), From: d.Rule.FromDateMath(), To: "now",
		Interval: d.Rule.IntervalString(), MaxSignals: d.Rule.MaxSignals,
		TimestampOverride: d.Rule.TimestampOverride(), TimestampOverrideFallbackDisabled: d.Rule.FallbackDisabled(),
		Severity: "low", RiskScore: 21, Enabled: true,
	}
	require.Empty(t, r.Validate())
	require.NoError(t, r.Normalize())
	return r
}

// memAlerts is an alert store in memory: id → execution uuid, and the
// alert documents in creation order.
type memAlerts struct {
	mu      sync.Mutex
	byID    map[string]string
	created []alerts.Alert
}

func newMemAlerts() *memAlerts { return &memAlerts{byID: map[string]string{}} }

func (m *memAlerts) Existing(_ context.Context, ids []string) (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for _, id := range ids {
		if u, ok := m.byID[id]; ok {
			out[id] = u
		}
	}
	return out, nil
}

func (m *memAlerts) Create(_ context.Context, as []alerts.Alert) (alerts.WriteResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var wr alerts.WriteResult
	for _, a := range as {
		if _, ok := m.byID[a.ID]; ok {
			wr.Duplicate++
			continue
		}
		u, _ := a.Doc["kibana.alert.rule.execution.uuid"].(string)
		m.byID[a.ID] = u
		m.created = append(m.created, a)
		wr.Created++
		wr.CreatedIDs = append(wr.CreatedIDs, a.ID)
	}
	return wr, nil
}

func (m *memAlerts) snapshot() map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.byID)
}

// env is one backfill setup over a search fake: its own alert store and
// checkpoint index (a state.Store over the fake transport).
type env struct {
	search *estest.SearchFake
	alerts *memAlerts
	docs   *estest.Documents
	deps   backfill.Deps
}

func newEnv(t *testing.T, f *estest.SearchFake) *env {
	t.Helper()
	tr := estest.NewTransport()
	docs := tr.ServeDocuments()
	store := newMemAlerts()
	ex := &detect.Executor{Searcher: f, Alerts: store, FieldCaps: f.FieldCaps, Config: detect.Config{SkipCoverage: true}}
	return &env{search: f, alerts: store, docs: docs, deps: backfill.Deps{
		Searcher: f, Alerts: store, Executor: ex,
		Checkpoints: state.NewStore(tr.Client(t), "esrule-state"),
	}}
}

// rangeOf is the backfill range whose slots are the dataset's slots.
func rangeOf(d randdata.Dataset) (time.Time, time.Time) {
	return d.Slots[0].Add(-d.Rule.Interval), d.Slots[len(d.Slots)-1]
}

// oracleDiff checks got (alert id → execution uuid) against the brute-force
// oracle's slot-by-slot alerts: each expected alert written once (any of a
// tie's documents), by its slot's execution, nothing else.
func oracleDiff(t *testing.T, d randdata.Dataset, soID string, got map[string]string) string {
	t.Helper()
	want, err := d.Oracle(rule.DefaultSpace, soID, alerts.ID)
	require.NoError(t, err)
	var diff []string
	seen := map[string]bool{}
	total := 0
	for i, s := range want {
		uuid := alerts.ExecutionUUID(rule.DefaultSpace, soID, s.Slot)
		for _, a := range s.Created {
			total++
			hit := ""
			for _, c := range a.Choices() {
				if _, ok := got[c.AlertID]; ok {
					hit = c.AlertID
				}
			}
			switch {
			case hit == "":
				diff = append(diff, fmt.Sprintf("missing alert of slot %d terms %v doc %s/%s", i, a.NewTerms, a.Source.Index, a.Source.ID))
			case got[hit] != uuid:
				diff = append(diff, fmt.Sprintf("%s written by execution %s, want slot %d", hit, got[hit], i))
			}
			seen[hit] = true
		}
	}
	for id := range got {
		if !seen[id] {
			diff = append(diff, "unexpected alert "+id)
		}
	}
	if len(got) != total {
		diff = append(diff, fmt.Sprintf("%d alerts, oracle %d", len(got), total))
	}
	sort.Strings(diff)
	return strings.Join(diff, "\n")
}

// TestFastEqualsReplay backfills seeded random datasets (one to three
// new-terms fields, multi-valued fields, the three timestamp modes, small
// max_signals) with the fast path in several shapes and with the replay,
// and requires the same alert ids written by the same executions, equal to
// the brute-force oracle's.
func TestFastEqualsReplay(t *testing.T) {
	shapes := []struct {
		name string
		opts backfill.Options
	}{
		{"fast", backfill.Options{}},
		{"one worker, small pages", backfill.Options{ScanWorkers: 1, PageSize: 5, FetchBatch: 2}},
		{"partitions, narrow width", backfill.Options{ScanWorkers: 3, PageSize: 7, FetchBatch: 3, Width: time.Minute}},
	}
	// Seeded configurations (fields, timestamp mode and max_signals drawn
	// from the seed), then the field types and modes the seeds may miss: a
	// boolean or ip field alone, numbers with booleans, three fields with
	// the override and its fallback, max_signals of 1.
	var configs []randdata.Config
	for seed := uint64(1); seed <= 12; seed++ {
		cfg := randdata.Config{Seed: seed}
		if seed%6 == 0 {
			cfg.MaxSignals = 2
		}
		configs = append(configs, cfg)
	}
	configs = append(configs,
		randdata.Config{Seed: 201, Fields: []string{randdata.FieldSuccess}},
		randdata.Config{Seed: 202, Fields: []string{randdata.FieldSourceIP}, Mode: randdata.ModeOverrideFallback},
		randdata.Config{Seed: 203, Fields: []string{randdata.FieldUserID, randdata.FieldSuccess}},
		randdata.Config{Seed: 205, Fields: []string{randdata.FieldSourceIP, randdata.FieldHostName, randdata.FieldUserID}, Mode: randdata.ModeOverrideFallback, MaxSignals: 3},
		randdata.Config{Seed: 207, Fields: []string{randdata.FieldUserName}, Mode: randdata.ModeOverrideNoFallback},
		randdata.Config{Seed: 209, Fields: []string{randdata.FieldUserName}, MaxSignals: 1},
	)
	var truncated, replayed, multiField, threeFields, multiValued int
	for _, cfg := range configs {
		seed := cfg.Seed
		cfg.Slots, cfg.Docs, cfg.IndexPrefix = 12, 250, fmt.Sprintf("bf%d", seed)
		d := randdata.Generate(cfg)
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			f := searchFor(t, d)
			from, to := rangeOf(d)
			ctx := context.Background()
			soID := fmt.Sprintf("rule-%d", seed)
			r := ruleOf(t, d, soID)

			replay := newEnv(t, f)
			rs, err := backfill.Run(ctx, replay.deps, r, backfill.Options{From: from, To: to, Replay: true})
			require.NoError(t, err, d.Describe())
			want := replay.alerts.snapshot()
			require.Equal(t, len(d.Slots), rs.ReplayedSlots)
			if diff := oracleDiff(t, d, soID, want); diff != "" {
				t.Fatalf("replay differs from the oracle (%s):\n%s", d.Describe(), diff)
			}
			truncated += rs.AlertsTruncated
			for _, a := range replay.alerts.created {
				for _, f := range d.Rule.Fields {
					if len(randdata.Lookup(a.Doc, f)) > 1 {
						multiValued++
					}
				}
			}
			if len(d.Rule.Fields) > 1 {
				multiField++
			}
			if len(d.Rule.Fields) == 3 {
				threeFields++
			}

			for _, sh := range shapes {
				o := sh.opts
				o.From, o.To = from, to
				if o.Width > 0 && o.Width > d.Rule.History-d.Rule.Lookback {
					o.Width = d.Rule.History - d.Rule.Lookback
				}
				fast := newEnv(t, f)
				s, err := backfill.Run(ctx, fast.deps, r, o)
				require.NoError(t, err, "%s: %s", sh.name, d.Describe())
				require.Equal(t, want, fast.alerts.snapshot(), "%s: fast path and replay differ (%s, summary %+v)", sh.name, d.Describe(), s)
				require.Equal(t, rs.AlertsTruncated, s.AlertsTruncated, sh.name)
				replayed += s.ReplayedSlots
				again, err := backfill.Run(ctx, fast.deps, r, o)
				require.NoError(t, err)
				require.True(t, again.AlreadyDone, "%s: second run of a done range", sh.name)
			}
		})
	}
	require.NotZero(t, truncated, "some slot must be cut by max_signals")
	require.NotZero(t, replayed, "the fast path must execute some slot exactly")
	require.NotZero(t, multiField)
	require.NotZero(t, multiValued, "some alert must come from a multi-valued new-terms field")
	require.NotZero(t, threeFields)
}

// TestFastResumesFromCheckpoint stops a fast backfill after a few slots and
// runs it again: the second run resumes from the checkpoint written through
// the state store and ends with the alerts of an uninterrupted run.
func TestFastResumesFromCheckpoint(t *testing.T) {
	d := randdata.Generate(randdata.Config{Seed: 7, Slots: 12, Docs: 250, MaxSignals: 3, IndexPrefix: "resume"})
	f := searchFor(t, d)
	from, to := rangeOf(d)
	ctx := context.Background()
	r := ruleOf(t, d, "resume")

	whole := newEnv(t, f)
	_, err := backfill.Run(ctx, whole.deps, r, backfill.Options{From: from, To: to, Replay: true})
	require.NoError(t, err)

	e := newEnv(t, f)
	stop := errors.New("stop here")
	o := backfill.Options{From: from, To: to, FetchBatch: 2, PageSize: 9}
	o.Done = func(through time.Time, _ int) error {
		if through.After(d.Slots[4]) {
			return stop
		}
		return nil
	}
	_, err = backfill.Run(ctx, e.deps, r, o)
	require.ErrorIs(t, err, stop)
	var ck state.Backfill
	id := state.BackfillDocID(rule.DefaultSpace, r.SavedObjectID(), from, to)
	require.NoError(t, json.Unmarshal(e.docs.Source("esrule-state", id), &ck))
	require.True(t, ck.Backfill.DoneUntil.After(d.Slots[4]), "checkpoint %v", ck.Backfill.DoneUntil)
	require.True(t, ck.Backfill.DoneUntil.Before(to))

	o.Done = nil
	s, err := backfill.Run(ctx, e.deps, r, o)
	require.NoError(t, err)
	require.Positive(t, s.SkippedSlots)
	require.Equal(t, whole.alerts.snapshot(), e.alerts.snapshot())

	// A concurrent backfill of the same range loses on the checkpoint.
	o.Force = true
	other := newEnv(t, f)
	other.deps.Checkpoints = e.deps.Checkpoints
	var first bool
	other.deps.Checkpoints = racingCheckpoints{Checkpoints: e.deps.Checkpoints, once: &first, docs: e.docs, id: id}
	_, err = backfill.Run(ctx, other.deps, r, o)
	require.ErrorIs(t, err, state.ErrConflict)
}

// racingCheckpoints lets another writer update the checkpoint between this
// run's read and its first write.
type racingCheckpoints struct {
	backfill.Checkpoints
	once *bool
	docs *estest.Documents
	id   string
}

func (r racingCheckpoints) Put(ctx context.Context, id string, doc any, v state.Version) (state.Version, error) {
	if !*r.once {
		*r.once = true
		r.docs.Put("esrule-state", r.id, map[string]any{"kind": "backfill"})
	}
	return r.Checkpoints.Put(ctx, id, doc, v)
}

// TestDryRunWritesNothing: a dry run passes the alerts of a real run to
// OnAlerts and writes neither alerts nor a checkpoint.
func TestDryRunWritesNothing(t *testing.T) {
	d := randdata.Generate(randdata.Config{Seed: 11, Slots: 8, Docs: 200, MaxSignals: 2, IndexPrefix: "dry"})
	f := searchFor(t, d)
	from, to := rangeOf(d)
	r := ruleOf(t, d, "dry")
	real := newEnv(t, f)
	_, err := backfill.Run(context.Background(), real.deps, r, backfill.Options{From: from, To: to})
	require.NoError(t, err)

	e := newEnv(t, f)
	var ids []string
	_, err = backfill.Run(context.Background(), e.deps, r, backfill.Options{From: from, To: to, DryRun: true,
		OnAlerts: func(as []alerts.Alert) error {
			for _, a := range as {
				ids = append(ids, a.ID)
			}
			return nil
		}})
	require.NoError(t, err)
	require.Empty(t, e.alerts.snapshot())
	require.ElementsMatch(t, slices.Collect(maps.Keys(real.alerts.snapshot())), ids)
	require.Nil(t, e.docs.Source("esrule-state", state.BackfillDocID(rule.DefaultSpace, r.SavedObjectID(), from, to)))
}
