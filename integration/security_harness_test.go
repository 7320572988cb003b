//go:build integration

package integration

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/stretchr/testify/require"
)

// secureES is the Elasticsearch with security on (TLS + file-realm
// superuser) that scripts/elasticsearch.sh --secure starts; scripts/test.sh
// passes it to the 8.19 run as ESRULE_TEST_ES_SECURE_URL, ESRULE_TEST_ES_CA,
// ESRULE_TEST_ES_USER and ESRULE_TEST_ES_PASSWORD.
type secureES struct {
	url, ca, user, password string
	// configDir is the node's config directory (file realm and file roles):
	// ESRULE_TEST_ES_CONFIG_DIR, else the grandparent of the CA file
	// (<instance>/config/certs/ca.crt, as scripts/elasticsearch.sh lays it out).
	configDir string
	super     *elasticsearch.Client
	// extraRoles are role bodies (JSON) provisioned by provisionFileRealm
	// under their name instead of a file of deploy/roles/.
	extraRoles map[string]string
}

// secureNode is held by the security test that uses the secured node.
var secureNode sync.Mutex

// requireSecureES returns the secured Elasticsearch. In CI (CI=true) a
// missing or unreachable one fails the test, except in the run against a
// plain 9.x node, to which scripts/test.sh gives no secured node.
func requireSecureES(t *testing.T) *secureES {
	t.Helper()
	// The security tests rewrite the node's file realm and share its
	// default space: one at a time, beside the other tests.
	secureNode.Lock()
	t.Cleanup(secureNode.Unlock)
	s := &secureES{
		url: os.Getenv("ESRULE_TEST_ES_SECURE_URL"), ca: os.Getenv("ESRULE_TEST_ES_CA"),
		user: os.Getenv("ESRULE_TEST_ES_USER"), password: os.Getenv("ESRULE_TEST_ES_PASSWORD"),
		configDir: os.Getenv("ESRULE_TEST_ES_CONFIG_DIR"),
	}
	if s.url == "" {
		msg := "ESRULE_TEST_ES_SECURE_URL is not set: start a secured node with scripts/elasticsearch.sh start --secure and set ESRULE_TEST_ES_SECURE_URL, ESRULE_TEST_ES_CA, ESRULE_TEST_ES_USER, ESRULE_TEST_ES_PASSWORD"
		t.Fatal(msg + " (scripts/test.sh does so for the 8.x run)")
	}
	require.NotEmpty(t, s.ca, "ESRULE_TEST_ES_CA")
	require.NotEmpty(t, s.user, "ESRULE_TEST_ES_USER")
	require.NotEmpty(t, s.password, "ESRULE_TEST_ES_PASSWORD")
	if s.configDir == "" {
		s.configDir = filepath.Dir(filepath.Dir(s.ca))
	}
	ca, err := os.ReadFile(s.ca)
	require.NoError(t, err)
	s.super, err = elasticsearch.NewClient(elasticsearch.Config{
		Addresses: []string{s.url}, CACert: ca, Username: s.user, Password: s.password,
	})
	require.NoError(t, err)
	waitFor(t, "secured Elasticsearch at "+s.url+" reachable as "+s.user, func() (bool, string) {
		res, err := s.super.Cluster.Health(s.super.Cluster.Health.WithWaitForStatus("yellow"), s.super.Cluster.Health.WithTimeout(5*time.Second))
		if err != nil {
			return false, err.Error()
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK, fmt.Sprintf("status %d", res.StatusCode)
	})
	return s
}

// do sends a request as the superuser (or with the given Authorization
// header) and returns status and body.
func (s *secureES) do(t *testing.T, auth, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url+path, r)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if auth == "" {
		req.SetBasicAuth(s.user, s.password)
	} else {
		req.Header.Set("Authorization", auth)
	}
	res, err := s.super.Transport.Perform(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, b
}

func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// fileRealmUser is a user of the node's file realm with one role.
type fileRealmUser struct{ name, password, role string }

// provisionFileRealm installs the roles of deploy/roles/ as file roles and
// the users in the file realm, restoring the files at cleanup. The
// integ-test-zip lacks analysis-common, so the .security index (native
// users, native roles, API keys) cannot be created there; file roles take
// the role API's JSON as it is (JSON is YAML).
func (s *secureES) provisionFileRealm(t *testing.T, roles []string, users []fileRealmUser) {
	t.Helper()
	for _, f := range []string{"roles.yml", "users", "users_roles"} {
		p := filepath.Join(s.configDir, f)
		old, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatalf("read %s (set ESRULE_TEST_ES_CONFIG_DIR to the node's config directory): %v", p, err)
		}
		t.Cleanup(func() { _ = os.WriteFile(p, old, 0o644) })
	}
	var rolesYML strings.Builder
	for _, name := range roles {
		b, err := []byte(s.extraRoles[name]), error(nil)
		if s.extraRoles[name] == "" {
			b, err = os.ReadFile(filepath.Join("..", "deploy", "roles", name+".json"))
		}
		require.NoError(t, err)
		var compact bytes.Buffer
		require.NoError(t, json.Compact(&compact, b))
		fmt.Fprintf(&rolesYML, "%s: %s\n", name, compact.String())
	}
	rewrite := func(file string, drop func(line string) bool, add string) {
		p := filepath.Join(s.configDir, file)
		old, _ := os.ReadFile(p)
		var keep []string
		for _, line := range strings.Split(strings.TrimRight(string(old), "\n"), "\n") {
			if line != "" && !drop(line) {
				keep = append(keep, line)
			}
		}
		content := strings.Join(keep, "\n")
		if content != "" {
			content += "\n"
		}
		require.NoError(t, os.WriteFile(p, []byte(content+add), 0o644))
	}
	ours := map[string]bool{}
	for _, r := range roles {
		ours[r] = true
	}
	rewrite("roles.yml", func(line string) bool {
		name, _, _ := strings.Cut(line, ":")
		return ours[name]
	}, rolesYML.String())
	var usersFile, usersRoles strings.Builder
	names := map[string]bool{}
	members := map[string][]string{}
	for _, u := range users {
		names[u.name] = true
		fmt.Fprintf(&usersFile, "%s:%s\n", u.name, pbkdf2Hash(t, u.password))
		members[u.role] = append(members[u.role], u.name)
	}
	for role, us := range members {
		fmt.Fprintf(&usersRoles, "%s:%s\n", role, strings.Join(us, ","))
	}
	rewrite("users", func(line string) bool {
		name, _, _ := strings.Cut(line, ":")
		return names[name]
	}, usersFile.String())
	rewrite("users_roles", func(line string) bool {
		name, _, _ := strings.Cut(line, ":")
		return members[name] != nil
	}, usersRoles.String())

	// The node reloads these files every 5 s.
	for _, u := range users {
		waitFor(t, "file realm user "+u.name+" active", func() (bool, string) {
			status, body := s.do(t, basicAuth(u.name, u.password), http.MethodGet, "/_security/_authenticate", nil)
			return status == http.StatusOK && bytes.Contains(body, []byte(u.role)), fmt.Sprintf("%d %s", status, body)
		})
	}
}

