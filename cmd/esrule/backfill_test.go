package main

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/require"
)

// noES is an address where nothing listens: commands get as far as their
// first request.
const noES = "http://127.0.0.1:1"

func TestBackfillPlanAndFutureTo(t *testing.T) {
	from := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	code, _, stderr := runCLI(t, "backfill", "--es-url", noES, "--dry-run", "--from", from, "--to", "now+1d", "--progress", "none")
	require.Equal(t, exitFailed, code, stderr)
	require.Contains(t, stderr, "--to is in the future; the backfill ends at now")
	require.Regexp(t, `backfill plan: rule 6f1bb4b2-7dc8-11ee-92b2-f661ea17fbcd: 1[12] slots of 5m0s in \(\S+, \S+\], fast mode`, stderr)

	code, _, stderr = runCLI(t, "backfill", "--es-url", noES, "--from", "now+1h", "--to", "now+2h")
	require.Equal(t, exitUsage, code, stderr)
	require.Contains(t, stderr, "must be after --from")
}

// TestBackfillAsksOnATerminal: a range over --confirm-above needs a yes
// when stdin is a terminal; --yes or a pipe skip the question.
func TestBackfillAsksOnATerminal(t *testing.T) {
	args := []string{"backfill", "--es-url", noES, "--dry-run", "--from", "now-60d", "--to", "now-1d", "--progress", "none"}
	for _, tc := range []struct {
		answer string
		code   int
	}{{"n\n", exitUsage}, {"\n", exitUsage}, {"y\n", exitFailed}} {
		ptmx, tty, err := pty.Open()
		require.NoError(t, err)
		_, err = ptmx.Write([]byte(tc.answer))
		require.NoError(t, err)
		var stdout, stderr bytes.Buffer
		code := runIO(args, tty, &stdout, &stderr)
		require.Equal(t, tc.code, code, "answer %q: %s", tc.answer, stderr.String())
		require.Contains(t, stderr.String(), "Backfill 16992 slots over 1416h0m0s (longer than --confirm-above 720h0m0s)? [y/N]")
		if tc.code == exitUsage {
			require.Contains(t, stderr.String(), "not confirmed; rerun with --yes")
		}
		ptmx.Close()
		tty.Close()
	}

	ptmx, tty, err := pty.Open()
	require.NoError(t, err)
	defer ptmx.Close()
	defer tty.Close()
	var stdout, stderr bytes.Buffer
	require.Equal(t, exitFailed, runIO(append(args, "--yes"), tty, &stdout, &stderr))
	require.NotContains(t, stderr.String(), "[y/N]")

	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	w.Close()
	stderr.Reset()
	require.Equal(t, exitFailed, runIO(args, r, &stdout, &stderr), "not a terminal: no question")
	require.NotContains(t, stderr.String(), "[y/N]")
}
