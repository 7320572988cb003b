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
	c := newClient(t)
	alias := notifyAlertsAlias(t, c)
	hook := newReceiver(t)
	ids := notifyWriteAlerts(t, c, alias, notifyAlertOptions{first: 0, n: 6})
	// No delivery loop ran: the writer "died". A fresh process starts.
	_, stop := runDeliverer(t, c, notifyConfig(alias, notify.Action{Name: "hook", Type: notify.TypeWebhook, URL: hook.srv.URL}))
	require.Eventually(t, func() bool { return hook.hasAll(ids) }, 20*time.Second, 50*time.Millisecond)
	time.Sleep(time.Second)
	require.NoError(t, stop())
	requireOncePerID(t, hook.counts(), ids)
	require.Equal(t, len(ids), countStatus(t, c, alias, "hook", notify.StatusSent))
}

// TestIntegrationNotifyCrashAfterSend: the process dies after the receiver
// accepted a message and before the delivery was recorded. The next process
// sends that alert again once its claim expired: a naive receiver sees it
// twice, one that drops repeated Idempotency-Keys once, and nothing is lost.
func TestIntegrationNotifyCrashAfterSend(t *testing.T) {
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
	_, stop := runDeliverer(t, c, first)
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return crashedOn != "" }, 20*time.Second, 20*time.Millisecond)
	require.Error(t, stop(), "Run reports the simulated crash")
	require.Equal(t, map[string]int{crashedOn: 1}, hook.counts())
	st := notifyStates(t, c, alias, "hook")[crashedOn]
	require.Equal(t, notify.StatusSending, st["status"], "the claim stays behind")
	require.Equal(t, "process-1", st["claimed_by"])

	second := notifyConfig(alias, action)
	second.Owner = "process-2"
	second.ClaimTimeout = time.Second
	_, stop = runDeliverer(t, c, second)
	require.Eventually(t, func() bool { return hook.counts()[crashedOn] == 2 && hook.hasAll(ids) }, 20*time.Second, 50*time.Millisecond)
	time.Sleep(time.Second)
	require.NoError(t, stop())

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
	c := newClient(t)
	alias := notifyAlertsAlias(t, c)
	hook := newReceiver(t)
	hook.set(0, 5*time.Second)
	ids := notifyWriteAlerts(t, c, alias, notifyAlertOptions{first: 0, n: 8})

	cfg := notifyConfig(alias, notify.Action{Name: "hook", Type: notify.TypeWebhook, URL: hook.srv.URL,
		Timeout: 200 * time.Millisecond, MaxInFlight: 2, Rate: 100})
	_, stop := runDeliverer(t, c, cfg)
	require.Eventually(t, func() bool { n, _ := hook.stats(); return n >= 2 }, 20*time.Second, 20*time.Millisecond)
	time.Sleep(3 * time.Second)
	slowRequests, maxFlight := hook.stats()
	require.Empty(t, hook.counts(), "every request timed out")
	require.LessOrEqual(t, maxFlight, 2, "bounded in-flight requests")
	// Timeout 200ms, backoff 100ms doubling to 500ms: about 14 requests in 3.5s.
	require.LessOrEqual(t, slowRequests, 20, "no pile-up: the destination backs off")
	require.Equal(t, 0, countStatus(t, c, alias, "hook", notify.StatusSent))

	hook.set(0, 0)
	require.Eventually(t, func() bool { return hook.hasAll(ids) }, 20*time.Second, 50*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	require.NoError(t, stop())
	requireOncePerID(t, hook.counts(), ids)
	_, maxFlight = hook.stats()
	require.LessOrEqual(t, maxFlight, 2)
	st := notifyStates(t, c, alias, "hook")
	for _, id := range ids {
		require.Equal(t, notify.StatusSent, st[id]["status"])
	}
	t.Logf("slow phase: %d requests, max %d in flight", slowRequests, maxFlight)
}
