//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/internal/randdata"
)

// The executor against the brute-force oracle (internal/oracle) on randomized
// datasets (internal/randdata): same alert _ids, same source documents, same
// kibana.alert.new_terms, slot by slot, and nothing new on a re-run.
// ESRULE_EXEC_SEEDS selects seeds: "17", "1-200" or "3,5,9" (default 1-50);
// ESRULE_EXEC_DOCS sets the random documents per dataset (default 300).
func TestIntegrationExecutorRandomized(t *testing.T) {
	t.Parallel()
	seeds := seedsFromEnv(t, "ESRULE_EXEC_SEEDS", 1, 50)
	docs := 0
	if v := os.Getenv("ESRULE_EXEC_DOCS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "ESRULE_EXEC_DOCS=%q", v)
		docs = n
	}
	env := newExecEnv(t)
	// Groups of 50 datasets, each group's indices deleted before the next
	// (a long seed list would otherwise exceed the cluster's shard limit).
	for start := 0; start < len(seeds); start += 50 {
		group := seeds[start:min(start+50, len(seeds))]
		t.Run(fmt.Sprintf("seeds=%d-%d", group[0], group[len(group)-1]), func(t *testing.T) {
			datasets := make([]randdata.Dataset, len(group))
			for i, seed := range group {
				prefix := uniqueName(t, fmt.Sprintf("exec-s%d", seed))
				datasets[i] = randdata.Generate(randdata.Config{Seed: seed, Docs: docs, IndexPrefix: prefix})
			}
			installAll(t, env, datasets)
			for _, d := range datasets {
				t.Run(fmt.Sprintf("seed=%d", d.Seed), func(t *testing.T) {
					t.Parallel() // datasets are independent: own indices, own rule id
					checkDataset(t, env, d)
				})
			}
		})
	}
}

// Typed terms and rule shapes the random seeds may not hit: a boolean, a long
// and an ip as the single field, 2 and 3 fields mixing types, each timestamp
// mode, and max_signals 1.
func TestIntegrationExecutorShapes(t *testing.T) {
	t.Parallel()
	env := newExecEnv(t)
	configs := []randdata.Config{
		{Seed: 101, Fields: []string{randdata.FieldSuccess}},
		{Seed: 102, Fields: []string{randdata.FieldUserID}},
		{Seed: 103, Fields: []string{randdata.FieldSourceIP}},
		{Seed: 104, Fields: []string{randdata.FieldUserID, randdata.FieldSuccess}},
		{Seed: 105, Fields: []string{randdata.FieldUserName, randdata.FieldUserID, randdata.FieldSuccess}},
		{Seed: 106, Fields: []string{randdata.FieldSourceIP, randdata.FieldHostName, randdata.FieldUserID}},
		{Seed: 107, Fields: []string{randdata.FieldUserName}, Mode: randdata.ModeTimestamp},
		{Seed: 108, Fields: []string{randdata.FieldUserName}, Mode: randdata.ModeOverrideFallback},
		{Seed: 109, Fields: []string{randdata.FieldUserName}, Mode: randdata.ModeOverrideNoFallback},
		{Seed: 110, Fields: []string{randdata.FieldHostName, randdata.FieldUserName}, Mode: randdata.ModeOverrideNoFallback},
		{Seed: 111, Fields: []string{randdata.FieldUserName}, MaxSignals: 1},
		{Seed: 112, Fields: []string{randdata.FieldUserName, randdata.FieldSourceIP}, MaxSignals: 1},
	}
	datasets := make([]randdata.Dataset, len(configs))
	for i, cfg := range configs {
		cfg.IndexPrefix = uniqueName(t, fmt.Sprintf("exec-s%d", cfg.Seed))
		datasets[i] = randdata.Generate(cfg)
	}
	installAll(t, env, datasets)
	for _, d := range datasets {
		t.Run(fmt.Sprintf("seed=%d/%v/%s/max=%d", d.Seed, d.Rule.Fields, d.Rule.Mode, d.Rule.MaxSignals), func(t *testing.T) {
			t.Parallel()
			checkDataset(t, env, d)
		})
	}
}

// More than 10,000 distinct terms (one field) and combinations (two fields;
// three fields from one document's arrays) in one window: composite paging,
// max_signals across pages, history composite crowding (docs/semantics.md D4).
func TestIntegrationExecutorPaging(t *testing.T) {
	t.Parallel()
	env := newExecEnv(t)
	datasets := []randdata.Dataset{
		randdata.BigSingle(uniqueName(t, "exec-bigsingle")),
		randdata.BigMulti(uniqueName(t, "exec-bigmulti")),
		randdata.BigCartesian(uniqueName(t, "exec-bigcartesian")),
	}
	installAll(t, env, datasets)
	for _, d := range datasets {
		t.Run(fmt.Sprintf("%v", d.Rule.Fields), func(t *testing.T) { checkDataset(t, env, d) })
	}
}

