package esconfig

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/esrule/esrule/endpoints"
	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/internal/estest"
)

func TestESSettingsPrecedence(t *testing.T) {
	estest.ClearESEnv(t)
	config := estest.WriteFile(t, "esrule.toml", `
[elasticsearch]
url = ["https://file-1:9200", "https://file-2:9200"]
username = "file-user"
password = "file-password"
`)
	t.Run("config file alone", func(t *testing.T) {
		s, err := withEnv(Options{ConfigPath: config}).Settings()
		require.NoError(t, err)
		require.Equal(t, []string{"https://file-1:9200", "https://file-2:9200"}, s.Addresses)
		require.Equal(t, "file-user", s.Username)
		require.Equal(t, "config file password", s.PasswordSource)
	})
	t.Run("environment over config file", func(t *testing.T) {
		t.Setenv("ELASTICSEARCH_URL", "https://env-1:9200, https://env-2:9200/")
		t.Setenv("ELASTICSEARCH_API_KEY", estest.APIKey())
		s, err := withEnv(Options{ConfigPath: config}).Settings()
		require.NoError(t, err)
		require.Equal(t, []string{"https://env-1:9200", "https://env-2:9200"}, s.Addresses)
		require.Equal(t, estest.APIKey(), s.APIKey, "the environment's API key beats the file's basic auth")
		require.Empty(t, s.Username)
		require.Equal(t, "API key from ELASTICSEARCH_API_KEY", authOf(t, s))
	})
	t.Run("flags over environment", func(t *testing.T) {
		t.Setenv("ELASTICSEARCH_URL", "https://env:9200")
		t.Setenv("ELASTICSEARCH_API_KEY", estest.APIKey())
		o := withEnv(Options{ConfigPath: config, URLs: []string{"https://flag:9200"}, Username: "flag-user",
			PasswordFile: estest.WriteFile(t, "password", estest.Password+"\n")})
		s, err := o.Settings()
		require.NoError(t, err)
		require.Equal(t, []string{"https://flag:9200"}, s.Addresses)
		require.Empty(t, s.APIKey)
		require.Equal(t, estest.Password, s.Password, "trailing newline of the secret file is trimmed")
		require.Equal(t, `user "flag-user" with the password from --es-password-file`, authOf(t, s))
	})
	t.Run("secrets from _FILE variables", func(t *testing.T) {
		t.Setenv("ELASTICSEARCH_API_KEY_FILE", estest.WriteFile(t, "key", estest.APIKey()+"\n"))
		s, err := withEnv(Options{}).Settings()
		require.NoError(t, err)
		require.Equal(t, estest.APIKey(), s.APIKey)
		require.Equal(t, []string{"http://localhost:9200"}, s.Addresses)
	})
	t.Run("raw id:key is encoded", func(t *testing.T) {
		t.Setenv("ELASTICSEARCH_API_KEY", estest.APIKeyID+":"+estest.APIKeyKey)
		s, err := withEnv(Options{}).Settings()
		require.NoError(t, err)
		require.Equal(t, estest.APIKey(), s.APIKey)
	})
	t.Run("cloud id replaces the default URL", func(t *testing.T) {
		t.Setenv("ELASTICSEARCH_CLOUD_ID", "name:"+base64.StdEncoding.EncodeToString([]byte("example.com$abc$def")))
		s, err := withEnv(Options{}).Settings()
		require.NoError(t, err)
		require.Empty(t, s.Addresses)
		require.NotEmpty(t, s.CloudID)
	})
}

func TestESSettingsErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		o    Options
		want string
	}{
		{"api key and basic auth together", map[string]string{"ELASTICSEARCH_API_KEY": estest.APIKey(), "ELASTICSEARCH_USERNAME": "u", "ELASTICSEARCH_PASSWORD": estest.Password},
			Options{}, "both an API key (ELASTICSEARCH_API_KEY) and basic authentication (ELASTICSEARCH_USERNAME) are set"},
		{"url and cloud id together", map[string]string{"ELASTICSEARCH_URL": "https://a:9200", "ELASTICSEARCH_CLOUD_ID": "x:eA=="},
			Options{}, "both ELASTICSEARCH_URL and ELASTICSEARCH_CLOUD_ID are set"},
		{"username without password", map[string]string{"ELASTICSEARCH_USERNAME": "u"}, Options{}, `username "u" is set (ELASTICSEARCH_USERNAME) but no password`},
		{"password without username", map[string]string{"ELASTICSEARCH_PASSWORD": estest.Password}, Options{}, "a password is set (ELASTICSEARCH_PASSWORD) but no username"},
		{"credentials in the URL", map[string]string{"ELASTICSEARCH_URL": "https://elastic:" + estest.Password + "@es:9200"}, Options{}, "https://es:9200 carries credentials"},
		{"not a URL", map[string]string{"ELASTICSEARCH_URL": "es:9200"}, Options{}, "want http:// or https://"},
		{"bad fingerprint", map[string]string{"ELASTICSEARCH_CA_FINGERPRINT": "abc"}, Options{}, "ELASTICSEARCH_CA_FINGERPRINT: want a SHA-256 fingerprint"},
		{"missing secret file", map[string]string{"ELASTICSEARCH_PASSWORD_FILE": "/nonexistent/password"}, Options{}, "ELASTICSEARCH_PASSWORD_FILE: read secret file"},
		{"CA that is not PEM", nil, Options{CACert: "options_test.go"}, "--es-ca-cert: read CA certificate: no PEM certificate in it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			estest.ClearESEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, err := withEnv(tt.o).Client(zerolog.Nop())
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			estest.RequireNoSecrets(t, err.Error())
		})
	}
}

// testOptions are connection options and the logger of their client.
type testOptions struct {
	Options
	log zerolog.Logger
}

