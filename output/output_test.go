package output

import (
	"bytes"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
)

func TestFormatFlag(t *testing.T) {
	var format string
	f := pflag.NewFlagSet("x", pflag.ContinueOnError)
	AddFormatFlag(f, &format, Table)
	require.NoError(t, f.Parse([]string{"--format", "json"}))
	require.Equal(t, JSON, format)
	require.NoError(t, CheckFormat(format))
	require.EqualError(t, CheckFormat("yaml"), `--format "yaml": want table or json`)
}

func TestLines(t *testing.T) {
	var b bytes.Buffer
	l := NewLines(&b)
	require.NoError(t, l.Write(map[string]string{"reason": "<a & b>"}))
	require.NoError(t, l.Write([]int{1}))
	require.Equal(t, "{\"reason\":\"<a & b>\"}\n[1]\n", b.String())
}
