//go:build integration

package integration

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/engine"
	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/internal/randdata"
	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/schedule"
	"github.com/esrule/esrule/state"
)

// serveInterval is the interval of the serve tests' rule: short, so that a
// test sees several slots within seconds.
const serveInterval = 2 * time.Second

// serveEnv is one isolated serve setup: a data index with generated login
// events around S0, an alerts space, a state index and a rule.
type serveEnv struct {
	c          *elasticsearch.Client
	space      string
	alias      string
	stateIndex string
	store      *state.Store
	rule       *rule.Rule
	// s0 is the first slot the tests execute (StartFrom).
	s0 time.Time
	// clock is the schedulers' clock (config): the wall clock until a test
	// advances it to simulate a downtime.
	clock *testClock
}

func newServeEnv(t *testing.T) *serveEnv {
	t.Helper()
	ctx := context.Background()
	c := newClient(t)
	space := strings.TrimPrefix(uniqueName(t, "esrule-alerts-serve"), "esrule-alerts-")
	stateIndex := uniqueName(t, "esrule-state-serve")
	dataIndex := uniqueName(t, "esrule-serve-data")
	zero := 0
	require.NoError(t, mappings.Ensure(ctx, c, mappings.Options{Space: space, Replicas: &zero, StateIndex: stateIndex}))
	waitActive(t, c, mappings.AlertsAlias(space), stateIndex)
	t.Cleanup(func() {
		res, err := c.Indices.DeleteIndexTemplate(mappings.AlertsTemplate(space))
		if err == nil {
			res.Body.Close()
		}
	})
	// Two slots in the past: the first tick catches them up.
	s0 := rule.AlignSlot(time.Now(), serveInterval).Add(-2 * serveInterval)
	require.NoError(t, randdata.CreateIndex(ctx, c, dataIndex, map[string]any{
		"settings": map[string]any{"number_of_shards": 1, "number_of_replicas": 0},
		"mappings": map[string]any{"properties": map[string]any{
			"@timestamp": map[string]any{"type": "date"},
			"event":      map[string]any{"properties": map[string]any{"action": map[string]any{"type": "keyword"}}},
			"user":       map[string]any{"properties": map[string]any{"name": map[string]any{"type": "keyword"}}},
		}},
	}))
	require.NoError(t, randdata.Load(ctx, c, serveEvents(dataIndex, s0)))
	soID := "serve-" + space
	r := &rule.Rule{
		ID: soID, RuleID: soID, Name: "serve test " + soID, Description: "logins of users not seen in the last minute",
		Type: rule.TypeNewTerms, Language: "kuery", Query: "event.action:login", Index: []string{dataIndex},
		NewTermsFields: []string{"user.name"}, HistoryWindowStart: "now-1m", From: "now-5s", To: "now",
		Interval: "2s", MaxSignals: 100, Severity: "low", RiskScore: 21, Enabled: true, Space: space,
	}
	require.Empty(t, r.Validate())
	require.NoError(t, r.Normalize())
	return &serveEnv{c: c, space: space, alias: mappings.AlertsAlias(space), stateIndex: stateIndex,
		store: state.NewStore(c, stateIndex), rule: r, s0: s0, clock: &testClock{}}
}

// serveEvents generates login events around s0: regular users who log in
// every few seconds over the whole history, and a new user every 700ms from
// s0-5s to s0+45s, each logging in twice more shortly after.
func serveEvents(index string, s0 time.Time) []randdata.Event {
	rnd := rand.New(rand.NewPCG(uint64(s0.Unix()), 7))
	var events []randdata.Event
	add := func(user string, at time.Time, action string) {
		events = append(events, randdata.Event{Index: index, ID: fmt.Sprintf("e%05d", len(events)), Source: map[string]any{
			"@timestamp": at.UTC().Format("2006-01-02T15:04:05.000Z"),
			"event":      map[string]any{"action": action},
			"user":       map[string]any{"name": user},
		}})
	}
	for u := range 30 {
		for at := s0.Add(-65*time.Second + time.Duration(u)*97*time.Millisecond); at.Before(s0.Add(90 * time.Second)); at = at.Add(4 * time.Second) {
			add(fmt.Sprintf("regular-%02d", u), at, "login")
		}
	}
	for i := range 72 {
		first := s0.Add(-5*time.Second + time.Duration(i)*700*time.Millisecond + time.Duration(rnd.IntN(50))*time.Millisecond)
		user := fmt.Sprintf("new-%02d", i)
		add(user, first, "login")
		add(user, first.Add(500*time.Millisecond+time.Duration(rnd.IntN(400))*time.Millisecond), "login")
		add(user, first.Add(1700*time.Millisecond), "logout")
		add(user, first.Add(2900*time.Millisecond), "login")
	}
	return events
}

