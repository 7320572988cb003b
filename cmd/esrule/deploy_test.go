package main

import (
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/esrule/esrule/esclient"
)

// manifestDocs reads the YAML documents of a deploy/kubernetes manifest.
func manifestDocs(t *testing.T, name string) []map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "deploy", "kubernetes", name))
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
		b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "kubernetes", name))
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
			clearESEnv(t)
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
			env["ELASTICSEARCH_API_KEY"] = testAPIKey
			for k, v := range env {
				t.Setenv(k, v)
			}
			o := &esOptions{}
			s, err := o.settings()
			require.NoError(t, err)
			if tc.check != nil {
				tc.check(t, s)
			}
			c, err := o.client()
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