// health performs one request with a client built from o, with the
// environment.
func health(t *testing.T, o *testOptions) error {
	t.Helper()
	o.LookupEnv = os.LookupEnv
	c, err := o.Client(o.log)
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
	srv := estest.NewTLSServer(t, http.StatusOK, `{"status":"green"}`)
	caFile := estest.WriteFile(t, "ca.crt", srv.CAPEM())
	var logs bytes.Buffer
	logger := zerolog.New(&logs)

	t.Run("CA certificate file", func(t *testing.T) {
		estest.ClearESEnv(t)
		t.Setenv("ELASTICSEARCH_CA_CERT", caFile)
		require.NoError(t, health(t, &testOptions{Options: Options{URLs: []string{srv.URL}}, log: logger}))
	})
	t.Run("CA certificate as PEM text in the config file", func(t *testing.T) {
		estest.ClearESEnv(t)
		cfg := estest.WriteFile(t, "c.toml", "[elasticsearch]\nca_cert = '''\n"+srv.CAPEM()+"'''\n")
		require.NoError(t, health(t, &testOptions{Options: Options{URLs: []string{srv.URL}, ConfigPath: cfg}, log: logger}))
	})
	t.Run("unknown authority", func(t *testing.T) {
		estest.ClearESEnv(t)
		before := srv.Conns()
		err := health(t, &testOptions{Options: Options{URLs: []string{srv.URL}}, log: logger})
		require.Error(t, err)
		require.Contains(t, err.Error(), "TLS: certificate of "+srv.URL+" signed by unknown authority (set ELASTICSEARCH_CA_CERT")
		require.Equal(t, int32(1), srv.Conns()-before, "a TLS verification failure is not retried")
	})
	t.Run("pinned fingerprint", func(t *testing.T) {
		estest.ClearESEnv(t)
		t.Setenv("ELASTICSEARCH_CA_FINGERPRINT", strings.ToUpper(srv.Fingerprint()[:2])+":"+srv.Fingerprint()[2:])
		require.NoError(t, health(t, &testOptions{Options: Options{URLs: []string{srv.URL}}, log: logger}))
	})
	t.Run("wrong fingerprint", func(t *testing.T) {
		estest.ClearESEnv(t)
		o := &testOptions{Options: Options{URLs: []string{srv.URL}, CAFingerprint: strings.Repeat("ab", 32)}, log: logger}
		err := health(t, o)
		require.ErrorContains(t, err, "matches the pinned fingerprint (check ELASTICSEARCH_CA_FINGERPRINT or --es-ca-fingerprint;")
	})
	t.Run("insecure skip verify warns", func(t *testing.T) {
		estest.ClearESEnv(t)
		logs.Reset()
		require.NoError(t, health(t, &testOptions{Options: Options{URLs: []string{srv.URL}, InsecureSkipVerify: true}, log: logger}))
		require.Contains(t, logs.String(), `"level":"warn"`)
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
		{"api key", map[string]string{"ELASTICSEARCH_API_KEY": estest.APIKey()}, "APIKey " + estest.APIKey(),
			"Elasticsearch rejected the API key from ELASTICSEARCH_API_KEY (401 Unauthorized: unable to authenticate"},
		{"basic", map[string]string{"ELASTICSEARCH_USERNAME": "runner", "ELASTICSEARCH_PASSWORD": estest.Password},
			"Basic " + base64.StdEncoding.EncodeToString([]byte("runner:"+estest.Password)),
			`Elasticsearch rejected user "runner" with the password from ELASTICSEARCH_PASSWORD`},
		{"none", nil, "", "Elasticsearch requires authentication (401 Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			estest.ClearESEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			srv := estest.NewTLSServer(t, http.StatusUnauthorized, body)
			o := withEnv(Options{URLs: []string{srv.URL}, CACert: estest.WriteFile(t, "ca.crt", srv.CAPEM())})
			c, err := o.Client(zerolog.Nop())
			require.NoError(t, err)
			for range 5 {
				_, err = esclient.Call(context.Background(), c, esapi.ClusterHealthRequest{})
				require.Error(t, err)
				require.Contains(t, err.Error(), tt.want)
				estest.RequireNoSecrets(t, err.Error())
				require.True(t, esclient.IsSetupError(err))
			}
			require.Equal(t, 1, srv.Requests(), "after a 401 no request reaches Elasticsearch")
			require.Equal(t, tt.header, srv.AuthHeader())
		})
	}
}

func TestConfigFileSecretsRelative(t *testing.T) {
	estest.ClearESEnv(t)
	t.Run("secret files relative to the config file", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "key"), []byte(estest.APIKey()), 0o600))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "esrule.toml"), []byte("[elasticsearch]\napi_key_file = \"key\"\n"), 0o600))
		s, err := withEnv(Options{ConfigPath: filepath.Join(dir, "esrule.toml")}).Settings()
		require.NoError(t, err)
		require.Equal(t, estest.APIKey(), s.APIKey)
		require.Equal(t, "API key from config file api_key_file", authOf(t, s))
	})
}

