//go:build integration

package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIntegrationSecurityPinning pins the CA of the secured node, which
// presents only its own certificate: the CA's fingerprint works together
// with the CA file, alone it is refused (before any request) with a message
// that says so; the leaf's fingerprint works alone. An http:// URL to the
// node is answered with "this node speaks TLS" after one request.
func TestIntegrationSecurityPinning(t *testing.T) {
	t.Parallel()
	es := requireSecureES(t)
	b, err := os.ReadFile(es.ca)
	require.NoError(t, err)
	block, _ := pem.Decode(b)
	require.NotNil(t, block)
	sum := sha256.Sum256(block.Bytes)
	caFingerprint := hex.EncodeToString(sum[:])
	env := func(extra map[string]string) map[string]string {
		e := map[string]string{"ELASTICSEARCH_URL": es.url, "ELASTICSEARCH_USERNAME": es.user, "ELASTICSEARCH_PASSWORD": es.password}
		for k, v := range extra {
			e[k] = v
		}
		return e
	}

	r := runESRule(t, env(map[string]string{"ELASTICSEARCH_CA_FINGERPRINT": caFingerprint, "ELASTICSEARCH_CA_CERT": es.ca}),
		"setup", "--dry-run", "--log-level", "debug")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stderr, "pinned by fingerprint")

	r = runESRule(t, env(map[string]string{"ELASTICSEARCH_CA_FINGERPRINT": caFingerprint}), "setup", "--dry-run", "--log-level", "debug")
	require.Equal(t, 1, r.code, r.stderr)
	require.Contains(t, r.stderr, "matches the pinned fingerprint")
	require.Contains(t, r.stderr, "together with ELASTICSEARCH_CA_CERT naming that CA's PEM")
	require.Equal(t, 1, r.requests(), "one attempt, no retries:\n%s", r.stderr)

	r = runESRule(t, env(map[string]string{"ELASTICSEARCH_CA_FINGERPRINT": es.leafFingerprint(t)}), "setup", "--dry-run")
	require.Equal(t, 0, r.code, r.stderr)

	// http:// to the TLS node: one request (loopback: allowed with a
	// warning, even at --log-level error), then the message, no retry.
	plain := env(nil)
	plain["ELASTICSEARCH_URL"] = strings.Replace(es.url, "https://", "http://", 1)
	r = runESRule(t, plain, "setup", "--dry-run", "--log-level", "error")
	require.Equal(t, 1, r.code, r.stderr)
	require.Contains(t, r.stderr, "this node speaks TLS: use https:// in ELASTICSEARCH_URL")
	require.Contains(t, r.stderr, "credentials are sent over http:// in clear text")
	r = runESRule(t, plain, "setup", "--dry-run", "--log-level", "debug")
	require.Equal(t, 1, r.requests(), "no retry in clear text:\n%s", r.stderr)
	for _, out := range []string{r.stdout, r.stderr} {
		require.NotContains(t, out, es.password)
	}
}
