package estest

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Secret values for tests of connection settings; none may ever be printed
// (RequireNoSecrets).
const (
	APIKeyID  = "VuaCfGcBCdbkQm-e5aOx"
	APIKeyKey = "ui2lp2axTNmsyakw9tvNnw"
	Password  = "s3cret-Passw0rd-for-tests"
)

// APIKey is the base64 "id:key" of APIKeyID and APIKeyKey, as
// ELASTICSEARCH_API_KEY holds it.
func APIKey() string { return base64.StdEncoding.EncodeToString([]byte(APIKeyID + ":" + APIKeyKey)) }

// RequireNoSecrets fails the test when text holds any of the secrets above.
func RequireNoSecrets(t testing.TB, text string) {
	t.Helper()
	for _, s := range []string{APIKey(), APIKeyKey, Password} {
		if strings.Contains(text, s) {
			t.Fatalf("a secret is printed: %q", text)
		}
	}
}

// ClearESEnv empties, for the test, every variable the connection settings
// and the command line read (ELASTICSEARCH_* and ESRULE_*).
func ClearESEnv(t *testing.T) {
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

// WriteFile writes content to a file named name in a temporary directory of
// the test and returns its path.
func WriteFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatalf("write %s: %v", p, err)
	}
	return p
}
