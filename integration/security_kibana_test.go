//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/rule"
)

// TestIntegrationSecurityKibanaTarget proves the roles of --alerts-target
// kibana (deploy/roles/esrule-setup-kibana.json, esrule-runner-kibana.json)
// against Elasticsearch with security on: setup checks Kibana's alias and
// adds the notification mapping, run writes alerts into Kibana's Security
// alerts index and a tick delivers their notifications; the runner cannot
// create or delete Kibana's indices.
func TestIntegrationSecurityKibanaTarget(t *testing.T) {
	t.Parallel()
	es := requireSecureES(t)
	runner := fileRealmUser{name: "esrule-test-runner-kbn", password: randomSecret(), role: "esrule-runner-kibana"}
	setup := fileRealmUser{name: "esrule-test-setup-kbn", password: randomSecret(), role: "esrule-setup-kibana"}
	es.provisionFileRealm(t, []string{"esrule-runner-kibana", "esrule-setup-kibana"}, []fileRealmUser{runner, setup})
	env := func(u fileRealmUser) map[string]string {
		return map[string]string{"ELASTICSEARCH_URL": es.url, "ELASTICSEARCH_CA_CERT": es.ca,
			"ELASTICSEARCH_USERNAME": u.name, "ELASTICSEARCH_PASSWORD": u.password, "ESRULE_ALERTS_TARGET": "kibana"}
	}

	suffix := randomSecret()[:8]
	space := "sec-" + suffix
	stateIndex := "esrule-state" // the roles name it
	source := "logs-okta.system-esrulekbn-" + suffix
	index := ".internal.alerts-security.alerts-" + space + "-000001"
	alias := mappings.KibanaAlertsAlias(space)
	t.Cleanup(func() {
		es.do(t, "", http.MethodDelete, "/"+source, nil)
		es.do(t, "", http.MethodDelete, "/"+index, nil)
	})

	// Kibana's alerts index and alias, created as Kibana (the superuser) would.
	var body map[string]any
	require.NoError(t, json.Unmarshal(mappings.KibanaSecurityAlertsIndex(), &body))
	body["settings"].(map[string]any)["index"].(map[string]any)["number_of_replicas"] = 0
	body["aliases"] = map[string]any{alias: map[string]any{"is_write_index": true, "is_hidden": true}}
	status, b := es.do(t, "", http.MethodPut, "/"+index, body)
	require.Equal(t, http.StatusOK, status, string(b))

	zero := 0
	require.NoError(t, mappings.EnsureOktaDemo(context.Background(), es.super, &zero))
	slot := time.Now().UTC().Truncate(5 * time.Minute).Add(-5 * time.Minute)
	for i := range 3 {
		at := slot.Add(-time.Duration(i+1) * time.Minute).Format(time.RFC3339)
		status, b := es.do(t, "", http.MethodPost, "/"+source+"/_doc?refresh=true", map[string]any{
			"@timestamp": at,
			"event":      map[string]any{"dataset": "okta.system", "ingested": at},
			"okta": map[string]any{
				"event_type":       "user.session.start",
				"security_context": map[string]any{"is_proxy": true},
				"actor":            map[string]any{"id": fmt.Sprintf("00u-kbn-%s-%d", suffix, i)},
			},
		})
		require.Equal(t, http.StatusCreated, status, string(b))
	}
	r := *rule.Builtin()
	r.ID, r.Space, r.Index = "kbn-"+suffix, space, []string{source}
	rulesFile := spaceRuleFile(t, &r, space)

	t.Run("setup with the esrule-setup-kibana role", func(t *testing.T) {
		res := runESRule(t, env(setup), "setup", "--space", space, "--replicas", "0")
		require.Equal(t, 0, res.code, res.stderr)
		require.Contains(t, res.stdout, "alias "+alias+" (Kibana's): unchanged")
		require.Contains(t, res.stdout, "(esrule.notify): present")
	})

	t.Run("run with the esrule-runner-kibana role", func(t *testing.T) {
		res := runESRule(t, env(runner), "run", "--rules", rulesFile, "--at", slot.Format(time.RFC3339))
		require.Equal(t, 0, res.code, res.stderr)
		m := summaryCreated.FindStringSubmatch(res.stdout)
		require.NotNil(t, m, res.stdout)
		require.Equal(t, "3", m[1], res.stdout)
	})

	t.Run("backfill with the esrule-runner-kibana role", func(t *testing.T) {
		res := runESRule(t, env(runner), "backfill", "--rules", rulesFile, "--from", slot.Add(-15*time.Minute).Format(time.RFC3339),
			"--to", slot.Format(time.RFC3339), "--force", "--progress", "none")
		require.Equal(t, 0, res.code, res.stderr)
	})

	t.Run("a tick delivers notifications with the runner role", func(t *testing.T) {
		var mu sync.Mutex
		got := map[string]bool{}
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			var p struct {
				AlertID string `json:"alert_id"`
				Index   string `json:"index"`
				Link    string `json:"link"`
			}
			_ = json.Unmarshal(b, &p)
			mu.Lock()
			got[p.AlertID] = true
			mu.Unlock()
			require.Contains(t, p.Link, "/s/"+space+"/app/security/alerts/redirect/"+p.AlertID+"?index=.alerts-security.alerts-"+space)
		}))
		defer recv.Close()
		actions := filepath.Join(t.TempDir(), "actions.toml")
		require.NoError(t, os.WriteFile(actions, []byte(fmt.Sprintf(`
[[action]]
name = "siem"
type = "webhook"
url = %q
link_template = '{{.KibanaURL "https://kibana.example.com"}}'
`, recv.URL)), 0o600))
		res := runESRule(t, env(runner), "run", "--rules", rulesFile, "--actions", actions, "--state-index", stateIndex,
			"--start-from", slot.Format(time.RFC3339), "--max-catchup", "30m")
		require.Equal(t, 0, res.code, res.stderr)
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, got, 3, "every alert notified: %s", res.stderr)
	})

	t.Run("the runner cannot create or delete Kibana's indices", func(t *testing.T) {
		auth := basicAuth(runner.name, runner.password)
		status, b := es.do(t, auth, http.MethodPut, "/.internal.alerts-security.alerts-"+space+"-000002", nil)
		require.Equal(t, http.StatusForbidden, status, string(b))
		status, b = es.do(t, auth, http.MethodDelete, "/"+index, nil)
		require.Equal(t, http.StatusForbidden, status, string(b))
	})
}
