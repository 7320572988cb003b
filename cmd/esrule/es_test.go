package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esclient"
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

func TestESSettingsPrecedence(t *testing.T) {
	clearESEnv(t)
	config := writeFile(t, "esrule.toml", `
[elasticsearch]
url = ["https://file-1:9200", "https://file-2:9200"]
username = "file-user"
password = "file-password"
`)
	t.Run("config file alone", func(t *testing.T) {
		o := esOptions{configPath: config}
		s, err := o.settings()
		require.NoError(t, err)
		require.Equal(t, []string{"https://file-1:9200", "https://file-2:9200"}, s.Addresses)
		require.Equal(t, "file-user", s.Username)
		require.Equal(t, "config file password", s.PasswordSource)
	})
	t.Run("environment over config file", func(t *testing.T) {
		t.Setenv("ELASTICSEARCH_URL", "https://env-1:9200, https://env-2:9200/")
		t.Setenv("ELASTICSEARCH_API_KEY", testAPIKey)
		o := esOptions{configPath: config}
		s, err := o.settings()
		require.NoError(t, err)
		require.Equal(t, []string{"https://env-1:9200", "https://env-2:9200"}, s.Addresses)
		require.Equal(t, testAPIKey, s.APIKey, "the environment's API key beats the file's basic auth")
		require.Empty(t, s.Username)
		require.Equal(t, "API key from ELASTICSEARCH_API_KEY", authOf(t, s))
	})
	t.Run("flags over environment", func(t *testing.T) {
		t.Setenv("ELASTICSEARCH_URL", "https://env:9200")
		t.Setenv("ELASTICSEARCH_API_KEY", testAPIKey)
		o := esOptions{configPath: config, urls: []string{"https://flag:9200"}, username: "flag-user",
			passwordFile: writeFile(t, "password", testPassword+"\n")}
		s, err := o.settings()
		require.NoError(t, err)
		require.Equal(t, []string{"https://flag:9200"}, s.Addresses)
		require.Empty(t, s.APIKey)
		require.Equal(t, testPassword, s.Password, "trailing newline of the secret file is trimmed")
		require.Equal(t, `user "flag-user" with the password from --es-password-file`, authOf(t, s))
	})
	t.Run("secrets from _FILE variables", func(t *testing.T) {
		t.Setenv("ELASTICSEARCH_API_KEY_FILE", writeFile(t, "key", testAPIKey+"\n"))
		s, err := (&esOptions{}).settings()
		require.NoError(t, err)
		require.Equal(t, testAPIKey, s.APIKey)
		require.Equal(t, []string{"http://localhost:9200"}, s.Addresses)
	})
	t.Run("raw id:key is encoded", func(t *testing.T) {
		t.Setenv("ELASTICSEARCH_API_KEY", testAPIKeyID+":"+testAPIKeyKey)
		s, err := (&esOptions{}).settings()
		require.NoError(t, err)
		require.Equal(t, testAPIKey, s.APIKey)
	})
	t.Run("cloud id replaces the default URL", func(t *testing.T) {
		t.Setenv("ELASTICSEARCH_CLOUD_ID", "name:"+base64.StdEncoding.EncodeToString([]byte("example.com$abc$def")))
		s, err := (&esOptions{}).settings()
		require.NoError(t, err)
		require.Empty(t, s.Addresses)
		require.NotEmpty(t, s.CloudID)
	})
}

func TestESSettingsErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		o    esOptions
		want string
	}{
		{"api key and basic auth together", map[string]string{"ELASTICSEARCH_API_KEY": testAPIKey, "ELASTICSEARCH_USERNAME": "u", "ELASTICSEARCH_PASSWORD": testPassword},
			esOptions{}, "both an API key (ELASTICSEARCH_API_KEY) and basic authentication (ELASTICSEARCH_USERNAME) are set"},
		{"url and cloud id together", map[string]string{"ELASTICSEARCH_URL": "https://a:9200", "ELASTICSEARCH_CLOUD_ID": "x:eA=="},
			esOptions{}, "both ELASTICSEARCH_URL and ELASTICSEARCH_CLOUD_ID are set"},
		{"username without password", map[string]string{"ELASTICSEARCH_USERNAME": "u"}, esOptions{}, `username "u" is set (ELASTICSEARCH_USERNAME) but no password`},
		{"password without username", map[string]string{"ELASTICSEARCH_PASSWORD": testPassword}, esOptions{}, "a password is set (ELASTICSEARCH_PASSWORD) but no username"},
		{"credentials in the URL", map[string]string{"ELASTICSEARCH_URL": "https://elastic:" + testPassword + "@es:9200"}, esOptions{}, "https://es:9200 carries credentials"},
		{"not a URL", map[string]string{"ELASTICSEARCH_URL": "es:9200"}, esOptions{}, "want http:// or https://"},
		{"bad fingerprint", map[string]string{"ELASTICSEARCH_CA_FINGERPRINT": "abc"}, esOptions{}, "ELASTICSEARCH_CA_FINGERPRINT: want a SHA-256 fingerprint"},
		{"missing secret file", map[string]string{"ELASTICSEARCH_PASSWORD_FILE": "/nonexistent/password"}, esOptions{}, "ELASTICSEARCH_PASSWORD_FILE: read secret file"},
		{"CA that is not PEM", nil, esOptions{caCert: "es_test.go"}, "--es-ca-cert: read CA certificate: no PEM certificate in it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearESEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, err := tt.o.client()
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			requireNoSecrets(t, err.Error())
			var stderr bytes.Buffer
			require.Equal(t, exitUsage, exitCode(err, &stderr), "bad settings are usage errors")
		})
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

// authHeader is the Authorization header of the last request.
func (s *tlsServer) authHeader() string {
	reqs := s.es.Requests()
	if len(reqs) == 0 {
		return ""
	}
	return reqs[len(reqs)-1].Header.Get("Authorization")
}

func (s *tlsServer) caPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}))
}

func (s *tlsServer) fingerprint() string {
	sum := sha256.Sum256(s.Certificate().Raw)
	return hex.EncodeToString(sum[:])
}

// health performs one request with a client built from o.
func health(t *testing.T, o *esOptions) error {
	t.Helper()
	c, err := o.client()
	require.NoError(t, err)
	_, err = esclient.Call(context.Background(), c, esapi.ClusterHealthRequest{})
	return err
}

// authOf describes the authentication of s as the client logs it.
func authOf(t *testing.T, s esclient.Config) string {
	t.Helper()
	c, err := esclient.New(s)
	require.NoError(t, err)
	_, auth, _ := c.Describe()
	return auth
}

func TestESClientTLS(t *testing.T) {
	srv := newTLSServer(t, http.StatusOK, `{"status":"green"}`)
	caFile := writeFile(t, "ca.crt", srv.caPEM())
	var logs bytes.Buffer
	logger := func() (zerolog.Logger, error) { return zerolog.New(&logs), nil }

	t.Run("CA certificate file", func(t *testing.T) {
		clearESEnv(t)
		t.Setenv("ELASTICSEARCH_CA_CERT", caFile)
		require.NoError(t, health(t, &esOptions{urls: []string{srv.URL}, logger: logger}))
	})
	t.Run("CA certificate as PEM text in the config file", func(t *testing.T) {
		clearESEnv(t)
		cfg := writeFile(t, "c.toml", "[elasticsearch]\nca_cert = '''\n"+srv.caPEM()+"'''\n")
		require.NoError(t, health(t, &esOptions{urls: []string{srv.URL}, configPath: cfg, logger: logger}))
	})
	t.Run("unknown authority", func(t *testing.T) {
		clearESEnv(t)
		before := srv.conns.Load()
		err := health(t, &esOptions{urls: []string{srv.URL}, logger: logger})
		require.Error(t, err)
		require.Contains(t, err.Error(), "TLS: certificate of "+srv.URL+" signed by unknown authority (set ELASTICSEARCH_CA_CERT")
		require.Equal(t, int32(1), srv.conns.Load()-before, "a TLS verification failure is not retried")
		var stderr bytes.Buffer
		require.Equal(t, exitFailed, exitCode(err, &stderr))
	})
	t.Run("pinned fingerprint", func(t *testing.T) {
		clearESEnv(t)
		t.Setenv("ELASTICSEARCH_CA_FINGERPRINT", strings.ToUpper(srv.fingerprint()[:2])+":"+srv.fingerprint()[2:])
		require.NoError(t, health(t, &esOptions{urls: []string{srv.URL}, logger: logger}))
	})
	t.Run("wrong fingerprint", func(t *testing.T) {
		clearESEnv(t)
		o := &esOptions{urls: []string{srv.URL}, caFingerprint: strings.Repeat("ab", 32), logger: logger}
		err := health(t, o)
		require.ErrorContains(t, err, "matches the pinned fingerprint (check ELASTICSEARCH_CA_FINGERPRINT or --es-ca-fingerprint;")
	})
	t.Run("insecure skip verify warns", func(t *testing.T) {
		clearESEnv(t)
		logs.Reset()
		require.NoError(t, health(t, &esOptions{urls: []string{srv.URL}, insecureSkipVerify: true, logger: logger}))
		require.Contains(t, logs.String(), `"log.level":"warn"`)
		require.Contains(t, logs.String(), "--insecure-skip-verify")
	})
}