// serveTimeout bounds one slot's execution in the serve tests: the test
// machine can be slow, executions may take longer than the interval and
// must not fail for that.
const serveTimeout = 20 * time.Second

// newEngine returns an engine reaching Elasticsearch at url, writing alerts to
// index (the space's alias or a separate index) and refreshing like Kibana,
// each slot bounded by timeout.
func (e *serveEnv) newEngine(t *testing.T, url, index string, timeout time.Duration) *engine.Engine {
	t.Helper()
	return newEngine(t, engine.Config{
		ES:         esclient.Config{Addresses: []string{url}, Backoff: func(int) time.Duration { return 50 * time.Millisecond }},
		StateIndex: e.stateIndex, Refresh: "true", Timeout: timeout,
		AlertsAlias: func(string) string { return index },
	})
}

// testLogger logs to stderr with -v, else nowhere.
func testLogger(owner string) zerolog.Logger {
	if !testing.Verbose() {
		return zerolog.Nop()
	}
	return zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: "15:04:05.000"}).
		With().Timestamp().Str("owner", owner).Logger()
}

// countingRunner counts executions per slot (successful or not) of the
// engine's slot path and can hold a slot (a "crash" in the middle of it).
type countingRunner struct {
	next schedule.ExecuteFunc
	mu   sync.Mutex
	runs map[time.Time]int
	fail int
	// hook, when set, runs after the execution of each slot, with its error.
	hook func(ctx context.Context, slot time.Time, err error) error
}

func newCountingRunner(eng *engine.Engine) *countingRunner {
	return &countingRunner{next: eng.Execute, runs: map[time.Time]int{}}
}

// execute is a schedule.ExecuteFunc: it hands the engine one slot at a time.
func (c *countingRunner) execute(ctx context.Context, r *rule.Rule, slots []time.Time, done func(schedule.SlotDone) error) error {
	for _, slot := range slots {
		var res detect.Result
		err := c.next(ctx, r, []time.Time{slot}, func(d schedule.SlotDone) error { res = d.Result; return nil })
		var se *schedule.SlotError
		if errors.As(err, &se) {
			res, err = se.Result, se.Err
		}
		c.mu.Lock()
		c.runs[slot]++
		if err != nil {
			c.fail++
		}
		hook := c.hook
		c.mu.Unlock()
		if hook != nil {
			err = hook(ctx, slot, err)
		}
		if err != nil {
			return &schedule.SlotError{Slot: slot, Result: res, Err: err}
		}
		if err := done(schedule.SlotDone{Through: slot, Slots: 1, Result: res}); err != nil {
			return err
		}
	}
	return nil
}

func (c *countingRunner) counts() (map[time.Time]int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[time.Time]int, len(c.runs))
	for k, v := range c.runs {
		out[k] = v
	}
	return out, c.fail
}

// config returns the scheduler configuration of one replica.
func (e *serveEnv) config(owner string, store schedule.Store, run *countingRunner) schedule.Config {
	return schedule.Config{
		Rules: []*rule.Rule{e.rule}, Store: store, Execute: run.execute, Clock: e.clock.Now, Owner: owner,
		StartFrom: e.s0, MaxCatchup: time.Hour, KeepLease: true, ShutdownGrace: 5 * time.Second,
		Timeout: serveTimeout, LeaseTTL: 40 * time.Second,
		Logger: testLogger(owner),
	}
}

