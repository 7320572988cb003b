//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/mappings"
)

// TestIntegrationSecurityRunnerRole proves that deploy/roles/esrule-runner.json
// is enough, and no more than needed, for everything a runner does: run,
// backfill and serve with notifications (claims and delivery states are
// updates of the alerts), /readyz (cluster health). It also shows the
// failures the issue-15 hardening makes loud: a role without the index
// privilege on the alerts cannot record delivery states (exit 1, nothing
// sent), a rule over an index the runner cannot read fails naming the
// privilege, and setup refuses a space before installing anything.
func TestIntegrationSecurityRunnerRole(t *testing.T) {
	t.Parallel()
	es := requireSecureES(t)
	ctx := context.Background()

	// The runner role as it was: create_doc instead of index on the alerts.
	b, err := os.ReadFile("../deploy/roles/esrule-runner.json")
	require.NoError(t, err)
	var noUpdate map[string]any
	require.NoError(t, json.Unmarshal(b, &noUpdate))
	for _, e := range noUpdate["indices"].([]any) {
		entry := e.(map[string]any)
		if entry["names"].([]any)[0] == "esrule-alerts-*" {
			entry["privileges"] = []any{"read", "create_doc", "maintenance", "view_index_metadata"}
		}
	}
	noUpdateJSON, err := json.Marshal(noUpdate)
	require.NoError(t, err)
	es.extraRoles = map[string]string{"esrule-test-no-update": string(noUpdateJSON)}

	runner := fileRealmUser{name: "esrule-test-runner2", password: randomSecret(), role: "esrule-runner"}
	setup := fileRealmUser{name: "esrule-test-setup2", password: randomSecret(), role: "esrule-setup"}
	weak := fileRealmUser{name: "esrule-test-no-update", password: randomSecret(), role: "esrule-test-no-update"}
	es.provisionFileRealm(t, []string{"esrule-runner", "esrule-setup", "esrule-test-no-update"}, []fileRealmUser{runner, setup, weak})
	env := func(u fileRealmUser) map[string]string {
		return map[string]string{"ELASTICSEARCH_URL": es.url, "ELASTICSEARCH_CA_CERT": es.ca,
			"ELASTICSEARCH_USERNAME": u.name, "ELASTICSEARCH_PASSWORD": u.password}
	}

	// The exact privileges of the runner: three cluster actions instead of
	// monitor, index on the alerts.
	var role struct {
		Cluster []string `json:"cluster"`
		Indices []struct {
			Names      []string `json:"names"`
			Privileges []string `json:"privileges"`
		} `json:"indices"`
	}
	require.NoError(t, json.Unmarshal(b, &role))
	require.Equal(t, []string{"cluster:monitor/health", "cluster:monitor/main", "cluster:monitor/nodes/info"}, role.Cluster)

	zero := 0
	require.NoError(t, mappings.EnsureOktaDemo(ctx, es.super, &zero))
	suffix := randomSecret()[:8]
	source := "logs-okta.system-esrulerole-" + suffix
	t.Cleanup(func() { es.do(t, "", http.MethodDelete, "/"+source, nil) })
	slot := time.Now().UTC().Truncate(5 * time.Minute).Add(-5 * time.Minute)
	for i := range 3 {
		at := slot.Add(-time.Duration(i+1) * time.Minute).Format(time.RFC3339)
		status, body := es.do(t, "", http.MethodPost, "/"+source+"/_doc?refresh=true", map[string]any{
			"@timestamp": at,
			"event":      map[string]any{"dataset": "okta.system", "ingested": at},
			"cloud":      map[string]any{"account": map[string]any{"id": "acct-" + suffix}},
			"okta": map[string]any{
				"event_type":       "user.session.start",
				"security_context": map[string]any{"is_proxy": true},
				"actor":            map[string]any{"id": fmt.Sprintf("00u-role-%s-%d", suffix, i)},
			},
		})
		require.Equal(t, http.StatusCreated, status, string(body))
	}

	r := runESRule(t, env(setup), "setup", "--replicas", "0")
	require.Equal(t, 0, r.code, r.stderr)

	rc := newReceiver(t)
	actionsFile := func(t *testing.T, name, ruleID string) string {
		p := filepath.Join(t.TempDir(), "actions.toml")
		content := fmt.Sprintf("[[action]]\nname = %q\ntype = \"webhook\"\nurl = %q\nrules = [%q]\n", name, rc.srv.URL+"/hook", ruleID)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	accepted := func() int {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		n := 0
		for _, c := range rc.accepted {
			n += c
		}
		return n
	}

	t.Run("run with notifications under the runner role", func(t *testing.T) {
		rules, id := uniqueRuleFileID(t)
		before := accepted()
		r := runESRule(t, env(runner), "run", "--start-from", slot.Format(time.RFC3339), "--max-catchup", "30m", "--rules", rules,
			"--actions", actionsFile(t, "hook-run-"+suffix, id))
		require.Equal(t, 0, r.code, r.stderr)
		require.NotContains(t, r.stderr, `"log.level":"error"`)
		require.GreaterOrEqual(t, accepted()-before, 3, "one message per alert: %s", r.stderr)
		es.do(t, "", http.MethodPost, "/"+mappings.AlertsAlias("default")+"/_refresh", nil)
		status, body := es.do(t, "", http.MethodPost, "/"+mappings.AlertsAlias("default")+"/_count", map[string]any{
			"query": map[string]any{"term": map[string]any{"esrule.notify.hook-run-" + suffix + ".status": "sent"}},
		})
		require.Equal(t, http.StatusOK, status, string(body))
		require.Contains(t, string(body), `"count":3`, "the delivery states are recorded")
	})

	t.Run("run --at with notifications under the runner role", func(t *testing.T) {
		rules, id := uniqueRuleFileID(t)
		before := accepted()
		r := runESRule(t, env(runner), "run", "--at", slot.Format(time.RFC3339), "--rules", rules,
			"--actions", actionsFile(t, "hook-at-"+suffix, id))
		require.Equal(t, 0, r.code, r.stderr)
		require.NotContains(t, r.stderr, `"log.level":"error"`)
		created := 0
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			var s struct {
				AlertsCreated int `json:"alerts_created"`
			}
			require.NoError(t, json.Unmarshal([]byte(line), &s), line)
			created += s.AlertsCreated
		}
		require.Positive(t, created, r.stdout)
		require.Equal(t, created, accepted()-before, "one message per alert of the slot: %s", r.stderr)
	})

	t.Run("backfill under the runner role", func(t *testing.T) {
		rules, _ := uniqueRuleFileID(t)
		r := runESRule(t, env(runner), "backfill", "--rules", rules, "--from", slot.Add(-15*time.Minute).Format(time.RFC3339),
			"--to", slot.Format(time.RFC3339), "--force", "--progress", "none")
		require.Equal(t, 0, r.code, r.stderr)
	})

	t.Run("serve with notifications and /readyz under the runner role", func(t *testing.T) {
		rules, id := uniqueRuleFileID(t)
		before := accepted()
		serveWithReadiness(t, env(runner), slot, rules, actionsFile(t, "hook-serve-"+suffix, id), func() bool {
			return accepted()-before >= 3
		})
	})

	t.Run("a run that cannot record delivery states fails loudly", func(t *testing.T) {
		rules, id := uniqueRuleFileID(t)
		before := accepted()
		r := runESRule(t, env(weak), "run", "--start-from", slot.Format(time.RFC3339), "--max-catchup", "30m", "--rules", rules,
			"--actions", actionsFile(t, "hook-weak-"+suffix, id))
		require.Equal(t, 1, r.code, r.stderr)
		require.Contains(t, r.stderr, "notification delivery state not recorded")
		require.Contains(t, r.stderr, "indices:data/write/update")
		require.Equal(t, before, accepted(), "nothing is sent without a recorded claim")
	})

	t.Run("a rule over an index the runner cannot read fails", func(t *testing.T) {
		secret := "esrulesec-secret-" + suffix
		status, body := es.do(t, "", http.MethodPost, "/"+secret+"/_doc?refresh=true", map[string]any{"@timestamp": slot.Format(time.RFC3339)})
		require.Equal(t, http.StatusCreated, status, string(body))
		t.Cleanup(func() { es.do(t, "", http.MethodDelete, "/"+secret, nil) })
		rules, _ := uniqueRuleFileID(t)
		src, err := os.ReadFile(rules)
		require.NoError(t, err)
		require.Contains(t, string(src), `index = ["filebeat-*", "logs-okta*"]`)
		require.NoError(t, os.WriteFile(rules, bytes.Replace(src, []byte(`index = ["filebeat-*", "logs-okta*"]`), []byte(`index = ["`+secret+`"]`), 1), 0o600))
		r := runESRule(t, env(runner), "run", "--at", slot.Format(time.RFC3339), "--rules", rules)
		require.Equal(t, 1, r.code, r.stderr)
		require.Contains(t, r.stderr, "lacks indices:data/read/search and indices:data/read/field_caps on "+secret)
		require.NotContains(t, r.stderr, "no index matches")
	})

	t.Run("setup refuses a space before installing anything", func(t *testing.T) {
		r := runESRule(t, env(setup), "setup", "--space", "default-000001")
		require.Equal(t, 2, r.code, r.stderr)
		require.Contains(t, r.stderr, "ends like a rollover index")
		status, _ := es.do(t, "", http.MethodGet, "/_index_template/"+mappings.AlertsTemplate("default-000001"), nil)
		require.Equal(t, http.StatusNotFound, status)

		space := "taken-" + suffix
		taken := mappings.AlertsAlias(space)
		status, body := es.do(t, "", http.MethodPut, "/"+taken, nil)
		require.Equal(t, http.StatusOK, status, string(body))
		t.Cleanup(func() { es.do(t, "", http.MethodDelete, "/"+taken, nil) })
		r = runESRule(t, env(setup), "setup", "--space", space)
		require.Equal(t, 1, r.code, r.stderr)
		require.Contains(t, r.stderr, taken+" is an index, not an alias")
		status, _ = es.do(t, "", http.MethodGet, "/_index_template/"+mappings.AlertsTemplate(space), nil)
		require.Equal(t, http.StatusNotFound, status, "no template left behind")
	})
}