func TestESClient401FailsFast(t *testing.T) {
	const body = `{"error":{"root_cause":[{"type":"security_exception","reason":"unable to authenticate with provided credentials and anonymous access is not allowed for this request"}],"type":"security_exception","reason":"unable to authenticate with provided credentials and anonymous access is not allowed for this request"},"status":401}`
	tests := []struct {
		name   string
		env    map[string]string
		header string
		want   string
	}{
		{"api key", map[string]string{"ELASTICSEARCH_API_KEY": testAPIKey}, "APIKey " + testAPIKey,
			"Elasticsearch rejected the API key from ELASTICSEARCH_API_KEY (401 Unauthorized: unable to authenticate"},
		{"basic", map[string]string{"ELASTICSEARCH_USERNAME": "runner", "ELASTICSEARCH_PASSWORD": testPassword},
			"Basic " + base64.StdEncoding.EncodeToString([]byte("runner:"+testPassword)),
			`Elasticsearch rejected user "runner" with the password from ELASTICSEARCH_PASSWORD`},
		{"none", nil, "", "Elasticsearch requires authentication (401 Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearESEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			srv := newTLSServer(t, http.StatusUnauthorized, body)
			o := &esOptions{urls: []string{srv.URL}, caCert: writeFile(t, "ca.crt", srv.caPEM()),
				logger: func() (zerolog.Logger, error) { return zerolog.Nop(), nil }}
			c, err := o.client()
			require.NoError(t, err)
			for range 5 {
				_, err = esclient.Call(context.Background(), c, esapi.ClusterHealthRequest{})
				require.Error(t, err)
				require.Contains(t, err.Error(), tt.want)
				requireNoSecrets(t, err.Error())
				require.True(t, esclient.IsSetupError(err))
			}
			require.Equal(t, 1, srv.requests(), "after a 401 no request reaches Elasticsearch")
			require.Equal(t, tt.header, srv.authHeader())
		})
	}
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
		require.NoError(t, applyEnv(root.Flags()))
		require.NoError(t, g.applyConfig(root))
		require.Equal(t, "debug", g.logLevel, "from the file")
		require.Equal(t, "json", g.logFormat, "ESRULE_LOG_FORMAT beats the file")
		require.Equal(t, []string{"c"}, g.ruleIDs, "the flag beats the file")
		s, err := g.es.settings()
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
	t.Run("secret files relative to the config file", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "key"), []byte(testAPIKey), 0o600))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "esrule.toml"), []byte("[elasticsearch]\napi_key_file = \"key\"\n"), 0o600))
		s, err := (&esOptions{configPath: filepath.Join(dir, "esrule.toml")}).settings()
		require.NoError(t, err)
		require.Equal(t, testAPIKey, s.APIKey)
		require.Equal(t, "API key from config file api_key_file", authOf(t, s))
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
