package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	UseECS(func() time.Time { return time.Date(2026, 12, 4, 18, 0, 0, 123e6, time.UTC) })
	os.Exit(m.Run())
}

func TestJSONIsECS(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, Options{Format: "json", Level: "info"})
	require.NoError(t, err)
	log.Error().Err(errors.New("boom")).Dur("event.duration", 1500*time.Millisecond).
		Time("slot", time.Date(2026, 12, 4, 17, 55, 0, 0, time.UTC)).Msg("rule execution failed")
	log.Debug().Msg("not at info")
	var got map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
	require.Equal(t, map[string]any{
		"@timestamp": "2026-12-04T18:00:00.123Z", "log.level": "error", "message": "rule execution failed",
		"error.message": "boom", "event.duration": float64(1500 * time.Millisecond), "slot": "2026-12-04T17:55:00.000Z",
		"ecs.version": ECSVersion,
	}, got)
}

func TestLevelsAndFormats(t *testing.T) {
	for _, l := range Levels() {
		_, err := ParseLevel(l)
		require.NoError(t, err)
	}
	for _, bad := range []string{"", "verbose", "trace", "INFO", "disabled"} {
		_, err := ParseLevel(bad)
		require.ErrorContains(t, err, "want debug, info, warn or error", bad)
	}
	require.ErrorContains(t, CheckFormat("text"), "want json or console")
	_, err := New(io.Discard, Options{Format: "xml", Level: "info"})
	require.Error(t, err)
}

// TestColorOnlyOnATerminal writes console logs to a pseudo-terminal and to
// a pipe: escapes only on the terminal, and not with NO_COLOR.
func TestColorOnlyOnATerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	require.NoError(t, err)
	defer ptmx.Close()
	defer tty.Close()
	noEnv := func(string) (string, bool) { return "", false }
	noColor := func(k string) (string, bool) { return "1", k == "NO_COLOR" }
	emptyNoColor := func(k string) (string, bool) { return "", k == "NO_COLOR" }

	require.True(t, Color(tty, noEnv))
	require.True(t, Color(tty, emptyNoColor), "an empty NO_COLOR does not count (no-color.org)")
	require.False(t, Color(tty, noColor))
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	require.False(t, Color(w, noEnv))
	require.False(t, Color(&bytes.Buffer{}, noEnv))

	log, err := New(tty, Options{Format: "console", Level: "info", Color: Color(tty, noEnv)})
	require.NoError(t, err)
	log.Warn().Str("rule_id", "r1").Msg("on a terminal")
	buf := make([]byte, 4096)
	n, err := ptmx.Read(buf)
	require.NoError(t, err)
	require.Contains(t, string(buf[:n]), "\x1b[", "colour on a terminal")
	require.Contains(t, string(buf[:n]), "on a terminal")

	var plain bytes.Buffer
	log, err = New(&plain, Options{Format: "console", Level: "info", Color: Color(&plain, noEnv)})
	require.NoError(t, err)
	log.Warn().Str("rule_id", "r1").Msg("in a file")
	require.False(t, strings.Contains(plain.String(), "\x1b"), "no escapes off a terminal: %q", plain.String())
}
