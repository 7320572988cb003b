package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/cliconfig"
	"github.com/esrule/esrule/internal/estest"
)

func TestESCommands401(t *testing.T) {
	srv := estest.NewTLSServer(t, http.StatusUnauthorized, `{"error":{"type":"security_exception","reason":"unable to authenticate"},"status":401}`)
	estest.ClearESEnv(t)
	t.Setenv("ELASTICSEARCH_URL", srv.URL)
	t.Setenv("ELASTICSEARCH_CA_CERT", estest.WriteFile(t, "ca.crt", srv.CAPEM()))
	t.Setenv("ELASTICSEARCH_API_KEY", estest.APIKey())
	for _, args := range [][]string{
		{"setup", "--log-level", "debug"},
		{"run", "--at", "2024-05-01T10:05:00Z", "--log-level", "debug"},
	} {
		t.Run(args[0], func(t *testing.T) {
			before := srv.Requests()
			code, stdout, stderr := runCLI(t, args...)
			require.Equal(t, exitFailed, code, stderr)
			require.Contains(t, stderr, "Elasticsearch rejected the API key from ELASTICSEARCH_API_KEY (401 Unauthorized")
			require.Equal(t, 1, srv.Requests()-before, "one request, no retries")
			estest.RequireNoSecrets(t, stdout+stderr)
		})
	}
}

func TestESSecretsNotPrinted(t *testing.T) {
	estest.ClearESEnv(t)
	t.Setenv("ELASTICSEARCH_API_KEY", estest.APIKey())
	t.Setenv("ESRULE_ES_USERNAME", "")
	for _, args := range [][]string{
		{"--help"},
		{"run", "--help"},
		{"rules", "explain", "--at", "2024-05-01T10:05:00Z"},
		{"rules", "list"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, stdout, stderr := runCLI(t, args...)
			estest.RequireNoSecrets(t, stdout+stderr)
		})
	}
	t.Run("password file flag", func(t *testing.T) {
		estest.ClearESEnv(t)
		pw := estest.WriteFile(t, "pw", estest.Password)
		_, stdout, stderr := runCLI(t, "rules", "explain", "--at", "2024-05-01T10:05:00Z", "--es-username", "u", "--es-password-file", pw, "--log-level", "debug")
		estest.RequireNoSecrets(t, stdout+stderr)
	})
}

func TestConfigFile(t *testing.T) {
	estest.ClearESEnv(t)
	t.Run("global flags below flags and ESRULE_ environment", func(t *testing.T) {
		cfg := estest.WriteFile(t, "esrule.toml", "log_level = \"debug\"\nlog_format = \"console\"\nrule = [\"a\", \"b\"]\n[elasticsearch]\nurl = \"https://cfg:9200\"\n")
		t.Setenv("ESRULE_LOG_FORMAT", "json")
		root, g := newRootCommand(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
		require.NoError(t, root.ParseFlags([]string{"--config", cfg, "--rule", "c"}))
		require.NoError(t, cliconfig.ApplyEnv(root.Flags(), os.LookupEnv))
		require.NoError(t, g.applyConfig(root))
		require.Equal(t, "debug", g.logLevel, "from the file")
		require.Equal(t, "json", g.logFormat, "ESRULE_LOG_FORMAT beats the file")
		require.Equal(t, []string{"c"}, g.ruleIDs, "the flag beats the file")
		s, err := g.es.Settings()
		require.NoError(t, err)
		require.Equal(t, []string{"https://cfg:9200"}, s.Addresses)
	})
	t.Run("unknown keys are errors", func(t *testing.T) {
		cfg := estest.WriteFile(t, "esrule.toml", "log_levle = \"debug\"\n[elasticsearch]\napikey = \"x\"\n")
		root, g := newRootCommand(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
		require.NoError(t, root.ParseFlags([]string{"--config", cfg}))
		err := g.applyConfig(root)
		require.ErrorContains(t, err, "unknown key log_levle at the top level (did you mean log_level?)")
		require.ErrorContains(t, err, "unknown keys elasticsearch.apikey (in [elasticsearch]; did you mean api_key?)")
		var stderr bytes.Buffer
		require.Equal(t, exitUsage, exitCode(err, &stderr))
	})
}

// TestESCommandsBehindBrokenProxy: a proxy answering HTML error pages or
// garbage makes commands fail with exit 1 and a short message, no panic.
func TestESCommandsBehindBrokenProxy(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"nginx 502", http.StatusBadGateway, estest.NginxBadGateway, "status 502"},
		{"not JSON", http.StatusOK, "hello", "invalid character"},
		{"truncated", http.StatusOK, `{"esrule-alerts-default-template":{"index_templates":[`, "unexpected EOF"},
	}
	for _, tt := range tests {
		for _, args := range [][]string{{"setup"}, {"run", "--at", "2024-05-01T10:05:00Z"}} {
			t.Run(tt.name+" "+args[0], func(t *testing.T) {
				estest.ClearESEnv(t)
				es := estest.NewTransport()
				route := es.On("", "/**", estest.JSON(tt.status, tt.body))
				srv := httptest.NewServer(es)
				defer srv.Close()
				t.Setenv("ELASTICSEARCH_URL", srv.URL)
				code, _, stderr := runCLI(t, args...)
				require.Equal(t, exitFailed, code, stderr)
				require.NotContains(t, stderr, "panic")
				require.Less(t, len(stderr), 2000, stderr)
				require.LessOrEqual(t, route.Calls(), 4, "the client retries a 502 three times at most")
				if tt.status != http.StatusOK || args[0] == "setup" {
					require.Contains(t, stderr, tt.want)
				}
			})
		}
	}
}
