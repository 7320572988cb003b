package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGeneratedTemplatesAreUpToDate fails when an input changed without
// `go generate ./mappings/`.
func TestGeneratedTemplatesAreUpToDate(t *testing.T) {
	out := t.TempDir()
	require.NoError(t, generate(".", out))
	for _, name := range []string{"alerts-template.json", "okta-demo-template.json", "kibana-security-alerts.json"} {
		want, err := os.ReadFile(filepath.Join(out, name))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join("..", "..", name))
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "%s is stale: run go generate ./mappings/", name)
	}
}
