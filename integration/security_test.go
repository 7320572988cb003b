//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/mappings"
)

// TestIntegrationSecurity proves the least-privilege roles of deploy/roles/
// and the connection settings against Elasticsearch with security on: setup
// with the esrule-setup role, run/serve/backfill with the esrule-runner role
// over TLS with the generated CA, and clear failures (exit 1, one request, no
// secret printed) for a wrong CA, wrong or invalidated credentials.
func TestIntegrationSecurity(t *testing.T) {
	t.Parallel()
	es := requireSecureES(t)
	ctx := context.Background()
	runner := fileRealmUser{name: "esrule-test-runner", password: randomSecret(), role: "esrule-runner"}
	setup := fileRealmUser{name: "esrule-test-setup", password: randomSecret(), role: "esrule-setup"}
	es.provisionFileRealm(t, []string{"esrule-runner", "esrule-setup"}, []fileRealmUser{runner, setup})
	secrets := []string{runner.password, setup.password, es.password}

	// The runner's credentials: an API key when the node can store them
	// (full distribution), else the runner user itself (integ-test-zip).
	runnerEnv := map[string]string{"ELASTICSEARCH_USERNAME": runner.name, "ELASTICSEARCH_PASSWORD": runner.password}
	runnerAuth := basicAuth(runner.name, runner.password)
	_, apiKey, haveAPIKeys := es.grantAPIKey(t, runner.name, runner.password, "esrule-test-runner", "1h")
	if haveAPIKeys {
		runnerEnv = map[string]string{"ELASTICSEARCH_API_KEY": apiKey}
		runnerAuth = "ApiKey " + apiKey
		secrets = append(secrets, apiKey)
	} else {
		t.Log("this node cannot store API keys: the runner authenticates as a file-realm user with the esrule-runner role")
	}
	tlsEnv := func(extra map[string]string) map[string]string {
		env := map[string]string{"ELASTICSEARCH_URL": es.url, "ELASTICSEARCH_CA_CERT": es.ca}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}

	// Source data, written as the superuser with the Okta demo template.
	zero := 0
	require.NoError(t, mappings.EnsureOktaDemo(ctx, es.super, &zero))
	suffix := randomSecret()[:8]
	source := "logs-okta.system-esrulesec-" + suffix
	t.Cleanup(func() { es.do(t, "", http.MethodDelete, "/"+source, nil) })
	slot := time.Now().UTC().Truncate(5 * time.Minute).Add(-5 * time.Minute)
	for i := range 3 {
		at := slot.Add(-time.Duration(i+1) * time.Minute).Format(time.RFC3339)
		status, body := es.do(t, "", http.MethodPost, "/"+source+"/_doc?refresh=true", map[string]any{
			"@timestamp": at,
			"event":      map[string]any{"dataset": "okta.system", "ingested": at},
			"okta": map[string]any{
				"event_type":       "user.session.start",
				"security_context": map[string]any{"is_proxy": true},
				"actor":            map[string]any{"id": fmt.Sprintf("00u-sec-%s-%d", suffix, i)},
			},
		})
		require.Equal(t, http.StatusCreated, status, string(body))
	}

	t.Run("setup with the esrule-setup role", func(t *testing.T) {
		r := runESRule(t, tlsEnv(map[string]string{"ELASTICSEARCH_USERNAME": setup.name, "ELASTICSEARCH_PASSWORD": setup.password}), "setup", "--replicas", "0")
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, "alias esrule-alerts-default:")
	})

	t.Run("the runner cannot install templates", func(t *testing.T) {
		r := runESRule(t, tlsEnv(runnerEnv), "setup", "--replicas", "1") // a template change
		require.Equal(t, 1, r.code, r.stderr)
		require.Contains(t, r.stderr, "status 403")
		require.Contains(t, r.stderr, "manage_index_templates")
	})

	t.Run("run with the runner credentials", func(t *testing.T) {
		r := runESRule(t, tlsEnv(runnerEnv), "run", "--at", slot.Format(time.RFC3339))
		require.Equal(t, 0, r.code, r.stderr)
		m := summaryCreated.FindStringSubmatch(r.stdout)
		require.NotNil(t, m, r.stdout)
		require.NotEqual(t, "0", m[1], "the run wrote alerts: %s", r.stdout)
		require.GreaterOrEqual(t, countAlerts(t, es, suffix), 3)
	})

	t.Run("rules validate --es names the privilege the runner lacks", func(t *testing.T) {
		secret := "secret-esrule-" + suffix
		status, body := es.do(t, "", http.MethodPut, "/"+secret+"-1", nil)
		require.Equal(t, http.StatusOK, status, string(body))
		t.Cleanup(func() { es.do(t, "", http.MethodDelete, "/"+secret+"-1", nil) })
		b, err := os.ReadFile(uniqueRuleFile(t))
		require.NoError(t, err)
		src := regexp.MustCompile(`(?m)^index = .*$`).ReplaceAllString(string(b),
			fmt.Sprintf("index = [%q, %q]", source, secret+"-*"))
		p := filepath.Join(t.TempDir(), "rule.toml")
		require.NoError(t, os.WriteFile(p, []byte(src), 0o600))
		r := runESRule(t, tlsEnv(runnerEnv), "rules", "validate", "--es", "--rules", p)
		require.Equal(t, 2, r.code, r.stderr)
		require.Contains(t, r.stdout, fmt.Sprintf(`index: index pattern "%s-*" matches no index this user can read: it lacks the read privilege on it`, secret))
		require.Equal(t, 1, strings.Count(r.stdout, "\n"), "the readable index maps the rule's fields:\n%s", r.stdout)
	})

	t.Run("backfill with the runner credentials", func(t *testing.T) {
		r := runESRule(t, tlsEnv(runnerEnv), "backfill", "--from", slot.Add(-15*time.Minute).Format(time.RFC3339),
			"--to", slot.Format(time.RFC3339), "--force", "--progress", "none")
		require.Equal(t, 0, r.code, r.stderr)
	})

	t.Run("serve one tick with the runner credentials", func(t *testing.T) {
		serveOneTick(t, tlsEnv(runnerEnv), slot, uniqueRuleFile(t))
	})

	t.Run("the runner cannot write to a source index", func(t *testing.T) {
		status, body := es.do(t, runnerAuth, http.MethodPost, "/"+source+"/_doc", map[string]any{"@timestamp": slot.Format(time.RFC3339)})
		require.Equal(t, http.StatusForbidden, status, string(body))
		status, body = es.do(t, runnerAuth, http.MethodPut, "/logs-okta.system-esrulesec-"+suffix+"-new", nil)
		require.Equal(t, http.StatusForbidden, status, string(body))
		status, body = es.do(t, runnerAuth, http.MethodPost, "/"+source+"/_search", map[string]any{"size": 0})
		require.Equal(t, http.StatusOK, status, string(body), "but it can read it")
	})

	t.Run("basic auth over TLS from secret files", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(dir+"/password", []byte(runner.password+"\n"), 0o600))
		r := runESRule(t, tlsEnv(map[string]string{"ELASTICSEARCH_USERNAME": runner.name, "ELASTICSEARCH_PASSWORD_FILE": dir + "/password"}),
			"run", "--at", slot.Format(time.RFC3339))
		require.Equal(t, 0, r.code, r.stderr)
	})

	t.Run("pinned certificate fingerprint instead of the CA", func(t *testing.T) {
		env := tlsEnv(runnerEnv)
		delete(env, "ELASTICSEARCH_CA_CERT")
		env["ELASTICSEARCH_CA_FINGERPRINT"] = es.leafFingerprint(t)
		r := runESRule(t, env, "run", "--at", slot.Format(time.RFC3339))
		require.Equal(t, 0, r.code, r.stderr)
	})

	t.Run("insecure-skip-verify works and warns", func(t *testing.T) {
		env := tlsEnv(runnerEnv)
		delete(env, "ELASTICSEARCH_CA_CERT")
		r := runESRule(t, env, "run", "--at", slot.Format(time.RFC3339), "--insecure-skip-verify")
		require.Equal(t, 0, r.code, r.stderr)
		warned := false
		for _, l := range logLines(r.stderr) {
			if l["log.level"] == "warn" && strings.Contains(fmt.Sprint(l["message"]), "--insecure-skip-verify") {
				warned = true
			}
		}
		require.True(t, warned, "a warn line names --insecure-skip-verify: %s", r.stderr)
	})

	failures := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no CA", map[string]string{"ELASTICSEARCH_URL": es.url}, "signed by unknown authority (set ELASTICSEARCH_CA_CERT"},
		{"wrong CA", map[string]string{"ELASTICSEARCH_URL": es.url, "ELASTICSEARCH_CA_CERT": otherCA(t)},
			"signed by unknown authority (the CA from ELASTICSEARCH_CA_CERT did not sign it"},
		{"wrong fingerprint", map[string]string{"ELASTICSEARCH_URL": es.url, "ELASTICSEARCH_CA_FINGERPRINT": strings.Repeat("0", 64)},
			"matches the pinned fingerprint"},
		{"wrong API key", tlsEnv(map[string]string{"ELASTICSEARCH_API_KEY": "ZXNydWxlLXdyb25nOndyb25nLWtleS12YWx1ZQ=="}),
			"Elasticsearch rejected the API key from ELASTICSEARCH_API_KEY (401 Unauthorized"},
		{"wrong password", tlsEnv(map[string]string{"ELASTICSEARCH_USERNAME": runner.name, "ELASTICSEARCH_PASSWORD": "not-" + runner.password}),
			`Elasticsearch rejected user "esrule-test-runner" with the password from ELASTICSEARCH_PASSWORD (401 Unauthorized`},
		{"no credentials", tlsEnv(nil), "Elasticsearch requires authentication (401 Unauthorized"},
	}
	for _, f := range failures {
		for _, args := range [][]string{{"run", "--at", slot.Format(time.RFC3339)}, {"setup"}} {
			t.Run(f.name+" "+args[0], func(t *testing.T) {
				r := runESRule(t, f.env, append(args, "--log-level", "debug")...)
				require.Equal(t, 1, r.code, r.stderr)
				require.Contains(t, r.stderr, f.want)
				require.Equal(t, 1, r.requests(), "one request and no retries:\n%s", r.stderr)
			})
		}
	}

	t.Run("invalidated API key", func(t *testing.T) {
		if !haveAPIKeys {
			t.Fatal("this node cannot store API keys: the integ-test-zip lacks analysis-common for the .security index; scripts/elasticsearch.sh installs the stand-in plugin scripts/es-test-plugin")
		}
		id, key, ok := es.grantAPIKey(t, runner.name, runner.password, "esrule-test-invalidated", "1h")
		require.True(t, ok)
		secrets = append(secrets, key)
		status, body := es.do(t, "", http.MethodDelete, "/_security/api_key", map[string]any{"ids": []string{id}})
		require.Equal(t, http.StatusOK, status, string(body))
		r := runESRule(t, tlsEnv(map[string]string{"ELASTICSEARCH_API_KEY": key}), "run", "--at", slot.Format(time.RFC3339), "--log-level", "debug")
		require.Equal(t, 1, r.code, r.stderr)
		require.Contains(t, r.stderr, "Elasticsearch rejected the API key from ELASTICSEARCH_API_KEY (401 Unauthorized")
		require.Equal(t, 1, r.requests())
	})

	t.Run("expired API key", func(t *testing.T) {
		if !haveAPIKeys {
			t.Fatal("this node cannot store API keys: the integ-test-zip lacks analysis-common for the .security index; scripts/elasticsearch.sh installs the stand-in plugin scripts/es-test-plugin")
		}
		_, key, ok := es.grantAPIKey(t, runner.name, runner.password, "esrule-test-expired", "1s")
		require.True(t, ok)
		secrets = append(secrets, key)
		waitFor(t, "the API key expires", func() (bool, string) {
			status, _ := es.do(t, "ApiKey "+key, http.MethodGet, "/_security/_authenticate", nil)
			return status == http.StatusUnauthorized, fmt.Sprintf("authenticate: %d", status)
		})
		r := runESRule(t, tlsEnv(map[string]string{"ELASTICSEARCH_API_KEY": key}), "run", "--at", slot.Format(time.RFC3339), "--log-level", "debug")
		require.Equal(t, 1, r.code, r.stderr)
		require.Contains(t, r.stderr, "Elasticsearch rejected the API key from ELASTICSEARCH_API_KEY (401 Unauthorized")
		require.Equal(t, 1, r.requests())
	})

	t.Run("no secret in any output", func(t *testing.T) {
		outputs.mu.Lock()
		defer outputs.mu.Unlock()
		require.NotEmpty(t, outputs.all)
		for _, out := range outputs.all {
			for _, s := range secrets {
				require.NotContains(t, out, s)
			}
		}
	})
}

