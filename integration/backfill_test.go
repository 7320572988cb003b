//go:build integration

package integration

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/backfill"
	"github.com/esrule/esrule/engine"
	"github.com/esrule/esrule/internal/oracle"
	"github.com/esrule/esrule/internal/randdata"
	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/state"
)

// backfillEnv is an executor environment plus a state index for checkpoints.
type backfillEnv struct {
	*execEnv
	store *state.Store
	index string
}

func newBackfillEnv(t *testing.T) *backfillEnv {
	t.Helper()
	env := newExecEnv(t)
	index := uniqueName(t, "esrule-state-bf")
	zero := 0
	require.NoError(t, mappings.Ensure(context.Background(), env.c, mappings.Options{Space: env.space, Replicas: &zero, StateIndex: index}))
	waitActive(t, env.c, env.alias, index)
	return &backfillEnv{execEnv: env, store: state.NewStore(env.c, index), index: index}
}

// engine is the engine of the environment, its checkpoints in e.index.
func (e *backfillEnv) engine(t *testing.T, cfg engine.Config) *engine.Engine {
	t.Helper()
	cfg.StateIndex, cfg.Refresh = e.index, "true"
	return newEngine(t, cfg)
}

// backfill runs a backfill of r with the environment's engine.
func (e *backfillEnv) backfill(t *testing.T, ctx context.Context, r *rule.Rule, o backfill.Options) (backfill.Summary, error) {
	t.Helper()
	return e.engine(t, engine.Config{}).Backfill(ctx, r, o)
}

// rangeOf is the backfill range whose slots are exactly the dataset's slots.
func rangeOf(t *testing.T, d randdata.Dataset) (time.Time, time.Time) {
	t.Helper()
	return d.Slots[0].Add(-d.Rule.Interval), d.Slots[len(d.Slots)-1]
}

// compareBackfill checks the alerts written for soID against the oracle's
// slot-by-slot result: same _ids (a tie may pick any tied document), each
// written with the execution uuid of the slot that created it, same source
// document and new terms, nothing missing, nothing extra.
func compareBackfill(want []oracle.SlotResult, got []written, space, soID string) string {
	type expected struct {
		slot  int
		alert oracle.Alert
	}
	byID := map[string]expected{}
	total := 0
	for i, s := range want {
		for _, a := range s.Created {
			total++
			for _, c := range a.Choices() {
				byID[c.AlertID] = expected{i, a}
			}
		}
	}
	var diff []string
	matched := map[string]bool{}
	for _, w := range got {
		e, ok := byID[w.ID]
		if !ok {
			diff = append(diff, fmt.Sprintf("unexpected %s terms=%s source=%s/%s", w.ID, canonTerms(w.NewTerms), w.Source.Index, w.Source.ID))
			continue
		}
		matched[e.alert.AlertID] = true
		if wantUUID := alerts.ExecutionUUID(space, soID, want[e.slot].Slot); w.ExecUUID != wantUUID {
			diff = append(diff, fmt.Sprintf("%s: written by execution %s, want slot %d %s", w.ID, w.ExecUUID, e.slot, want[e.slot].Slot.Format("15:04")))
		}
		if canonTerms(w.NewTerms) != canonTerms(e.alert.NewTerms) {
			diff = append(diff, fmt.Sprintf("%s: new_terms %s, want %s", w.ID, canonTerms(w.NewTerms), canonTerms(e.alert.NewTerms)))
		}
		okSource := false
		for _, c := range e.alert.Choices() {
			okSource = okSource || (c.AlertID == w.ID && c.Source == w.Source)
		}
		if !okSource {
			diff = append(diff, fmt.Sprintf("%s: source %v, want %v", w.ID, w.Source, e.alert.Source))
		}
	}
	for i, s := range want {
		for _, a := range s.Created {
			if !matched[a.AlertID] {
				diff = append(diff, fmt.Sprintf("missing %s slot %d %s terms=%s source=%s/%s first seen %s",
					a.AlertID, i, s.Slot.Format("15:04"), canonTerms(a.NewTerms), a.Source.Index, a.Source.ID, a.FirstSeen.Format("15:04:05.000")))
			}
		}
	}
	if len(got) != total {
		diff = append(diff, fmt.Sprintf("%d alerts written, oracle %d", len(got), total))
	}
	sort.Strings(diff)
	return strings.Join(diff, "\n")
}

