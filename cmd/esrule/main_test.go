package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/logging"
)

// TestMain configures logging as main does.
func TestMain(m *testing.M) {
	logging.UseECS(time.Now)
	os.Exit(m.Run())
}

// demoStats is a command that logs without Elasticsearch.
var demoStats = []string{"demo", "generate", "--days", "1", "--users", "2", "--scenarios=false", "--stats"}

// TestConsoleColourOnlyOnATerminal runs a command with stderr on a
// pseudo-terminal, then on a buffer (a pipe or file), then with NO_COLOR.
func TestConsoleColourOnlyOnATerminal(t *testing.T) {
	args := append([]string{"--log-format", "console"}, demoStats...)
	ptmx, tty, err := pty.Open()
	require.NoError(t, err)
	defer ptmx.Close()
	var out bytes.Buffer
	t.Setenv("NO_COLOR", "")
	require.Equal(t, exitOK, run(args, &out, tty))
	require.NoError(t, tty.Close())
	buf := make([]byte, 8192)
	n, err := ptmx.Read(buf)
	require.NoError(t, err)
	require.Contains(t, string(buf[:n]), "\x1b[", "colour on a terminal: %q", buf[:n])
	require.Contains(t, string(buf[:n]), "generated demo data")

	var errOut bytes.Buffer
	require.Equal(t, exitOK, run(args, &out, &errOut))
	require.NotContains(t, errOut.String(), "\x1b", "no escapes off a terminal")
	require.Contains(t, errOut.String(), "generated demo data")

	t.Setenv("NO_COLOR", "1")
	ptmx2, tty2, err := pty.Open()
	require.NoError(t, err)
	defer ptmx2.Close()
	require.Equal(t, exitOK, run(args, &out, tty2))
	require.NoError(t, tty2.Close())
	n, err = ptmx2.Read(buf)
	require.NoError(t, err)
	require.NotContains(t, string(buf[:n]), "\x1b", "NO_COLOR: no escapes on a terminal either")
	require.Contains(t, string(buf[:n]), "generated demo data")
}

// TestLogsAreECS checks the JSON log line of a command: ECS names, the
// duration in nanoseconds.
func TestLogsAreECS(t *testing.T) {
	code, _, stderr := runCLI(t, demoStats...)
	require.Equal(t, exitOK, code, stderr)
	var line map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(stderr)), &line), stderr)
	for _, k := range []string{"@timestamp", "log.level", "message", "ecs.version", "event.duration"} {
		require.Contains(t, line, k)
	}
	for _, k := range []string{"time", "level", "took_ms", "took"} {
		require.NotContains(t, line, k)
	}
	_, err := time.Parse(time.RFC3339Nano, line["@timestamp"].(string))
	require.NoError(t, err)
}

// TestLogLevelCheckedEverywhere: every command refuses a bad --log-level,
// also those that log nothing before failing.
func TestLogLevelCheckedEverywhere(t *testing.T) {
	for _, args := range [][]string{
		{"alerts"}, {"version"}, {"rules", "list"}, {"kql", "a:b"}, {"demo", "scenarios"}, {"setup"},
	} {
		code, _, stderr := runCLI(t, append(args, "--log-level", "verbose")...)
		require.Equal(t, exitUsage, code, "%v", args)
		require.Contains(t, stderr, `--log-level "verbose": want debug, info, warn or error`, "%v", args)
		code, _, stderr = runCLI(t, append(args, "--log-format", "text")...)
		require.Equal(t, exitUsage, code, "%v", args)
		require.Contains(t, stderr, `--log-format "text": want json or console`, "%v", args)
	}
}
