package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/buildinfo"
)

func TestVersionJSON(t *testing.T) {
	var out bytes.Buffer
	cmd := newVersionCommand()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--format", "json"})
	require.NoError(t, cmd.Execute())
	var b buildinfo.Info
	require.NoError(t, json.Unmarshal(out.Bytes(), &b))
	require.Equal(t, version, b.Version)
	require.NotEmpty(t, b.Revision)
	require.NotEmpty(t, b.GoVersion)

	cmd = newVersionCommand()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--format", "yaml"})
	require.ErrorContains(t, cmd.Execute(), `--format "yaml": want table or json`)
}
