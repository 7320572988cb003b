//go:build integration

package integration

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/state"
)

// waitLeaseOwner waits until the rule's lease names one of owners and
// returns it.
func (e *serveEnv) waitLeaseOwner(t *testing.T, owners ...string) string {
	t.Helper()
	var holder string
	waitFor(t, fmt.Sprintf("lease held by one of %v", owners), func() (bool, string) {
		st := e.ruleState(t)
		if st.Lease != nil && slices.Contains(owners, st.Lease.Owner) {
			holder = st.Lease.Owner
			return true, ""
		}
		return false, describeState(st)
	})
	return holder
}

// TestIntegrationFaultsProcessKills: two `esrule serve` processes run one
// rule through the fault proxy (5% of requests fail in one of the five
// ways). At seeded moments the lease holder is killed with SIGKILL (and
// restarted under a new name) or paused with SIGSTOP past its lease TTL and
// resumed: the other process takes over, and a resumed process finds its
// lease lost (fencing) and writes nothing. In the end the alerts are exactly
// those of a clean slot-by-slot run.
func TestIntegrationFaultsProcessKills(t *testing.T) {
	t.Parallel()
	e := newServeEnv(t)
	seed := faultSeed(t)
	proxy := newFaultProxy(t, seed, 0.05, 5*time.Second)
	args := []string{
		"--rules", e.writeRuleFile(t), "--state-index", e.stateIndex, "--log-format", "json",
		"--start-from", e.s0.Format(time.RFC3339), "--execution-timeout", "20s", "--lease-ttl", "3s",
	}
	procs := map[string]*esruleProc{}
	start := func(owner string) { procs[owner] = startServeProcess(t, proxy.URL, owner, args) }
	start("a-0")
	start("b-0")
	rnd := rand.New(rand.NewPCG(seed, 17))
	generation := map[string]int{"a": 0, "b": 0}
	paused := 0
	for i := range 4 {
		// Each event comes at once or after the processes completed one
		// more slot (seeded), whenever that is on this machine.
		e.waitProgress(t, rnd.IntN(2))
		var names []string
		for name := range procs {
			names = append(names, name)
		}
		holder := e.waitLeaseOwner(t, names...)
		p := procs[holder]
		// The first event pauses the holder, the second kills it; then chance.
		if i == 1 || i > 1 && rnd.IntN(2) == 0 {
			t.Logf("kill -9 %s", holder)
			p.kill(t)
			delete(procs, holder)
			side := holder[:1]
			generation[side]++
			start(side + "-" + string(rune('0'+generation[side])))
			continue
		}
		t.Logf("SIGSTOP %s past its lease TTL", holder)
		p.signal(t, syscall.SIGSTOP)
		var others []string
		for name := range procs {
			if name != holder {
				others = append(others, name)
			}
		}
		e.waitLeaseOwner(t, others...)
		p.signal(t, syscall.SIGCONT)
		paused++
		p.waitOutput(t, "rule lease lost") // the resumed process finds its lease lost
	}
	proxy.setRate(0)
	e.waitProgress(t, 2)
	for _, p := range procs {
		p.signal(t, syscall.SIGTERM)
	}
	for name, p := range procs {
		require.Zero(t, p.wait(t), "%s exits 0 on SIGTERM", name)
	}
	requests, injected := proxy.stats()
	t.Logf("requests %d, injected %v, pauses %d", requests, injected, paused)
	st := e.ruleState(t)
	require.Nil(t, st.Lease, "SIGTERM releases the lease")
	e.requireSameAlerts(t, *st.LastCompletedSlot)
	for name, p := range procs {
		require.NotContains(t, p.output(), state.ErrConflict.Error(), "%s: no write conflicted", name)
	}
}

// TestIntegrationTakeoverAfterKill: after kill -9 of the lease holder, the
// standby replica takes the lease once it expires and completes the next
// slot. The lease TTL is short (3 s) so that the test need not wait for the
// default's 30 s; the takeover time it logs is the TTL plus the clock skew
// allowance by construction.
func TestIntegrationTakeoverAfterKill(t *testing.T) {
	t.Parallel()
	e := newServeEnv(t)
	args := []string{
		"--rules", e.writeRuleFile(t), "--state-index", e.stateIndex, "--log-format", "json",
		"--start-from", e.s0.Format(time.RFC3339), "--execution-timeout", "20s", "--lease-ttl", "3s",
	}
	a := startServeProcess(t, esURL, "holder", args)
	e.waitLeaseOwner(t, "holder")
	startServeProcess(t, esURL, "standby", args)
	e.waitCheckpoint(t, e.slot(2))
	killed := time.Now()
	a.kill(t)
	at := e.ruleState(t)
	e.waitLeaseOwner(t, "standby")
	acquired := time.Since(killed)
	e.waitCheckpoint(t, at.LastCompletedSlot.Add(serveInterval))
	t.Logf("takeover after kill -9 with --lease-ttl 3s: lease taken after %s, first slot completed after %s",
		acquired.Round(10*time.Millisecond), time.Since(killed).Round(10*time.Millisecond))
}

// TestIntegrationRunReclaimsKilledRunsLease: an `esrule run` (the CronJob
// form) killed while it holds a rule's lease leaves the lease behind; the
// next run sees that its heartbeat stopped, waits for it to expire and
// executes the rule instead of skipping it.
func TestIntegrationRunReclaimsKilledRunsLease(t *testing.T) {
	t.Parallel()
	e := newServeEnv(t)
	// Every search through the proxy hangs: a run takes the lease, then
	// waits on its first search.
	proxy := newFaultProxy(t, faultSeed(t), 1, 5*time.Minute)
	proxy.mu.Lock()
	proxy.kinds = []fault{faultHang}
	proxy.match = func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/_search") }
	proxy.mu.Unlock()
	args := []string{
		"run", "--rules", e.writeRuleFile(t), "--state-index", e.stateIndex, "--log-format", "json",
		"--start-from", e.s0.Format(time.RFC3339), "--lease-ttl", "3s", "--execution-timeout", "20s",
	}
	first := startEsrule(t, "run-1", procSpec{args: args, env: []string{"ELASTICSEARCH_URL=" + proxy.URL, "ESRULE_OWNER=run-1"}})
	e.waitLeaseOwner(t, "run-1")
	waitFor(t, "the first run reaches its searches", func() (bool, string) {
		requests, injected := proxy.stats()
		return injected[faultHang] > 0, fmt.Sprintf("proxy requests %d; %s", requests, first.progress())
	})
	first.kill(t)
	killed := time.Now()
	require.Equal(t, "run-1", e.ruleState(t).Lease.Owner, "the killed run leaves its lease")

	second := runEsruleSpec(t, "run-2", procSpec{args: args, env: []string{"ELASTICSEARCH_URL=" + esURL, "ESRULE_OWNER=run-2"}})
	out := second.stderr + second.stdout
	require.Zero(t, second.code, "the next run exits 0:\n%s", out)
	require.Contains(t, out, "or for the lease to expire to take over")
	require.NotContains(t, out, "rule skipped")
	st := e.ruleState(t)
	require.Nil(t, st.Lease, "the run released the lease")
	require.NotNil(t, st.LastCompletedSlot)
	t.Logf("the next run took the rule over %s after the kill", time.Since(killed).Round(10*time.Millisecond))
	e.requireSameAlerts(t, *st.LastCompletedSlot)
}