// startServe runs Serve in the background; the returned stop cancels it and
// waits for it to return.
func startServe(t *testing.T, cfg schedule.Config) (stop func()) {
	t.Helper()
	s, err := schedule.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			require.NoError(t, waitChan(t, "Serve returns after cancel", done, nil))
		})
	}
	t.Cleanup(stop)
	return stop
}

// ruleState reads the rule's state document directly from Elasticsearch.
func (e *serveEnv) ruleState(t *testing.T) state.RuleState {
	t.Helper()
	var st state.RuleState
	_, err := e.store.Get(context.Background(), state.RuleDocID(e.space, e.rule.SavedObjectID()), &st)
	require.NoError(t, err)
	return st
}

// waitCheckpoint waits until the rule's checkpoint reaches slot, for as
// long as the rule's state changes (checkpoint, status, error, lease owner).
func (e *serveEnv) waitCheckpoint(t *testing.T, slot time.Time) state.RuleState {
	t.Helper()
	var st state.RuleState
	waitFor(t, "checkpoint "+slot.Format(time.RFC3339), func() (bool, string) {
		st = e.ruleState(t)
		return st.LastCompletedSlot != nil && !st.LastCompletedSlot.Before(slot), describeState(st)
	})
	return st
}

// waitProgress waits until the checkpoint has moved n slots past where it
// is now (past S0-1 when there is none yet).
func (e *serveEnv) waitProgress(t *testing.T, n int) state.RuleState {
	t.Helper()
	from := e.s0.Add(-serveInterval)
	if st := e.ruleState(t); st.LastCompletedSlot != nil {
		from = *st.LastCompletedSlot
	}
	return e.waitCheckpoint(t, from.Add(time.Duration(n)*serveInterval))
}

// describeState summarizes a rule's state for a wait's progress and failure
// message.
func describeState(st state.RuleState) string {
	s := fmt.Sprintf("checkpoint %v, status %q, error %q", st.LastCompletedSlot, st.LastStatus, st.LastError)
	if st.Lease != nil {
		s += ", lease " + st.Lease.Owner
	}
	return s
}

// slot returns S0 + n intervals.
func (e *serveEnv) slot(n int) time.Time { return e.s0.Add(time.Duration(n) * serveInterval) }

// expected runs the rule slot by slot from S0 through `through` into a fresh
// index of the same space (same alert ids) and returns its alerts by id →
// execution uuid.
func (e *serveEnv) expected(t *testing.T, through time.Time) map[string]string {
	t.Helper()
	index := e.alias + "-expected"
	ex := e.newEngine(t, esURL, index, serveTimeout).Executor(e.space)
	for slot := e.s0; !slot.After(through); slot = slot.Add(serveInterval) {
		_, err := ex.Run(context.Background(), e.rule, slot, detect.RunOptions{})
		require.NoError(t, err, "expected run of slot %s", slot.Format(time.RFC3339))
	}
	return alertsByID(t, e.c, index, e.rule.SavedObjectID())
}

func alertsByID(t *testing.T, c *elasticsearch.Client, index, soID string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, w := range readAlerts(t, c, index, soID) {
		out[w.ID] = w.ExecUUID
	}
	return out
}

// requireSameAlerts compares serve's alerts (alias) with the slot-by-slot
// expectation through the final checkpoint: same ids, each written by the
// same slot's execution.
func (e *serveEnv) requireSameAlerts(t *testing.T, through time.Time) {
	t.Helper()
	want := e.expected(t, through)
	got := alertsByID(t, e.c, e.alias, e.rule.SavedObjectID())
	require.NotEmpty(t, want, "the dataset must produce alerts")
	require.Equal(t, slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(got)), "alert ids")
	require.Equal(t, want, got, "alert id -> execution uuid")
}

// requireOncePerSlot checks that every slot from S0 through `through` was
// executed exactly once.
func (e *serveEnv) requireOncePerSlot(t *testing.T, runs map[time.Time]int, through time.Time) {
	t.Helper()
	for slot := e.s0; !slot.After(through); slot = slot.Add(serveInterval) {
		require.Equal(t, 1, runs[slot], "executions of slot %s", slot.Format("15:04:05"))
	}
	for slot, n := range runs {
		require.False(t, slot.Before(e.s0), "slot %s before S0 executed %d times", slot, n)
	}
}