// sourceSet is the alerts of one rule as (source document, new terms, slot)
// strings, comparable across rule ids.
func sourceSet(got []written, space, soID string, slots []time.Time) []string {
	slotOf := map[string]string{}
	for _, s := range slots {
		slotOf[alerts.ExecutionUUID(space, soID, s)] = s.Format(time.RFC3339)
	}
	out := make([]string, len(got))
	for i, w := range got {
		out[i] = fmt.Sprintf("%s/%s %s @%s", w.Source.Index, w.Source.ID, canonTerms(w.NewTerms), slotOf[w.ExecUUID])
	}
	sort.Strings(out)
	return out
}

type backfillCase struct {
	name string
	opts backfill.Options
}

// checkBackfill runs the fast path (default width and a narrow one, the
// latter interrupted and resumed) and the replay over the dataset's slots,
// each under its own rule id, and compares each with the oracle and with
// each other; then checks that a second run writes nothing.
func checkBackfill(t *testing.T, env *backfillEnv, d randdata.Dataset) {
	t.Helper()
	ctx := context.Background()
	from, to := rangeOf(t, d)
	prefix := strings.TrimSuffix(d.Pattern, "-*")
	narrow := min(5*time.Minute, d.Rule.History-d.Rule.Lookback)
	cases := []backfillCase{
		{"fast", backfill.Options{}},
		{"narrow", backfill.Options{Width: narrow, PageSize: 7, FetchBatch: 3}},
		{"replay", backfill.Options{Replay: true}},
	}
	var sets [][]string
	for _, c := range cases {
		soID := prefix + "-" + c.name
		r := ruleFor(t, d, env.space, soID)
		want := oracleFor(t, d, env.space, soID)
		o := c.opts
		o.From, o.To = from, to
		finished := false
		if c.name == "narrow" {
			finished = interruptAndResume(t, env, r, o)
		}
		start := time.Now()
		s, err := env.backfill(t, ctx, r, o)
		require.NoError(t, err, "%s: %s", c.name, d.Describe())
		require.Equal(t, finished, s.AlreadyDone)
		t.Logf("%s: %s, %d requests, %d created, %d replayed slots, %d skipped", c.name, time.Since(start).Round(time.Millisecond),
			s.Requests, s.AlertsCreated, s.ReplayedSlots, s.SkippedSlots)
		got := readAlerts(t, env.c, env.alias, soID)
		if diff := compareBackfill(want, got, env.space, soID); diff != "" {
			t.Fatalf("%s backfill differs from the oracle (%s)\nsummary %+v\n%s", c.name, d.Describe(), s, diff)
		}
		sets = append(sets, sourceSet(got, env.space, soID, d.Slots))

		again, err := env.backfill(t, ctx, r, o)
		require.NoError(t, err)
		require.True(t, again.AlreadyDone, "%s: second run of a done range", c.name)
		require.Zero(t, again.AlertsCreated)
		if c.name == "fast" {
			o.Force = true
			forced, err := env.backfill(t, ctx, r, o)
			require.NoError(t, err)
			require.Zero(t, forced.AlertsCreated, "forced re-run created alerts")
			require.GreaterOrEqual(t, forced.AlertsDuplicate, len(got), "forced re-run: every alert a duplicate")
			require.Len(t, readAlerts(t, env.c, env.alias, soID), len(got))
		}
	}
	require.Equal(t, sets[2], sets[0], "fast path and replay differ")
	require.Equal(t, sets[2], sets[1], "narrow fast path and replay differ")
}

// interruptAndResume runs the backfill until its second checkpoint, cancels
// it, and checks that the checkpoint stopped inside the range. It reports
// whether the run finished before it could be interrupted.
func interruptAndResume(t *testing.T, env *backfillEnv, r *rule.Rule, o backfill.Options) bool {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	o.Done = func(time.Time, int) error {
		if calls.Add(1) == 2 {
			cancel()
		}
		return nil
	}
	_, err := env.backfill(t, ctx, r, o)
	if err == nil {
		return true // finished before the second checkpoint (few first occurrences)
	}
	require.True(t, errors.Is(err, context.Canceled), "interrupted run: %v", err)
	var ck state.Backfill
	space := r.Space
	v, err := env.store.Get(context.Background(), state.BackfillDocID(space, r.SavedObjectID(), o.From, o.To), &ck)
	require.NoError(t, err)
	require.False(t, v.IsZero(), "checkpoint written before the interruption")
	require.True(t, ck.Backfill.DoneUntil.Before(o.To), "checkpoint inside the range: %s", ck.Backfill.DoneUntil)
	return false
}

