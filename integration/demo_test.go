//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/backfill"
	"github.com/esrule/esrule/demo"
	"github.com/esrule/esrule/internal/randdata"
	"github.com/esrule/esrule/rule"
)

// TestIntegrationDemoScenarios is the demo's promise (issue 7): with the
// built-in rule, each attack scenario of the Okta demo data produces exactly
// its expected alerts, and the whole alert set equals the demo's brute-force
// oracle. Two ways to run the slots, as `make demo` and `esrule run` do:
// a backfill over the whole period, and the executor slot by slot over the
// last day.
func TestIntegrationDemoScenarios(t *testing.T) {
	t.Parallel()
	env := newBackfillEnv(t)
	for _, filebeat := range []bool{false, true} {
		t.Run(map[bool]string{false: "agent", true: "filebeat"}[filebeat], func(t *testing.T) {
			checkDemoScenarios(t, env, filebeat)
		})
	}
}

func checkDemoScenarios(t *testing.T, env *backfillEnv, filebeat bool) {
	ctx := context.Background()
	cfg := oktaDemoConfig(t, filebeat)
	g, stats := loadOktaDemo(t, env.c, cfg)
	oracle := &demo.Oracle{}
	require.NoError(t, g.Each(oracle.Add))
	t.Logf("%d documents, %d match the rule's query", stats.Created, oracle.Matches())

	start, end := g.Config().Start(), g.Config().End
	builtin := func(name string) *rule.Rule {
		r := *rule.Builtin()
		r.ID = fmt.Sprintf("demo-%s-filebeat-%t", name, filebeat)
		r.Index, r.Space = g.Indices(), env.space
		return &r
	}

	t.Run("backfill over the whole period", func(t *testing.T) {
		r := builtin("backfill")
		// From is exclusive: start at the slot before the data's first one.
		s, err := env.backfill(t, ctx, r, backfill.Options{From: start.Add(-5 * time.Minute), To: end})
		require.NoError(t, err)
		t.Logf("backfill: %d slots, %d alerts, %d requests, %d ms", s.Slots, s.AlertsCreated, s.Requests, s.TookMS)

		got := readDemoAlerts(t, env.c, env.alias, env.space, r.ID, slotsBetween(start, end))
		requireSameAlerts(t, oracle.Alerts(start, end), got)
		for _, sc := range g.Scenarios() {
			require.Equal(t, keysOf(sc.ExpectedAlerts), keysOf(alertsOf(got, sc.ActorID)), "scenario %s", sc.Name)
		}
	})

	t.Run("executor slot by slot over the last day", func(t *testing.T) {
		r := builtin("executor")
		first := end.Add(-24*time.Hour + 5*time.Minute)
		slots := slotsBetween(first, end)
		env.runSlots(t, r, slots)

		got := readDemoAlerts(t, env.c, env.alias, env.space, r.ID, slots)
		want := oracle.Alerts(first, end)
		requireSameAlerts(t, want, got)
		inLastDay := 0
		for _, sc := range g.Scenarios() {
			var expected []demo.ExpectedAlert
			for _, a := range sc.ExpectedAlerts {
				if !a.Slot.Before(first) {
					expected = append(expected, a)
				}
			}
			inLastDay += len(expected)
			require.Equal(t, keysOf(expected), keysOf(alertsOf(got, sc.ActorID)), "scenario %s", sc.Name)
		}
		require.GreaterOrEqual(t, inLastDay, 3, "the last day holds several scenario alerts")
	})
}

// slotsBetween returns the 5-minute slots from first to last inclusive.
func slotsBetween(first, last time.Time) []time.Time {
	var out []time.Time
	for s := first; !s.After(last); s = s.Add(5 * time.Minute) {
		out = append(out, s)
	}
	return out
}

