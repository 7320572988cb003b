//go:build integration

package integration

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/notify"
	"github.com/esrule/esrule/rule"
)

// TestIntegrationNotifyDelivers: a webhook and a Slack action each get every
// scheduled alert once, with its facts; alerts of a manual execution are
// delivered only when backfill asked for it; a rewrite of the same alerts
// (409) notifies nothing; an action for another rule gets nothing; the
// delivery state is on the alerts and searchable.
func TestIntegrationNotifyDelivers(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	alias := notifyAlertsAlias(t, c)
	hook, slack, other := newReceiver(t), newReceiver(t), newReceiver(t)

	scheduled := notifyWriteAlerts(t, c, alias, notifyAlertOptions{first: 0, n: 5})
	notifyWriteAlerts(t, c, alias, notifyAlertOptions{first: 100, n: 2, manual: true})
	requested := notifyWriteAlerts(t, c, alias, notifyAlertOptions{first: 200, n: 2, manual: true, requested: true})
	require.Len(t, scheduled, 5)
	want := append(append([]string{}, scheduled...), requested...)

	cfg := notifyConfig(alias,
		notify.Action{Name: "hook", Type: notify.TypeWebhook, URL: hook.srv.URL, Rules: []string{rule.Builtin().RuleID},
			Headers: map[string]string{"Authorization": "Bearer t"}, LinkTemplate: "https://kibana.example.com/app/security/alerts/redirect/{{.AlertID}}?index={{.Index}}"},
		notify.Action{Name: "soc-slack", Type: notify.TypeSlack, URL: slack.srv.URL, Rules: []string{"*"}, Rate: 50},
		notify.Action{Name: "other", Type: notify.TypeWebhook, URL: other.srv.URL, Rules: []string{"some-other-rule"}},
	)
	run := runDeliverer(t, c, cfg)
	hook.waitDelivered(t, want)
	slack.waitDelivered(t, want)

	// A rewrite of the same alerts is a 409: nothing new to notify.
	require.Empty(t, notifyWriteAlerts(t, c, alias, notifyAlertOptions{first: 0, n: 5}))
	run.waitRounds(t, 3)
	require.NoError(t, run.stop())

	requireOncePerID(t, hook.counts(), want)
	requireOncePerID(t, slack.counts(), want)
	require.Empty(t, other.counts())
	require.Equal(t, len(want), countStatus(t, c, alias, "hook", notify.StatusSent))
	require.Equal(t, len(want), countStatus(t, c, alias, "soc-slack", notify.StatusSent))

	body := hook.bodies[scheduled[0]]
	require.Equal(t, "hook", body["action"])
	require.Equal(t, scheduled[0], body["alert_id"])
	require.Equal(t, rule.Builtin().Name, body["rule_name"])
	require.Equal(t, rule.Builtin().RuleID, body["rule_id"])
	require.Equal(t, "203.0.113.77", body["source_ip"])
	require.Equal(t, []any{"00u0000"}, body["new_terms"])
	require.Equal(t, "00u0000@example.com", body["actor"].(map[string]any)["alternate_id"])
	require.Contains(t, body["link"], "/alerts/redirect/"+scheduled[0]+"?index="+alias)
	require.Equal(t, "Bearer t", hook.headers[scheduled[0]].Get("Authorization"))
	require.Contains(t, slack.bodies[scheduled[0]], "blocks")

	states := notifyStates(t, c, alias, "hook")
	st := states[scheduled[0]]
	require.Equal(t, notify.StatusSent, st["status"])
	require.EqualValues(t, 1, st["attempts"])
	require.NotEmpty(t, st["sent_at"])
	require.Nil(t, st["claimed_by"])
}

// TestIntegrationNotifyWake: with a long interval and no refresh, Wake with
// the created ids delivers at once.
func TestIntegrationNotifyWake(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	alias := notifyAlertsAlias(t, c)
	hook := newReceiver(t)
	cfg := notifyConfig(alias, notify.Action{Name: "hook", Type: notify.TypeWebhook, URL: hook.srv.URL})
	cfg.Interval = time.Hour
	run := runDeliverer(t, c, cfg)
	run.waitRounds(t, 1) // the first round has run (nothing to send); the next is in an hour

	ids := notifyWriteAlerts(t, c, alias, notifyAlertOptions{first: 0, n: 3, refresh: "false"})
	run.d.Wake(ids)
	hook.waitDelivered(t, ids)
}