func TestIntegrationBackfillRandomized(t *testing.T) {
	t.Parallel()
	seeds := seedsFromEnv(t, "ESRULE_BACKFILL_SEEDS", 1, 6)
	env := newBackfillEnv(t)
	datasets := make([]randdata.Dataset, len(seeds))
	for i, seed := range seeds {
		datasets[i] = randdata.Generate(randdata.Config{Seed: seed, Slots: 16, IndexPrefix: uniqueName(t, fmt.Sprintf("bf-s%d", seed))})
	}
	installAll(t, env.execEnv, datasets)
	for _, d := range datasets {
		t.Run(fmt.Sprintf("seed=%d", d.Seed), func(t *testing.T) {
			t.Parallel()
			checkBackfill(t, env, d)
		})
	}
}

// 1, 2 and 3 fields of every type, each timestamp mode (override with
// fallback: the scan's missing-bucket side), arrays, and max_signals small
// enough to truncate slots.
func TestIntegrationBackfillShapes(t *testing.T) {
	t.Parallel()
	env := newBackfillEnv(t)
	configs := []randdata.Config{
		{Seed: 201, Fields: []string{randdata.FieldSuccess}},
		{Seed: 202, Fields: []string{randdata.FieldSourceIP}},
		{Seed: 203, Fields: []string{randdata.FieldUserID, randdata.FieldSuccess}},
		{Seed: 204, Fields: []string{randdata.FieldUserName, randdata.FieldUserID, randdata.FieldSuccess}},
		{Seed: 205, Fields: []string{randdata.FieldSourceIP, randdata.FieldHostName, randdata.FieldUserID}, Mode: randdata.ModeOverrideFallback},
		{Seed: 206, Fields: []string{randdata.FieldUserName}, Mode: randdata.ModeOverrideFallback},
		{Seed: 207, Fields: []string{randdata.FieldUserName}, Mode: randdata.ModeOverrideNoFallback},
		{Seed: 208, Fields: []string{randdata.FieldUserName}, Mode: randdata.ModeTimestamp},
		{Seed: 209, Fields: []string{randdata.FieldUserName}, MaxSignals: 1},
		{Seed: 210, Fields: []string{randdata.FieldUserName, randdata.FieldSourceIP}, MaxSignals: 2, Mode: randdata.ModeOverrideFallback},
	}
	datasets := make([]randdata.Dataset, len(configs))
	for i, cfg := range configs {
		cfg.Slots = 16
		cfg.IndexPrefix = uniqueName(t, fmt.Sprintf("bf-s%d", cfg.Seed))
		datasets[i] = randdata.Generate(cfg)
	}
	installAll(t, env.execEnv, datasets)
	for _, d := range datasets {
		t.Run(fmt.Sprintf("seed=%d/%v/%s/max=%d", d.Seed, d.Rule.Fields, d.Rule.Mode, d.Rule.MaxSignals), func(t *testing.T) {
			t.Parallel()
			checkBackfill(t, env, d)
		})
	}
}

// A dry run writes nothing (no alert, no checkpoint) and yields the alerts
// a real run writes.
func TestIntegrationBackfillDryRun(t *testing.T) {
	t.Parallel()
	env := newBackfillEnv(t)
	d := randdata.Generate(randdata.Config{Seed: 301, Slots: 12, MaxSignals: 2, IndexPrefix: uniqueName(t, "bf-dry")})
	installAll(t, env.execEnv, []randdata.Dataset{d})
	soID := strings.TrimSuffix(d.Pattern, "-*")
	r := ruleFor(t, d, env.space, soID)
	want := oracleFor(t, d, env.space, soID)
	from, to := rangeOf(t, d)
	var ids []string
	s, err := env.backfill(t, context.Background(), r, backfill.Options{
		From: from, To: to, DryRun: true,
		OnAlerts: func(as []alerts.Alert) error {
			for _, a := range as {
				ids = append(ids, a.ID)
			}
			return nil
		},
	})
	require.NoError(t, err)
	require.Empty(t, readAlerts(t, env.c, env.alias, soID))
	var ck state.Backfill
	v, err := env.store.Get(context.Background(), state.BackfillDocID(env.space, soID, from, to), &ck)
	require.NoError(t, err)
	require.True(t, v.IsZero(), "dry run wrote a checkpoint")
	var wantIDs []string
	for _, sr := range want {
		for _, a := range sr.Created {
			wantIDs = append(wantIDs, a.AlertID)
		}
	}
	require.ElementsMatch(t, wantIDs, ids, "summary %+v", s)
}
