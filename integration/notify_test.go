//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/notify"
	"github.com/esrule/esrule/rule"
)

// notifyAlertsAlias installs the alerts template and write alias of a unique
// space (replicas 0) with the esrule.notify mapping and returns the alias.
func notifyAlertsAlias(t *testing.T, c *elasticsearch.Client) string {
	t.Helper()
	space, stateIndex := setupSpace(t)
	zero := 0
	require.NoError(t, mappings.Ensure(context.Background(), c, mappings.Options{Space: space, Replicas: &zero, StateIndex: stateIndex}))
	waitActive(t, c, mappings.AlertsAlias(space), stateIndex)
	alias := mappings.AlertsAlias(space)
	// What the alerts template will carry (until then serve adds it on start).
	require.NoError(t, notify.EnsureMapping(context.Background(), c, []string{alias}))
	return alias
}

// notifyAlertOptions vary the alerts notifyWriteAlerts builds.
type notifyAlertOptions struct {
	first, n      int
	manual        bool
	requested     bool // backfill --notify: notify.RequestDelivery
	refresh       string
	executionSlot time.Time
}

// notifyWriteAlerts builds alerts of the built-in rule for actors
// 00u<first>..00u<first+n-1> and writes them through the alias; it returns
// the ids created.
func notifyWriteAlerts(t *testing.T, c *elasticsearch.Client, alias string, o notifyAlertOptions) []string {
	t.Helper()
	r := rule.Builtin()
	slot := o.executionSlot
	if slot.IsZero() {
		slot = time.Now().UTC().Truncate(5 * time.Minute)
	}
	execType := alerts.ExecutionScheduled
	if o.manual {
		execType = alerts.ExecutionManual
	}
	var batch []alerts.Alert
	for i := o.first; i < o.first+o.n; i++ {
		actor := fmt.Sprintf("00u%04d", i)
		var source map[string]any
		require.NoError(t, json.Unmarshal([]byte(`{
			"@timestamp": "`+slot.Add(-time.Minute).Format(time.RFC3339)+`",
			"event": {"kind": "event", "category": ["authentication"], "action": "user.session.start"},
			"okta": {"actor": {"id": "`+actor+`", "alternate_id": "`+actor+`@example.com", "display_name": "User `+actor+`", "type": "User"},
			         "security_context": {"is_proxy": true}},
			"source": {"ip": "203.0.113.77"}
		}`), &source))
		a, err := alerts.Build(r, alerts.Hit{Index: "logs-okta.system-default", ID: "doc-" + actor, Source: source},
			[]any{actor}, alerts.BuildOptions{Now: time.Now().UTC(), ExecutionUUID: alerts.ExecutionUUID("default", r.SavedObjectID(), slot),
				ExecutionType: execType, IntendedTimestamp: slot, KibanaVersion: "8.19.0"})
		require.NoError(t, err)
		batch = append(batch, a)
	}
	refresh := o.refresh
	if refresh == "" {
		refresh = "true"
	}
	var store notify.AlertStore = alerts.NewWriter(c, alerts.WriterConfig{Alias: alias, Refresh: refresh, Logger: zerolog.Nop()})
	if o.requested {
		store = notify.RequestDelivery(store)
	}
	res, err := store.Create(context.Background(), batch)
	require.NoError(t, err)
	return res.CreatedIDs
}

