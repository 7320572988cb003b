package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func runKQLCommand(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(append([]string{"kql"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestKQLCommand(t *testing.T) {
	fields := filepath.Join(t.TempDir(), "fields.json")
	require.NoError(t, os.WriteFile(fields, []byte(`[
		{"name":"process.name","type":"string","esTypes":["keyword"]},
		{"name":"n.f","type":"string","esTypes":["keyword"],"subType":{"nested":{"path":"n"}}}]`), 0o600))

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"untyped", []string{"process.name:cmd*"}, 0,
			`{"bool":{"minimum_should_match":1,"should":[{"query_string":{"fields":["process.name"],"query":"cmd*"}}]}}`, ""},
		{"typed from file", []string{"--fields", fields, "process.name:cmd*"}, 0,
			`{"bool":{"minimum_should_match":1,"should":[{"wildcard":{"process.name":{"value":"cmd*"}}}]}}`, ""},
		{"syntax error", []string{"message: cannot connect"}, 2, "",
			"position 12: Expected AND, OR, or end of input but \"n\" found.\nmessage: cannot connect\n------------^"},
		{"nested misuse names the field", []string{"--fields", fields, "n.f:x"}, 2, "",
			"n.f is a nested field, but is not in a nested group"},
		{"missing query", nil, 2, "", "accepts 1 arg"},
		{"exclusive flags", []string{"--untyped", "--fields", fields, "a:b"}, 2, "", "--untyped excludes"},
		{"unreadable fields file", []string{"--fields", filepath.Join(t.TempDir(), "none.json"), "a:b"}, 2, "", "read field specs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runKQLCommand(tt.args...)
			require.Equal(t, tt.wantCode, code, stderr)
			if tt.wantStdout != "" {
				require.JSONEq(t, tt.wantStdout, stdout)
			}
			require.Contains(t, stderr, tt.wantStderr)
		})
	}
}
