//go:build integration

package integration

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/notify"
)

// TestIntegrationNotifyCrashBeforeSend: alerts written by a process that died
// before sending them (kill -9 between the alert write and the delivery) are
// delivered by the next process, once each.
func TestIntegrationNotifyCrashBeforeSend(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	alias := notifyAlertsAlias(t, c)
	hook := newReceiver(t)
	ids := notifyWriteAlerts(t, c, alias, notifyAlertOptions{first: 0, n: 6})
	// No delivery loop ran: the writer "died". A fresh process starts.
	run := runDeliverer(t, c, notifyConfig(alias, notify.Action{Name: "hook", Type: notify.TypeWebhook, URL: hook.srv.URL}))
	hook.waitDelivered(t, ids)
	run.waitRounds(t, 3)
	require.NoError(t, run.stop())
	requireOncePerID(t, hook.counts(), ids)
	require.Equal(t, len(ids), countStatus(t, c, alias, "hook", notify.StatusSent))
}

// TestIntegrationNotifyCrashAfterSend: the process dies after the receiver
// accepted a message and before the delivery was recorded. The next process
// sends that alert again once its claim expired: a naive receiver sees it
// twice, one that drops repeated Idempotency-Keys once, and nothing is lost.
func TestIntegrationNotifyCrashAfterSend(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	alias := notifyAlertsAlias(t, c)
	hook := newReceiver(t)
	ids := notifyWriteAlerts(t, c, alias, notifyAlertOptions{first: 0, n: 5})
	action := notify.Action{Name: "hook", Type: notify.TypeWebhook, URL: hook.srv.URL, MaxInFlight: 1}

	var mu sync.Mutex
	var crashedOn string
	first := notifyConfig(alias, action)
	first.Owner = "process-1"
	first.AfterSend = func(_, alertID string) error {
		mu.Lock()
		defer mu.Unlock()
		crashedOn = alertID
		return errors.New("kill -9")
	}
	run := runDeliverer(t, c, first)
	hook.waitFor(t, "the simulated crash", func() bool { mu.Lock(); defer mu.Unlock(); return crashedOn != "" })
	require.Error(t, run.stop(), "Run reports the simulated crash")
	require.Equal(t, map[string]int{crashedOn: 1}, hook.counts())
	st := notifyStates(t, c, alias, "hook")[crashedOn]
	require.Equal(t, notify.StatusSending, st["status"], "the claim stays behind")
	require.Equal(t, "process-1", st["claimed_by"])

	second := notifyConfig(alias, action)
	second.Owner = "process-2"
	second.ClaimTimeout = time.Second
	run = runDeliverer(t, c, second)
	hook.waitFor(t, "the crashed-on alert sent again and every alert delivered", func() bool {
		return hook.counts()[crashedOn] == 2 && hook.hasAll(ids)
	})
	run.waitRounds(t, 3)
	require.NoError(t, run.stop())

	naive := hook.counts()
	deduplicated := map[string]int{}
	for id, n := range naive {
		require.LessOrEqual(t, n, 2, "at most twice at a naive receiver")
		deduplicated[id] = 1
	}
	require.Equal(t, 2, naive[crashedOn])
	requireOncePerID(t, deduplicated, ids)
	require.Equal(t, len(ids), countStatus(t, c, alias, "hook", notify.StatusSent))
}

// TestIntegrationNotifySlowReceiver: a receiver slower than the timeout
// sees at most MaxInFlight requests at a time and few requests overall (the
// destination backs off); once it is fast again every alert arrives once.
func TestIntegrationNotifySlowReceiver(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	alias := notifyAlertsAlias(t, c)
	hook := newReceiver(t)
	hook.set(0, 5*time.Second)
	ids := notifyWriteAlerts(t, c, alias, notifyAlertOptions{first: 0, n: 8})

	cfg := notifyConfig(alias, notify.Action{Name: "hook", Type: notify.TypeWebhook, URL: hook.srv.URL,
		Timeout: 200 * time.Millisecond, MaxInFlight: 2, Rate: 100})
	run := runDeliverer(t, c, cfg)
	hook.waitFor(t, "8 requests to the slow receiver", func() bool { n, _ := hook.stats(); return n >= 8 })
	slowRequests, maxFlight := hook.stats()
	require.Empty(t, hook.counts(), "every request timed out")
	require.LessOrEqual(t, maxFlight, 2, "bounded in-flight requests")
	// No pile-up: request k+2 waits for a slot of request k or k+1, which
	// fails after the 200ms timeout; from the third failure on, each pauses
	// the destination for 100ms doubling to 500ms. So request 6 comes at
	// least 300ms after request 4, and request 8 at least 600ms after
	// request 6 (later on a loaded machine, never sooner); without the
	// backoff, 200ms each.
	require.GreaterOrEqual(t, hook.arrivedAt(8).Sub(hook.arrivedAt(4)), 700*time.Millisecond, "the destination backs off")
	require.Equal(t, 0, countStatus(t, c, alias, "hook", notify.StatusSent))

	hook.set(0, 0)
	hook.waitDelivered(t, ids)
	run.waitRounds(t, 2)
	require.NoError(t, run.stop())
	requireOncePerID(t, hook.counts(), ids)
	_, maxFlight = hook.stats()
	require.LessOrEqual(t, maxFlight, 2)
	st := notifyStates(t, c, alias, "hook")
	for _, id := range ids {
		require.Equal(t, notify.StatusSent, st[id]["status"])
	}
	t.Logf("slow phase: %d requests, max %d in flight", slowRequests, maxFlight)
}
