//go:build integration

package integration

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/state"
)

// syncBuffer is a log buffer a process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveProcess is one `esrule serve` process of a test.
type serveProcess struct {
	owner string
	cmd   *exec.Cmd
	logs  *syncBuffer
	done  chan error
}

// startServeProcess starts `esrule serve` as owner against url and waits
// until it is ready.
func startServeProcess(t *testing.T, bin, url, owner string, args []string) *serveProcess {
	t.Helper()
	addr := freeAddr(t)
	p := &serveProcess{owner: owner, logs: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin, append([]string{"serve"}, args...)...)
	p.cmd.Env = append(os.Environ(), "ELASTICSEARCH_URL="+url, "ESRULE_LISTEN="+addr, "ESRULE_OWNER="+owner)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	require.NoError(t, p.cmd.Start())
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("logs of %s:\n%s", owner, p.logs.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if code, _ := httpGet("http://" + addr + "/readyz"); code == http.StatusOK {
			return p
		}
		require.True(t, time.Now().Before(deadline), "serve %s not ready; logs:\n%s", owner, p.logs.String())
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *serveProcess) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.done
	p.done <- nil // Cleanup waits again
}

// waitLeaseOwner waits until the rule's lease names one of owners and
// returns it.
func (e *serveEnv) waitLeaseOwner(t *testing.T, limit time.Duration, owners ...string) string {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if l := e.ruleState(t).Lease; l != nil {
			for _, o := range owners {
				if l.Owner == o {
					return o
				}
			}
		}
		require.True(t, time.Now().Before(deadline), "no lease held by %v within %s", owners, limit)
		time.Sleep(20 * time.Millisecond)
	}
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
	bin := buildEsrule(t)
	args := []string{
		"--rules", e.writeRuleFile(t), "--state-index", e.stateIndex, "--log-format", "json",
		"--start-from", e.s0.Format(time.RFC3339), "--execution-timeout", "20s", "--lease-ttl", "3s",
	}
	procs := map[string]*serveProcess{}
	start := func(owner string) { procs[owner] = startServeProcess(t, bin, proxy.URL, owner, args) }
	start("a-0")
	start("b-0")
	rnd := rand.New(rand.NewPCG(seed, 17))
	generation := map[string]int{"a": 0, "b": 0}
	paused := 0
	for i := range 4 {
		time.Sleep(time.Duration(1000+rnd.IntN(3000)) * time.Millisecond)
		var names []string
		for name := range procs {
			names = append(names, name)
		}
		holder := e.waitLeaseOwner(t, 60*time.Second, names...)
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
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGSTOP))
		var others []string
		for name := range procs {
			if name != holder {
				others = append(others, name)
			}
		}
		e.waitLeaseOwner(t, 60*time.Second, others...)
		time.Sleep(500 * time.Millisecond)
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGCONT))
		paused++
		require.Eventually(t, func() bool { return strings.Contains(p.logs.String(), "rule lease lost") },
			30*time.Second, 50*time.Millisecond, "the resumed process finds its lease lost")
	}
	proxy.setRate(0)
	last := e.slot(0)
	if st := e.ruleState(t); st.LastCompletedSlot != nil {
		last = *st.LastCompletedSlot
	}
	e.waitCheckpoint(t, last.Add(3*serveInterval), 90*time.Second)
	for _, p := range procs {
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	}
	for name, p := range procs {
		select {
		case err := <-p.done:
			require.NoError(t, err, "%s exits 0 on SIGTERM", name)
			p.done <- nil
		case <-time.After(60 * time.Second):
			t.Fatalf("%s did not exit after SIGTERM", name)
		}
	}
	requests, injected := proxy.stats()
	t.Logf("requests %d, injected %v, pauses %d", requests, injected, paused)
	st := e.ruleState(t)
	require.Nil(t, st.Lease, "SIGTERM releases the lease")
	e.requireSameAlerts(t, *st.LastCompletedSlot)
	for name, p := range procs {
		require.NotContains(t, p.logs.String(), state.ErrConflict.Error(), "%s: no write conflicted", name)
	}
}

// TestIntegrationTakeoverAfterKill measures the takeover time after kill -9
// of the lease holder with the default lease settings: the time from the
// kill until the other replica holds the lease and has completed a slot.
func TestIntegrationTakeoverAfterKill(t *testing.T) {
	t.Parallel()
	e := newServeEnv(t)
	bin := buildEsrule(t)
	args := []string{
		"--rules", e.writeRuleFile(t), "--state-index", e.stateIndex, "--log-format", "json",
		"--start-from", e.s0.Format(time.RFC3339), "--execution-timeout", "20s",
	}
	a := startServeProcess(t, bin, esURL, "holder", args)
	e.waitLeaseOwner(t, 60*time.Second, "holder")
	startServeProcess(t, bin, esURL, "standby", args)
	e.waitCheckpoint(t, e.slot(2), 60*time.Second)
	killed := time.Now()
	a.kill(t)
	at := e.ruleState(t)
	e.waitLeaseOwner(t, 120*time.Second, "standby")
	acquired := time.Since(killed)
	e.waitCheckpoint(t, at.LastCompletedSlot.Add(serveInterval), 120*time.Second)
	t.Logf("takeover after kill -9 with default settings: lease taken after %s, first slot completed after %s",
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
	bin := buildEsrule(t)
	args := []string{
		"run", "--rules", e.writeRuleFile(t), "--state-index", e.stateIndex, "--log-format", "json",
		"--start-from", e.s0.Format(time.RFC3339), "--lease-ttl", "3s", "--execution-timeout", "20s",
	}
	logs := &syncBuffer{}
	first := exec.Command(bin, args...)
	first.Env = append(os.Environ(), "ELASTICSEARCH_URL="+proxy.URL, "ESRULE_OWNER=run-1")
	first.Stdout, first.Stderr = logs, logs
	require.NoError(t, first.Start())
	done := make(chan error, 1)
	go func() { done <- first.Wait() }()
	e.waitLeaseOwner(t, 60*time.Second, "run-1")
	require.Eventually(t, func() bool { _, injected := proxy.stats(); return injected[faultHang] > 0 },
		60*time.Second, 10*time.Millisecond, "the first run reaches its searches")
	require.NoError(t, first.Process.Signal(syscall.SIGKILL))
	<-done
	killed := time.Now()
	require.Equal(t, "run-1", e.ruleState(t).Lease.Owner, "the killed run leaves its lease")

	second := exec.Command(bin, args...)
	second.Env = append(os.Environ(), "ELASTICSEARCH_URL="+esURL, "ESRULE_OWNER=run-2")
	out, err := second.CombinedOutput()
	require.NoError(t, err, "the next run exits 0:\n%s", out)
	require.Contains(t, string(out), "or for the lease to expire to take over")
	require.NotContains(t, string(out), "rule skipped")
	st := e.ruleState(t)
	require.Nil(t, st.Lease, "the run released the lease")
	require.NotNil(t, st.LastCompletedSlot)
	t.Logf("the next run took the rule over %s after the kill", time.Since(killed).Round(10*time.Millisecond))
	e.requireSameAlerts(t, *st.LastCompletedSlot)
}
