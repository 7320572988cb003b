//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// buildEsrule builds the esrule binary into a temporary directory.
func buildEsrule(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "esrule")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/esrule/esrule/cmd/esrule")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

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

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// startProcess starts `esrule serve` and waits until /readyz answers 200.
func startProcess(t *testing.T, bin, addr string, args []string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), "ELASTICSEARCH_URL="+esURL, "ESRULE_LISTEN="+addr, "ESRULE_OWNER=process-test")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, body := httpGet("http://" + addr + "/readyz")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready: %d %s\nlogs:\n%s", code, body, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	code, _ := httpGet("http://" + addr + "/healthz")
	require.Equal(t, http.StatusOK, code)
	return cmd, &logs
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
	bin := buildEsrule(t)
	addr := freeAddr(t)
	args := []string{
		"--rules", e.writeRuleFile(t), "--state-index", e.stateIndex, "--log-format", "json",
		"--start-from", e.s0.Format(time.RFC3339), "--execution-timeout", "20s", "--lease-ttl", "40s",
	}
	cmd, _ := startProcess(t, bin, addr, args)
	e.waitCheckpoint(t, e.slot(2), 60*time.Second)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	killedAt := e.ruleState(t)
	require.Equal(t, "process-test", killedAt.Lease.Owner, "kill -9 leaves the lease behind")

	// The restarted process has the same owner id (as a restarted pod does
	// with ESRULE_OWNER from its name), so it resumes at once.
	cmd, logs := startProcess(t, bin, addr, args)
	e.waitCheckpoint(t, killedAt.LastCompletedSlot.Add(3*serveInterval), 60*time.Second)
	code, body := httpGet("http://" + addr + "/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, want := range []string{
		fmt.Sprintf(`esrule_executions_total{result="success",rule_id=%q,type=`, e.rule.RuleID),
		`esrule_es_request_duration_seconds_bucket{code="200",endpoint="search"`,
		fmt.Sprintf(`esrule_lease_held{rule_id=%q} 1`, e.rule.RuleID),
		"go_goroutines", "process_cpu_seconds_total",
	} {
		require.Contains(t, body, want)
	}

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "SIGTERM exits 0; logs:\n%s", logs.String())
	case <-time.After(40 * time.Second):
		t.Fatalf("serve did not exit after SIGTERM; logs:\n%s", logs.String())
	}
	require.Contains(t, logs.String(), `"message":"scheduler stopped"`)
	require.False(t, strings.Contains(logs.String(), `"log.level":"error"`), "no errors logged:\n%s", logs.String())
	st := e.ruleState(t)
	require.Nil(t, st.Lease)
	e.requireSameAlerts(t, *st.LastCompletedSlot)
}