// readDemoAlerts reads the alerts of rule soID back as demo.ExpectedAlert:
// new term, source event.ingested, source document, and the slot whose
// execution uuid wrote the alert.
func readDemoAlerts(t *testing.T, c *elasticsearch.Client, alias, space, soID string, slots []time.Time) []demo.ExpectedAlert {
	t.Helper()
	ctx := context.Background()
	slotOf := map[string]time.Time{}
	for _, s := range slots {
		slotOf[alerts.ExecutionUUID(space, soID, s)] = s
	}
	res, err := c.Indices.Refresh(c.Indices.Refresh.WithIndex(alias), c.Indices.Refresh.WithContext(ctx))
	require.NoError(t, err)
	res.Body.Close()
	body := fmt.Sprintf(`{"size":10000,"query":{"term":{"kibana.alert.rule.uuid":%q}}}`, soID)
	res, err = c.Search(c.Search.WithContext(ctx), c.Search.WithIndex(alias), c.Search.WithBody(strings.NewReader(body)))
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.False(t, res.IsError(), "search alerts: %s", raw)
	var sr struct {
		Hits struct {
			Hits []struct {
				ID     string         `json:"_id"`
				Source map[string]any `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	require.NoError(t, json.NewDecoder(bytes.NewReader(raw)).Decode(&sr))

	var out []demo.ExpectedAlert
	for _, h := range sr.Hits.Hits {
		one := func(field string) string {
			v := randdata.Lookup(h.Source, field)
			require.Len(t, v, 1, "alert %s: %s", h.ID, field)
			return fmt.Sprint(v[0])
		}
		ingested, err := time.Parse(time.RFC3339Nano, one("event.ingested"))
		require.NoError(t, err)
		slot, ok := slotOf[one("kibana.alert.rule.execution.uuid")]
		require.True(t, ok, "alert %s: written by an execution outside the slots run", h.ID)
		a := demo.ExpectedAlert{ActorID: one("kibana.alert.new_terms"), Time: ingested, Slot: slot}
		for _, anc := range randdata.Lookup(h.Source, "kibana.alert.ancestors") {
			if m, _ := anc.(map[string]any); fmt.Sprint(m["depth"]) == "0" {
				a.Index, a.DocID = fmt.Sprint(m["index"]), fmt.Sprint(m["id"])
			}
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b demo.ExpectedAlert) int {
		return strings.Compare(alertKey(a)+a.DocID, alertKey(b)+b.DocID)
	})
	return out
}

// alertKey identifies an alert up to ties: several matching documents of an
// actor with the same event.ingested, of which Elasticsearch's top_hits (like
// Kibana's) returns any, while the oracle names the earliest @timestamp.
func alertKey(a demo.ExpectedAlert) string {
	return a.Slot.UTC().Format(time.RFC3339) + " " + a.ActorID + " " + a.Time.UTC().Format(time.RFC3339Nano) + " " + a.Index
}

func keysOf(as []demo.ExpectedAlert) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, alertKey(a))
	}
	slices.Sort(out)
	return out
}

func alertsOf(as []demo.ExpectedAlert, actorID string) []demo.ExpectedAlert {
	var out []demo.ExpectedAlert
	for _, a := range as {
		if a.ActorID == actorID {
			out = append(out, a)
		}
	}
	return out
}

// requireSameAlerts checks got against the oracle's alerts: same keys (slot,
// actor, event.ingested, index), and the same source document except in ties,
// which are logged.
func requireSameAlerts(t *testing.T, want, got []demo.ExpectedAlert) {
	t.Helper()
	require.Equal(t, keysOf(want), keysOf(got), "alerts differ from the demo oracle")
	wantID := map[string]string{}
	for _, a := range want {
		wantID[alertKey(a)] = a.DocID
	}
	for _, a := range got {
		if id := wantID[alertKey(a)]; id != a.DocID {
			t.Logf("tie: %s: source %s, oracle names %s (same event.ingested)", alertKey(a), a.DocID, id)
		}
	}
	t.Logf("%d alerts, equal to the oracle's", len(got))
}