// receiver is a local webhook/Slack endpoint that records what it gets.
type receiver struct {
	srv *httptest.Server

	mu        sync.Mutex
	status    int           // answered status (200 when 0)
	failEvery int           // when > 0, every failEvery-th request is answered 500
	delay     time.Duration // wait before answering (ends early when the client gives up)
	requests  int
	arrivals  []time.Time    // when each request arrived
	accepted  map[string]int // Idempotency-Key -> 2xx answers (a naive receiver's deliveries)
	bodies    map[string]map[string]any
	headers   map[string]http.Header
	inFlight  int
	maxFlight int
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{accepted: map[string]int{}, bodies: map[string]map[string]any{}, headers: map[string]http.Header{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.requests++
	rc.arrivals = append(rc.arrivals, time.Now())
	rc.inFlight++
	rc.maxFlight = max(rc.maxFlight, rc.inFlight)
	status, delay := rc.status, rc.delay
	if rc.failEvery > 0 && rc.requests%rc.failEvery == 0 {
		status = http.StatusInternalServerError
	}
	rc.mu.Unlock()
	defer func() {
		rc.mu.Lock()
		rc.inFlight--
		rc.mu.Unlock()
	}()
	if delay > 0 {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(delay):
		}
	}
	if status == 0 {
		status = http.StatusOK
	}
	if status >= 300 {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "receiver says no")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	rc.mu.Lock()
	rc.accepted[key]++
	rc.bodies[key] = body
	rc.headers[key] = r.Header.Clone()
	rc.mu.Unlock()
	_, _ = io.WriteString(w, "ok")
}

func (rc *receiver) set(status int, delay time.Duration) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.status, rc.delay = status, delay
}

// counts returns the accepted deliveries per key (a copy).
func (rc *receiver) counts() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make(map[string]int, len(rc.accepted))
	for k, v := range rc.accepted {
		out[k] = v
	}
	return out
}

func (rc *receiver) stats() (requests, maxFlight int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.requests, rc.maxFlight
}

// arrivedAt returns when the nth request (from 1) arrived.
func (rc *receiver) arrivedAt(n int) time.Time {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.arrivals[n-1]
}

// hasAll reports whether every id was accepted at least once.
func (rc *receiver) hasAll(ids []string) bool {
	got := rc.counts()
	for _, id := range ids {
		if got[id] == 0 {
			return false
		}
	}
	return true
}

// notifyConfig is a fast configuration for tests.
func notifyConfig(alias string, actions ...notify.Action) notify.Config {
	return notify.Config{
		Actions: actions, Aliases: []string{alias}, Interval: 200 * time.Millisecond, MaxAge: time.Hour,
		ClaimTimeout: 5 * time.Second, MinBackoff: 100 * time.Millisecond, MaxBackoff: 500 * time.Millisecond,
		Owner: "it-" + alias, Clock: time.Now, Logger: notifyLogger(),
	}
}

// notifyLogger logs to stderr when ESRULE_TEST_NOTIFY_LOG is set.
func notifyLogger() zerolog.Logger {
	if os.Getenv("ESRULE_TEST_NOTIFY_LOG") == "" {
		return zerolog.Nop()
	}
	return zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.DebugLevel).With().Timestamp().Logger()
}

// delivererRun is a Deliverer running in the background for a test.
type delivererRun struct {
	d        *notify.Deliverer
	searches *searchCounter
	stop     func() error
}