// uniqueRuleFileID is uniqueRuleFile and the rule_id it was given.
func uniqueRuleFileID(t *testing.T) (path, ruleID string) {
	t.Helper()
	path = uniqueRuleFile(t)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rule_id = "); ok {
			return path, strings.Trim(v, `"`)
		}
	}
	t.Fatal("no rule_id in " + path)
	return "", ""
}

// serveWithReadiness starts serve with --actions, waits until /readyz
// answers 200 and done() holds, then stops it with SIGTERM (exit 0). serve
// must log no error.
func serveWithReadiness(t *testing.T, env map[string]string, slot time.Time, rulesFile, actions string, done func() bool) {
	t.Helper()
	p := startEsrule(t, "esrule serve", procSpec{cleanEnv: true, env: envList(env), listen: true, args: []string{
		"serve", "--start-from", slot.Format(time.RFC3339), "--max-catchup", "30m", "--rules", rulesFile, "--actions", actions}})
	recordOutput(t, p)
	ready := false
	waitFor(t, "serve ready and notifications sent", func() (bool, string) {
		if p.hasExited() {
			t.Fatalf("serve exited early: %v\n%s", p.err, p.stderr.String())
		}
		if !ready {
			code, body := p.get("/readyz")
			ready = code == http.StatusOK && strings.TrimSpace(body) == "ready"
		}
		requireNoErrorLogged(t, p)
		return ready && done(), fmt.Sprintf("ready %v; %s", ready, p.progress())
	})
	stopServe(t, p)
}