func TestElasticsearchHostsIsRead(t *testing.T) {
	for _, tc := range []struct {
		name, url, hosts string
		want             []string
		from, err        string
	}{
		{name: "hosts alone", hosts: "http://es:9200", want: []string{"http://es:9200"}, from: "ELASTICSEARCH_HOSTS"},
		{name: "hosts as a YAML list", hosts: `["https://a:9200", "https://b:9200/"]`, want: []string{"https://a:9200", "https://b:9200"}, from: "ELASTICSEARCH_HOSTS"},
		{name: "hosts comma-separated", hosts: "https://a:9200,https://b:9200", want: []string{"https://a:9200", "https://b:9200"}, from: "ELASTICSEARCH_HOSTS"},
		{name: "both, the same", url: "http://es:9200", hosts: "[http://es:9200]", want: []string{"http://es:9200"}, from: "ELASTICSEARCH_URL"},
		{name: "both, different", url: "http://a:9200", hosts: "http://b:9200", err: "ELASTICSEARCH_URL and ELASTICSEARCH_HOSTS are both set, to different URLs: set only ELASTICSEARCH_URL"},
		{name: "hosts empty list", hosts: "[]", err: "ELASTICSEARCH_HOSTS \"[]\" holds no URL: set ELASTICSEARCH_URL"},
		{name: "hosts not a URL", hosts: "es:9200", err: "ELASTICSEARCH_HOSTS: \"es:9200\": want http:// or https://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			estest.ClearESEnv(t)
			t.Setenv("ELASTICSEARCH_URL", tc.url)
			t.Setenv("ELASTICSEARCH_HOSTS", tc.hosts)
			s, err := withEnv(Options{}).Settings()
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, s.Addresses)
			require.Equal(t, tc.from, s.AddressSource)
		})
	}
}

// TestUnreachableNamesURLAndSetting: a refused connection names the URL and
// the setting it came from, in errors and in /readyz.
func TestUnreachableNamesURLAndSetting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	estest.ClearESEnv(t)
	t.Setenv("ELASTICSEARCH_HOSTS", "http://"+addr)
	c, err := withEnv(Options{}).Client(zerolog.Nop())
	require.NoError(t, err)
	_, err = esclient.Call(t.Context(), c, esapi.ClusterHealthRequest{})
	require.Error(t, err)
	require.Contains(t, err.Error(), "Elasticsearch at http://"+addr+" (from ELASTICSEARCH_HOSTS) refused the connection")
	var ue *esclient.UnreachableError
	require.True(t, errors.As(err, &ue))

	r := endpoints.NewReadiness(c, 1, zerolog.Nop(), time.Now)
	r.SetInstalled(fmt.Errorf("check the alerts and state indices of space default: %w", err))
	got := r.Check(t.Context())
	require.ErrorContains(t, got, "refused the connection")
	require.NotContains(t, got.Error(), "not installed")
	ok, text := r.Answer(t.Context())
	require.False(t, ok)
	require.Equal(t, "not ready: Elasticsearch at http://"+addr+" (from ELASTICSEARCH_HOSTS) refused the connection", text,
		"the cause, without the dial error")

	estest.ClearESEnv(t)
	c, err = withEnv(Options{}).Client(zerolog.Nop())
	require.NoError(t, err)
	_, err = esclient.Call(t.Context(), c, esapi.ClusterHealthRequest{})
	if errors.As(err, &ue) { // unless something answers on localhost:9200
		require.Contains(t, err.Error(), "(from the default: none of --es-url, ELASTICSEARCH_URL")
	}
}

// manifestDocs reads the YAML documents of a deploy/kubernetes manifest.
func manifestDocs(t *testing.T, name string) []map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "deploy", "kubernetes", name))
	require.NoError(t, err)
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var docs []map[string]any
	for {
		var d map[string]any
		if err := dec.Decode(&d); err != nil {
			require.ErrorContains(t, err, "EOF")
			return docs
		}
		docs = append(docs, d)
	}
}

