package main

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/cliconfig"
	"github.com/esrule/esrule/internal/estest"
)

// Secret values used by these tests; none may ever be printed.
const (
	testAPIKeyID  = "VuaCfGcBCdbkQm-e5aOx"
	testAPIKeyKey = "ui2lp2axTNmsyakw9tvNnw"
	testPassword  = "s3cret-Passw0rd-for-tests"
)

var testAPIKey = base64.StdEncoding.EncodeToString([]byte(testAPIKeyID + ":" + testAPIKeyKey))

// clearESEnv empties every variable the connection settings read.
func clearESEnv(t *testing.T) {
	t.Helper()
	for _, name := range []string{"ELASTICSEARCH_URL", "ELASTICSEARCH_CLOUD_ID", "ELASTICSEARCH_API_KEY",
		"ELASTICSEARCH_USERNAME", "ELASTICSEARCH_PASSWORD", "ELASTICSEARCH_CA_CERT", "ELASTICSEARCH_CA_FINGERPRINT", "ELASTICSEARCH_HOSTS"} {
		t.Setenv(name, "")
		t.Setenv(name+"_FILE", "")
	}
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "ESRULE_") {
			name, _, _ := strings.Cut(e, "=")
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// requireNoSecrets fails when any secret appears in text.
func requireNoSecrets(t *testing.T, text string) {
	t.Helper()
	for _, s := range []string{testAPIKey, testAPIKeyKey, testPassword} {
		require.NotContains(t, text, s)
	}
}

// tlsServer is the kit's fake Elasticsearch served over TLS, answering every
// request with status and body; it counts TLS handshakes.
type tlsServer struct {
	*httptest.Server
	es    *estest.Transport
	conns atomic.Int32
}

func newTLSServer(t *testing.T, status int, body string) *tlsServer {
	t.Helper()
	s := &tlsServer{es: estest.NewTransport()}
	s.es.On("", "/**", estest.JSON(status, body))
	s.Server = httptest.NewUnstartedServer(s.es)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are expected
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// requests is the number of requests that reached the server.
func (s *tlsServer) requests() int { return len(s.es.Requests()) }

func (s *tlsServer) caPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}))
}

func TestESCommands401(t *testing.T) {
	srv := newTLSServer(t, http.StatusUnauthorized, `{"error":{"type":"security_exception","reason":"unable to authenticate"},"status":401}`)
	clearESEnv(t)
	t.Setenv("ELASTICSEARCH_URL", srv.URL)
	t.Setenv("ELASTICSEARCH_CA_CERT", writeFile(t, "ca.crt", srv.caPEM()))
	t.Setenv("ELASTICSEARCH_API_KEY", testAPIKey)
	for _, args := range [][]string{
		{"setup", "--log-level", "debug"},
		{"run", "--at", "2024-05-01T10:05:00Z", "--log-level", "debug"},
	} {
		t.Run(args[0], func(t *testing.T) {
			before := srv.requests()
			code, stdout, stderr := runCLI(t, args...)
			require.Equal(t, exitFailed, code, stderr)
			require.Contains(t, stderr, "Elasticsearch rejected the API key from ELASTICSEARCH_API_KEY (401 Unauthorized")
			require.Equal(t, 1, srv.requests()-before, "one request, no retries")
			requireNoSecrets(t, stdout+stderr)
		})
	}
}

func TestESSecretsNotPrinted(t *testing.T) {
	clearESEnv(t)
	t.Setenv("ELASTICSEARCH_API_KEY", testAPIKey)
	t.Setenv("ESRULE_ES_USERNAME", "")
	for _, args := range [][]string{
		{"--help"},
		{"run", "--help"},
		{"rules", "explain", "--at", "2024-05-01T10:05:00Z"},
		{"rules", "list"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, stdout, stderr := runCLI(t, args...)
			requireNoSecrets(t, stdout+stderr)
		})
	}
	t.Run("password file flag", func(t *testing.T) {
		clearESEnv(t)
		pw := writeFile(t, "pw", testPassword)
		_, stdout, stderr := runCLI(t, "rules", "explain", "--at", "2024-05-01T10:05:00Z", "--es-username", "u", "--es-password-file", pw, "--log-level", "debug")
		requireNoSecrets(t, stdout+stderr)
	})
}

func TestConfigFile(t *testing.T) {
	clearESEnv(t)
	t.Run("global flags below flags and ESRULE_ environment", func(t *testing.T) {
		cfg := writeFile(t, "esrule.toml", "log_level = \"debug\"\nlog_format = \"console\"\nrule = [\"a\", \"b\"]\n[elasticsearch]\nurl = \"https://cfg:9200\"\n")
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
		cfg := writeFile(t, "esrule.toml", "log_levle = \"debug\"\n[elasticsearch]\napikey = \"x\"\n")
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
				clearESEnv(t)
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
