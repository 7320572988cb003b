//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// writeRuleFile writes the env's rule as a Kibana export NDJSON line.
func (e *serveEnv) writeRuleFile(t *testing.T) string {
	t.Helper()
	b, err := json.Marshal(e.rule)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	m["space_id"] = e.space
	b, err = json.Marshal(m)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "rule.ndjson")
	require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o600))
	return path
}

// startServeProcess starts `esrule serve` args as owner against url and waits
// until it is ready.
func startServeProcess(t *testing.T, url, owner string, args []string) *esruleProc {
	t.Helper()
	p := startEsrule(t, owner, procSpec{args: append([]string{"serve"}, args...), listen: true,
		env: []string{"ELASTICSEARCH_URL=" + url, "ESRULE_OWNER=" + owner}})
	p.waitReady(t)
	return p
}

func httpGet(url string) (int, string) {
	res, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestIntegrationServeProcess runs the real binary: endpoints, kill -9 in
// the middle of the work, restart, SIGTERM with exit 0; the alerts equal a
// slot-by-slot run.
func TestIntegrationServeProcess(t *testing.T) {
	t.Parallel()
	e := newServeEnv(t)
	args := []string{
		"--rules", e.writeRuleFile(t), "--state-index", e.stateIndex, "--log-format", "json",
		"--start-from", e.s0.Format(time.RFC3339), "--execution-timeout", "20s", "--lease-ttl", "40s",
	}
	p := startServeProcess(t, esURL, "process-test", args)
	e.waitCheckpoint(t, e.slot(2))
	p.kill(t)
	killedAt := e.ruleState(t)
	require.Equal(t, "process-test", killedAt.Lease.Owner, "kill -9 leaves the lease behind")

	// The restarted process has the same owner id (as a restarted pod does
	// with ESRULE_OWNER from its name), so it resumes at once.
	p = startServeProcess(t, esURL, "process-test", args)
	e.waitCheckpoint(t, killedAt.LastCompletedSlot.Add(3*serveInterval))
	code, body := p.get("/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, want := range []string{
		fmt.Sprintf(`esrule_executions_total{result="success",rule_id=%q,type=`, e.rule.RuleID),
		`esrule_es_request_duration_seconds_bucket{code="200",endpoint="search"`,
		fmt.Sprintf(`esrule_lease_held{rule_id=%q} 1`, e.rule.RuleID),
		"go_goroutines", "process_cpu_seconds_total",
	} {
		require.Contains(t, body, want)
	}

	p.signal(t, syscall.SIGTERM)
	require.Zero(t, p.wait(t), "SIGTERM exits 0; logs:\n%s", p.output())
	logs := p.output()
	require.Contains(t, logs, `"message":"scheduler stopped"`)
	require.False(t, strings.Contains(logs, `"log.level":"error"`), "no errors logged:\n%s", logs)
	st := e.ruleState(t)
	require.Nil(t, st.Lease)
	e.requireSameAlerts(t, *st.LastCompletedSlot)
}