// TestManifestsWorkWithSystemCAsAndElasticCloud runs the connection settings
// with the environment the manifests give the container (the Secret through
// envFrom): as shipped (URL, API key, system CAs), for Elastic Cloud (Cloud
// ID instead of the URL) and with a private CA's PEM in the Secret. No
// manifest mounts a CA file or points ELASTICSEARCH_CA_CERT at one.
func TestManifestsWorkWithSystemCAsAndElasticCloud(t *testing.T) {
	secret := manifestDocs(t, "secret.yaml")[0]
	data := map[string]string{}
	for k, v := range secret["stringData"].(map[string]any) {
		data[k] = v.(string)
	}
	require.NotContains(t, data, "ca.crt", "the CA is optional: no mandatory ca.crt key")

	for _, name := range []string{"serve-deployment.yaml", "run-cronjob.yaml", "setup-job.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "deploy", "kubernetes", name))
		require.NoError(t, err)
		for _, line := range strings.Split(string(b), "\n") {
			trimmed := strings.TrimSpace(line)
			if strings.HasPrefix(trimmed, "#") {
				continue
			}
			require.NotContains(t, trimmed, "ca.crt", "%s mounts no CA file", name)
			require.NotContains(t, trimmed, "ELASTICSEARCH_CA_CERT", "%s leaves the CA to the Secret", name)
		}
	}

	cloudID := "esrule-test:" + base64.StdEncoding.EncodeToString([]byte("europe-west1.gcp.cloud.es.io:443$0123abcd$4567ef01"))
	caPEM := string(testCAPEM(t))
	for _, tc := range []struct {
		name   string
		change map[string]string // "" deletes the key
		tls    string
		check  func(t *testing.T, s esclient.Config)
	}{
		{"as shipped: system CAs", nil, "system CAs", func(t *testing.T, s esclient.Config) {
			require.Equal(t, []string{"https://elasticsearch.example.internal:9200"}, s.Addresses)
			require.Equal(t, "ELASTICSEARCH_API_KEY", s.APIKeySource)
		}},
		{"empty CA key: system CAs", map[string]string{"ELASTICSEARCH_CA_CERT": "\n"}, "system CAs", nil},
		{"Elastic Cloud", map[string]string{"ELASTICSEARCH_URL": "", "ELASTICSEARCH_CLOUD_ID": cloudID}, "system CAs", func(t *testing.T, s esclient.Config) {
			require.Equal(t, cloudID, s.CloudID)
		}},
		{"private CA in the Secret", map[string]string{"ELASTICSEARCH_CA_CERT": caPEM}, "CA from ELASTICSEARCH_CA_CERT", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			estest.ClearESEnv(t)
			env := map[string]string{}
			for k, v := range data {
				env[k] = v
			}
			for k, v := range tc.change {
				if v == "" {
					delete(env, k)
					continue
				}
				env[k] = v
			}
			env["ELASTICSEARCH_API_KEY"] = estest.APIKey()
			for k, v := range env {
				t.Setenv(k, v)
			}
			o := withEnv(Options{})
			s, err := o.Settings()
			require.NoError(t, err)
			if tc.check != nil {
				tc.check(t, s)
			}
			c, err := o.Client(zerolog.Nop())
			require.NoError(t, err)
			_, auth, mode := c.Describe()
			require.Equal(t, tc.tls, mode)
			require.Equal(t, "API key from ELASTICSEARCH_API_KEY", auth)
		})
	}
}

// testCAPEM is the PEM of a test server's certificate (a self-signed CA).
func testCAPEM(t *testing.T) []byte {
	t.Helper()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

// TestAllowHTTP: --es-allow-http accepts credentials over http:// to a
// host that is not loopback.
func TestAllowHTTP(t *testing.T) {
	estest.ClearESEnv(t)
	t.Setenv("ELASTICSEARCH_API_KEY", estest.APIKey())
	_, err := withEnv(Options{URLs: []string{"http://192.0.2.1:9200"}}).Config(zerolog.Nop())
	require.ErrorContains(t, err, "http://192.0.2.1:9200 would carry the credentials from ELASTICSEARCH_API_KEY in clear text")
	cfg, err := withEnv(Options{URLs: []string{"http://192.0.2.1:9200"}, AllowHTTP: true}).Config(zerolog.Nop())
	require.NoError(t, err)
	require.Equal(t, []string{"http://192.0.2.1:9200"}, cfg.Addresses)
}

// withEnv returns o reading the process environment.
func withEnv(o Options) *Options {
	o.LookupEnv = os.LookupEnv
	return &o
}