// pbkdf2Hash is the file realm's {PBKDF2} password hash (PBKDF2WithHmacSHA512,
// 10000 rounds, 32-byte salt and key).
func pbkdf2Hash(t *testing.T, password string) string {
	salt := make([]byte, 32)
	_, _ = rand.Read(salt)
	key, err := pbkdf2.Key(sha512.New, password, salt, 10000, 32)
	require.NoError(t, err)
	return fmt.Sprintf("{PBKDF2}10000$%s$%s", base64.StdEncoding.EncodeToString(salt), base64.StdEncoding.EncodeToString(key))
}

func randomSecret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// grantAPIKey creates an API key for the user as the superuser (grant API
// key with the user's password), so the key has exactly the user's roles and
// the runner role needs no manage_own_api_key. ok is false when this node
// cannot store API keys (the integ-test-zip cannot create the .security index).
func (s *secureES) grantAPIKey(t *testing.T, user, password, name, expiration string) (id, encoded string, ok bool) {
	t.Helper()
	status, body := s.do(t, "", http.MethodPost, "/_security/api_key/grant", map[string]any{
		"grant_type": "password", "username": user, "password": password,
		"api_key": map[string]any{"name": name, "expiration": expiration},
	})
	if status != http.StatusOK {
		t.Logf("API keys unavailable on this node (%d %s)", status, shorten(body))
		return "", "", false
	}
	var key struct{ ID, Encoded string }
	require.NoError(t, json.Unmarshal(body, &key))
	return key.ID, key.Encoded, true
}

func shorten(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// leafFingerprint is the SHA-256 of the node's certificate, as
// ELASTICSEARCH_CA_FINGERPRINT takes it.
func (s *secureES) leafFingerprint(t *testing.T) string {
	u, err := url.Parse(s.url)
	require.NoError(t, err)
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // reading the certificate only
	require.NoError(t, err)
	defer conn.Close()
	sum := sha256.Sum256(conn.ConnectionState().PeerCertificates[0].Raw)
	return hex.EncodeToString(sum[:])
}

// otherCA writes a CA certificate that did not sign the node's certificate.
func otherCA(t *testing.T) string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "some other CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "other-ca.crt")
	require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	return p
}

// cliRun is one run of the esrule binary.
type cliRun struct {
	code           int
	stdout, stderr string
}

// requests counts the Elasticsearch requests in a --log-level debug log.
func (r cliRun) requests() int {
	return strings.Count(r.stderr, `"message":"elasticsearch request"`)
}

var outputs struct {
	mu  sync.Mutex
	all []string
}

// runESRule runs the binary with only the given environment (plus PATH and
// HOME) and records its output for the secrets check.
func runESRule(t *testing.T, env map[string]string, args ...string) cliRun {
	t.Helper()
	r := runEsruleSpec(t, "esrule "+args[0], procSpec{args: args, env: envList(env), cleanEnv: true})
	outputs.mu.Lock()
	outputs.all = append(outputs.all, r.stdout, r.stderr)
	outputs.mu.Unlock()
	return r
}

// envList turns env into NAME=value entries.
func envList(env map[string]string) []string {
	var out []string
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// recordOutput adds a process's output to the secrets check when the test
// ends.
func recordOutput(t *testing.T, p *esruleProc) {
	t.Cleanup(func() {
		outputs.mu.Lock()
		outputs.all = append(outputs.all, p.stdout.String(), p.stderr.String())
		outputs.mu.Unlock()
	})
}

// stopServe sends SIGTERM to a serve process and expects exit 0.
func stopServe(t *testing.T, p *esruleProc) {
	t.Helper()
	p.signal(t, syscall.SIGTERM)
	require.Zero(t, p.wait(t), p.stderr.String())
}

// requireNoErrorLogged fails when the process logged at level error.
func requireNoErrorLogged(t *testing.T, p *esruleProc) {
	t.Helper()
	for _, l := range logLines(p.stderr.String()) {
		require.NotEqual(t, "error", l["log.level"], "serve logged an error: %s", p.stderr.String())
	}
}

// logLines decodes the JSON log lines of stderr.
func logLines(stderr string) []map[string]any {
	var lines []map[string]any
	for _, l := range strings.Split(stderr, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			lines = append(lines, m)
		}
	}
	return lines
}

var summaryCreated = regexp.MustCompile(`"alerts_created":(\d+)`)