// runDeliverer runs a Deliverer until the test ends (or stop is called);
// stop waits for it and returns Run's error.
func runDeliverer(t *testing.T, c *elasticsearch.Client, cfg notify.Config) *delivererRun {
	t.Helper()
	names := make([]string, len(cfg.Actions))
	for i, a := range cfg.Actions {
		names[i] = a.Name
	}
	searches := &searchCounter{next: c, actions: names, n: map[string]int{}}
	d, err := notify.New(searches, cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			runErr = waitChan(t, "the delivery loop returns after cancel", done, nil)
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return &delivererRun{d: d, searches: searches, stop: stop}
}

// waitRounds waits until each of actions (all when none are given) has
// completed n more rounds: each round searches the alerts once, so rounds
// after every alert was delivered show that nothing is sent twice.
func (r *delivererRun) waitRounds(t *testing.T, n int, actions ...string) {
	t.Helper()
	if len(actions) == 0 {
		actions = r.searches.actions
	}
	from := r.searches.counts()
	waitFor(t, fmt.Sprintf("%d more delivery rounds of %v", n, actions), func() (bool, string) {
		now := r.searches.counts()
		for _, a := range actions {
			if now[a] < from[a]+n {
				return false, fmt.Sprint(now)
			}
		}
		return true, ""
	})
}

// searchCounter is the Deliverer's transport: it counts the answered
// delivery searches of each action, one per round of its worker, so that a
// test can wait for rounds rather than for time.
type searchCounter struct {
	next    esapi.Transport
	actions []string
	mu      sync.Mutex
	n       map[string]int
}

func (s *searchCounter) Perform(req *http.Request) (*http.Response, error) {
	var body []byte
	if strings.HasSuffix(req.URL.Path, "/_search") && req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, fmt.Errorf("read the search body: %w", err)
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	res, err := s.next.Perform(req)
	if body != nil && err == nil && res.StatusCode == http.StatusOK {
		s.mu.Lock()
		for _, a := range s.actions {
			if bytes.Contains(body, []byte(`.`+a+`.status"`)) {
				s.n[a]++
			}
		}
		s.mu.Unlock()
	}
	return res, err
}

func (s *searchCounter) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.n))
	for k, v := range s.n {
		out[k] = v
	}
	return out
}

// waitDelivered waits until rc accepted every id, for as long as rc gets
// requests or accepts alerts.
func (rc *receiver) waitDelivered(t *testing.T, ids []string) {
	t.Helper()
	rc.waitFor(t, fmt.Sprintf("%d alerts delivered", len(ids)), func() bool { return rc.hasAll(ids) })
}

// waitFor waits until cond holds, for as long as rc gets requests or
// accepts alerts.
func (rc *receiver) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitFor(t, what, func() (bool, string) {
		requests, _ := rc.stats()
		return cond(), fmt.Sprintf("%d requests, %d alerts accepted", requests, len(rc.counts()))
	})
}

// notifyStates returns esrule.notify.<action> of every alert in alias, by id.
func notifyStates(t *testing.T, c *elasticsearch.Client, alias, action string) map[string]map[string]any {
	t.Helper()
	res, err := c.Indices.Refresh(c.Indices.Refresh.WithIndex(alias))
	require.NoError(t, err)
	res.Body.Close()
	res, err = c.Search(c.Search.WithIndex(alias), c.Search.WithSize(1000),
		c.Search.WithBody(strings.NewReader(`{"_source":["esrule.notify"],"query":{"match_all":{}}}`)))
	require.NoError(t, err)
	defer res.Body.Close()
	require.False(t, res.IsError(), res.String())
	var body struct {
		Hits struct {
			Hits []struct {
				ID     string `json:"_id"`
				Source struct {
					Esrule struct {
						Notify map[string]any `json:"notify"`
					} `json:"esrule"`
				} `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
	out := map[string]map[string]any{}
	for _, h := range body.Hits.Hits {
		st, _ := h.Source.Esrule.Notify[action].(map[string]any)
		out[h.ID] = st
	}
	return out
}

// countStatus counts the alerts whose esrule.notify.<action>.status is
// status, with a term query (which needs the flattened mapping).
func countStatus(t *testing.T, c *elasticsearch.Client, alias, action, status string) int {
	t.Helper()
	res, err := c.Indices.Refresh(c.Indices.Refresh.WithIndex(alias))
	require.NoError(t, err)
	res.Body.Close()
	res, err = c.Count(c.Count.WithIndex(alias), c.Count.WithBody(strings.NewReader(
		`{"query":{"term":{"esrule.notify.`+action+`.status":"`+status+`"}}}`)))
	require.NoError(t, err)
	defer res.Body.Close()
	require.False(t, res.IsError(), res.String())
	var body struct {
		Count int `json:"count"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
	return body.Count
}

func requireOncePerID(t *testing.T, got map[string]int, ids []string) {
	t.Helper()
	want := map[string]int{}
	for _, id := range ids {
		want[id] = 1
	}
	require.Equal(t, want, got)
}