// countAlerts counts the alerts of this test's actors (superuser view).
func countAlerts(t *testing.T, es *secureES, suffix string) int {
	t.Helper()
	es.do(t, "", http.MethodPost, "/"+mappings.AlertsAlias("default")+"/_refresh", nil)
	status, body := es.do(t, "", http.MethodPost, "/"+mappings.AlertsAlias("default")+"/_count", map[string]any{
		"query": map[string]any{"prefix": map[string]any{"kibana.alert.new_terms": "00u-sec-" + suffix}},
	})
	require.Equal(t, http.StatusOK, status, string(body))
	var res struct{ Count int }
	require.NoError(t, json.Unmarshal(body, &res))
	return res.Count
}

// uniqueRuleFile writes the built-in rule's TOML with a new rule_id, so that
// serve starts without state.
func uniqueRuleFile(t *testing.T) string {
	t.Helper()
	const builtinID = "6f1bb4b2-7dc8-11ee-92b2-f661ea17fbcd"
	b, err := os.ReadFile("../rules/okta/initial_access_first_occurrence_user_session_started_via_proxy_pair.toml")
	require.NoError(t, err)
	require.Contains(t, string(b), builtinID)
	id := randomSecret()
	uuid := id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:] + randomSecret()[:12]
	uuid = uuid[:36]
	p := filepath.Join(t.TempDir(), "rule.toml")
	require.NoError(t, os.WriteFile(p, []byte(strings.ReplaceAll(string(b), builtinID, uuid)), 0o600))
	return p
}

// serveOneTick starts `esrule serve`, waits until it executed the slot, then
// stops it with SIGTERM and expects exit 0.
func serveOneTick(t *testing.T, env map[string]string, slot time.Time, rulesFile string) {
	t.Helper()
	p := startEsrule(t, "esrule serve", procSpec{cleanEnv: true, env: envList(env), listen: true, args: []string{
		"serve", "--start-from", slot.Format(time.RFC3339), "--max-catchup", "30m", "--rules", rulesFile}})
	recordOutput(t, p)
	waitFor(t, "serve executes a slot", func() (bool, string) {
		if p.hasExited() {
			t.Fatalf("serve exited early: %v\n%s", p.err, p.stderr.String())
		}
		requireNoErrorLogged(t, p)
		for _, l := range logLines(p.stderr.String()) {
			if l["message"] == "rule executed" && l["log.level"] != "error" {
				return true, ""
			}
		}
		return false, p.progress()
	})
	stopServe(t, p)
}