// TestIntegrationNotifyReceiverDownThenUp: while the receiver answers 503,
// nothing is lost and the destination is not hammered; after it recovers,
// every alert is delivered once. A permanent 4xx is recorded and not retried.
func TestIntegrationNotifyReceiverDownThenUp(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	alias := notifyAlertsAlias(t, c)
	hook, gone := newReceiver(t), newReceiver(t)
	hook.set(http.StatusServiceUnavailable, 0)
	gone.set(http.StatusNotFound, 0)
	ids := notifyWriteAlerts(t, c, alias, notifyAlertOptions{first: 0, n: 4})

	cfg := notifyConfig(alias,
		notify.Action{Name: "hook", Type: notify.TypeWebhook, URL: hook.srv.URL, MaxInFlight: 1},
		notify.Action{Name: "gone", Type: notify.TypeWebhook, URL: gone.srv.URL, MaxInFlight: 1},
	)
	run := runDeliverer(t, c, cfg)
	// Three failures in a row pause the destination for MinBackoff (100ms),
	// doubling with every further failure: one request at a time, the
	// fourth, fifth and sixth come at least 100, 200 and 400ms after the
	// one before (later on a loaded machine, never sooner).
	hook.waitFor(t, "6 requests to the receiver that is down", func() bool { n, _ := hook.stats(); return n >= 6 })
	require.Empty(t, hook.counts())
	for k, backoff := range map[int]time.Duration{4: 100 * time.Millisecond, 5: 200 * time.Millisecond, 6: 400 * time.Millisecond} {
		require.GreaterOrEqual(t, hook.arrivedAt(k).Sub(hook.arrivedAt(k-1)), backoff, "request %d: the destination backs off", k)
	}
	require.Equal(t, 0, countStatus(t, c, alias, "hook", notify.StatusSent))
	require.GreaterOrEqual(t, countStatus(t, c, alias, "hook", notify.StatusPending), 1)

	hook.set(http.StatusOK, 0)
	hook.waitDelivered(t, ids)
	gone.waitFor(t, "every alert failed at the 404 receiver", func() bool {
		return countStatus(t, c, alias, "gone", notify.StatusFailed) == len(ids)
	})
	run.waitRounds(t, 2)
	require.NoError(t, run.stop())
	requireOncePerID(t, hook.counts(), ids)
	require.Equal(t, len(ids), countStatus(t, c, alias, "hook", notify.StatusSent))

	// 404: failed on the first attempt, recorded, never retried.
	goneRequests, _ := gone.stats()
	require.Equal(t, len(ids), goneRequests)
	require.Equal(t, len(ids), countStatus(t, c, alias, "gone", notify.StatusFailed))
	st := notifyStates(t, c, alias, "gone")[ids[0]]
	require.Equal(t, "status 404: receiver says no", st["last_error"])
	require.EqualValues(t, 1, st["attempts"])
	hookState := notifyStates(t, c, alias, "hook")
	attempts := 0
	for _, id := range ids {
		attempts = max(attempts, int(hookState[id]["attempts"].(float64)))
	}
	require.Greater(t, attempts, 1, "some alert was tried while the receiver was down")
}

// TestIntegrationNotifyTwoReplicas: two serve replicas run the delivery loop
// on the same alerts; the claims (if_seq_no) let each alert go out once.
func TestIntegrationNotifyTwoReplicas(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	alias := notifyAlertsAlias(t, c)
	hook := newReceiver(t)
	hook.set(0, 50*time.Millisecond) // overlap the replicas' rounds
	ids := notifyWriteAlerts(t, c, alias, notifyAlertOptions{first: 0, n: 20})
	action := notify.Action{Name: "hook", Type: notify.TypeWebhook, URL: hook.srv.URL, Rate: 1000}
	a, b := notifyConfig(alias, action), notifyConfig(alias, action)
	a.Owner, b.Owner = "replica-a", "replica-b"
	runA := runDeliverer(t, c, a)
	runB := runDeliverer(t, c, b)
	hook.waitDelivered(t, ids)
	runA.waitRounds(t, 2)
	runB.waitRounds(t, 2)
	require.NoError(t, runA.stop())
	require.NoError(t, runB.stop())
	requireOncePerID(t, hook.counts(), ids)
	require.Equal(t, len(ids), countStatus(t, c, alias, "hook", notify.StatusSent))
}

// TestIntegrationNotifyRunOnce: the one-shot round of esrule run delivers
// alerts just written (no refresh yet), and a second round sends nothing.
func TestIntegrationNotifyRunOnce(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	alias := notifyAlertsAlias(t, c)
	hook := newReceiver(t)
	ids := notifyWriteAlerts(t, c, alias, notifyAlertOptions{first: 0, n: 3, refresh: "false"})
	d, err := notify.New(c, notifyConfig(alias, notify.Action{Name: "hook", Type: notify.TypeWebhook, URL: hook.srv.URL}))
	require.NoError(t, err)
	require.NoError(t, d.RunOnce(context.Background()))
	require.NoError(t, d.RunOnce(context.Background()))
	requireOncePerID(t, hook.counts(), ids)
}

// TestIntegrationNotifyRunOnceFlakyReceiver: a receiver that fails every
// seventh request does not stop the round; the failed alerts are sent again
// with backoff, so one round of esrule run delivers everything, once.
func TestIntegrationNotifyRunOnceFlakyReceiver(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	alias := notifyAlertsAlias(t, c)
	hook := newReceiver(t)
	hook.mu.Lock()
	hook.failEvery = 7
	hook.mu.Unlock()
	ids := notifyWriteAlerts(t, c, alias, notifyAlertOptions{first: 0, n: 30})
	d, err := notify.New(c, notifyConfig(alias, notify.Action{Name: "hook", Type: notify.TypeWebhook, URL: hook.srv.URL, MaxInFlight: 1, Rate: 1000}))
	require.NoError(t, err)
	require.NoError(t, d.RunOnce(context.Background()))
	requests, _ := hook.stats()
	require.Greater(t, requests, len(ids), "some requests failed")
	requireOncePerID(t, hook.counts(), ids)
	require.Equal(t, len(ids), countStatus(t, c, alias, "hook", notify.StatusSent))
}
