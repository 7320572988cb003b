package main

import (
	"testing"

	"github.com/esrule/esrule/internal/estest"

	"github.com/stretchr/testify/require"
)

// TestSecurityWarningsAtEveryLevel: the --insecure-skip-verify and clear-text
// credential warnings are printed even at --log-level error.
func TestSecurityWarningsAtEveryLevel(t *testing.T) {
	estest.ClearESEnv(t)
	t.Setenv("ELASTICSEARCH_USERNAME", "esrule")
	t.Setenv("ELASTICSEARCH_PASSWORD", "pw-not-printed")
	for _, level := range []string{"info", "error"} {
		_, _, errOut := runCLI(t, "--log-level", level, "--insecure-skip-verify", "--es-url", "https://127.0.0.1:1", "setup")
		require.Contains(t, errOut, `"log.level":"warn"`, level)
		require.Contains(t, errOut, "--insecure-skip-verify", level)
		_, _, errOut = runCLI(t, "--log-level", level, "--es-url", "http://127.0.0.1:1", "setup")
		require.Contains(t, errOut, "credentials are sent over http:// in clear text", level)
		require.NotContains(t, errOut, "pw-not-printed")
	}
}

// TestPlaintextCredentialsRefused: credentials over http:// to another host
// are a usage error unless --es-allow-http.
func TestPlaintextCredentialsRefused(t *testing.T) {
	estest.ClearESEnv(t)
	t.Setenv("ELASTICSEARCH_API_KEY", estest.APIKey())
	code, _, errOut := runCLI(t, "--es-url", "http://192.0.2.1:9200", "setup")
	require.Equal(t, exitUsage, code, errOut)
	require.Contains(t, errOut, "http://192.0.2.1:9200 would carry the credentials from ELASTICSEARCH_API_KEY in clear text")
}
