//go:build unix

package rule

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "ok.toml"), readTestdata(t, "good/minimal.toml"))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "pipe.toml"), 0o644))
	_, err := Load([]string{dir}) // must not block on the pipe
	ps := problemsOf(t, err)
	require.Len(t, ps, 1)
	require.Equal(t, filepath.Join(dir, "pipe.toml"), ps[0].File)
	require.Contains(t, ps[0].Reason, "not a regular file")
}
