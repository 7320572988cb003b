package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/esrule/esrule/internal/estest"

	"github.com/stretchr/testify/require"
)

// TestRulesListState: rules list --state shows the checkpoint, the lease
// and the open gap read from the state index.
func TestRulesListState(t *testing.T) {
	estest.ClearESEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		require.Equal(t, "/my-state/_doc/default:"+builtinID, r.URL.Path)
		_, _ = w.Write([]byte(`{"found":true,"_seq_no":7,"_primary_term":1,"_source":{
			"rule_id":"x","last_completed_slot":"2026-01-02T03:05:00Z","last_status":"succeeded",
			"lease":{"owner":"pod-1","expires_at":"2026-01-02T03:06:00Z"},
			"gap":{"from":"2026-01-01T00:00:00Z","to":"2026-01-01T06:00:00Z"}}}`))
	}))
	defer srv.Close()
	t.Setenv("ELASTICSEARCH_URL", srv.URL)
	code, out, errOut := runCLI(t, "rules", "list", "--state", "--state-index", "my-state")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, out)
	for _, want := range []string{"LAST_COMPLETED_SLOT", "LEASE", "OPEN_GAP"} {
		require.Contains(t, lines[0], want)
	}
	for _, want := range []string{"2026-01-02T03:05:00Z", "succeeded", "pod-1 until 2026-01-02T03:06:00Z",
		"(2026-01-01T00:00:00Z, 2026-01-01T06:00:00Z] 6h0m0s"} {
		require.Contains(t, lines[1], want)
	}
}

// TestRulesListStateJSON: with --format json the state document is under
// "state", null for a rule that never ran.
func TestRulesListStateJSON(t *testing.T) {
	estest.ClearESEnv(t)
	found := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		if !found {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"found":false}`))
			return
		}
		_, _ = w.Write([]byte(`{"found":true,"_seq_no":7,"_primary_term":1,"_source":{
			"rule_id":"x","last_completed_slot":"2026-01-02T03:05:00Z","last_status":"succeeded"}}`))
	}))
	defer srv.Close()
	t.Setenv("ELASTICSEARCH_URL", srv.URL)
	code, out, errOut := runCLI(t, "rules", "list", "--state", "--format", "json")
	require.Equal(t, 0, code, errOut)
	var l map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &l))
	require.Equal(t, builtinID, l["rule_id"])
	require.Equal(t, "2026-01-02T03:05:00Z", l["state"].(map[string]any)["last_completed_slot"])

	found = false
	code, out, errOut = runCLI(t, "rules", "list", "--state", "--format", "json")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, `"state":null`)

	code, out, _ = runCLI(t, "rules", "list", "--format", "json")
	require.Equal(t, 0, code)
	require.NotContains(t, out, `"state"`, "no state without --state")
}