// A boolean as the single new-terms field: false is new, true is not.
func TestIntegrationExecutorBooleanTerm(t *testing.T) {
	t.Parallel()
	env := newExecEnv(t)
	d := randdata.Booleans(uniqueName(t, "exec-bool"))
	installAll(t, env, []randdata.Dataset{d})
	checkDataset(t, env, d)
	got := readAlerts(t, env.c, env.alias, strings.TrimSuffix(d.Pattern, "-*"))
	require.Len(t, got, 1)
	require.Equal(t, []any{false}, got[0].NewTerms)
}

// Two documents with the same new term at the same millisecond in different
// indices: either may become the alert, but exactly one alert is written.
func TestIntegrationExecutorTies(t *testing.T) {
	t.Parallel()
	env := newExecEnv(t)
	d := randdata.Ties(uniqueName(t, "exec-ties"))
	installAll(t, env, []randdata.Dataset{d})
	checkDataset(t, env, d)
}

// checkDataset runs every slot of d, compares with the oracle, then re-runs
// every slot and checks that nothing new is written.
func checkDataset(t *testing.T, env *execEnv, d randdata.Dataset) {
	t.Helper()
	soID := strings.TrimSuffix(d.Pattern, "-*") // unique per dataset
	r := ruleFor(t, d, env.space, soID)
	want := oracleFor(t, d, env.space, soID)
	runs := env.runSlots(t, r, d.Slots)
	got := readAlerts(t, env.c, env.alias, soID)
	reproduce := fmt.Sprintf("go test -tags integration ./integration/ -count=1 -run '%s'", t.Name())
	if strings.HasPrefix(t.Name(), "TestIntegrationExecutorRandomized/") {
		reproduce = strings.Replace(reproduce, t.Name(), "TestIntegrationExecutorRandomized", 1)
		reproduce = fmt.Sprintf("ESRULE_EXEC_SEEDS=%d ESRULE_EXEC_DOCS=%s ", d.Seed, os.Getenv("ESRULE_EXEC_DOCS")) + reproduce
	}
	if diff := compare(d, want, runs, got, reproduce); diff != "" {
		t.Fatalf("executor differs from the oracle\n%s", diff)
	}
	total := 0
	for _, s := range want {
		total += len(s.Created)
	}
	require.Len(t, got, total)

	reruns := env.runSlots(t, r, d.Slots)
	for i, run := range reruns {
		require.Zero(t, run.Result.AlertsCreated, "seed %d: re-run of slot %d created alerts", d.Seed, i)
		require.Equal(t, runs[i].Result.ExecutionUUID, run.Result.ExecutionUUID)
	}
	require.Len(t, readAlerts(t, env.c, env.alias, soID), total, "seed %d: re-run changed the alert count", d.Seed)
	t.Logf("%s: %d alerts over %d slots", d.Describe(), total, len(d.Slots))
}

// installAll creates and loads the datasets, a few at a time (index creation dominates).
func installAll(t *testing.T, env *execEnv, datasets []randdata.Dataset) {
	t.Helper()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, len(datasets))
	for i, d := range datasets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			installSlots <- struct{}{}
			defer func() { <-installSlots }()
			errs[i] = d.Install(context.Background(), env.c)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "install dataset seed %d", datasets[i].Seed)
	}
	t.Logf("installed %d datasets in %s", len(datasets), time.Since(start).Round(time.Millisecond))
}

// installSlots bounds the datasets installed at once across the tests
// running in parallel: each creates indices, and Elasticsearch applies index
// creations and mapping updates one at a time, so that a burst of them
// delays every test's (30 s timeouts on a loaded machine).
var installSlots = make(chan struct{}, 4)

// seedsFromEnv parses a seed list from env ("17", "1-200", "3,5,9"), else lo..hi.
func seedsFromEnv(t *testing.T, env string, lo, hi uint64) []uint64 {
	t.Helper()
	spec := os.Getenv(env)
	if spec == "" {
		spec = fmt.Sprintf("%d-%d", lo, hi)
	}
	var out []uint64
	for _, part := range strings.Split(spec, ",") {
		a, b, isRange := strings.Cut(strings.TrimSpace(part), "-")
		x, err := strconv.ParseUint(a, 10, 64)
		require.NoError(t, err, "%s=%q", env, spec)
		y := x
		if isRange {
			y, err = strconv.ParseUint(b, 10, 64)
			require.NoError(t, err, "%s=%q", env, spec)
		}
		for s := x; s <= y; s++ {
			out = append(out, s)
		}
	}
	return out
}
