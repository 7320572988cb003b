// Package golden compares a test's output with a file under the test
// package's testdata, and rewrites the file instead when asked (each test
// package has its own -update flag and passes its value).
package golden

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Check compares got with testdata/golden/name, after writing got there when
// update is set.
func Check(t testing.TB, name string, got []byte, update bool) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	require.Equal(t, string(want), string(got), "output differs from %s (rerun with -update if intended)", path)
}
