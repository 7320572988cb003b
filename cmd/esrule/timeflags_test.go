package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/timespec"
)

// TestTimeFlagsShareOneSyntax checks that every time flag refuses a bad
// value with the same message listing the accepted forms.
func TestTimeFlagsShareOneSyntax(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--at", "yesterday"},
		{"run", "--start-from", "yesterday"},
		{"serve", "--start-from", "yesterday"},
		{"backfill", "--from", "yesterday"},
		{"backfill", "--from", "now-1d", "--to", "yesterday"},
		{"alerts", "--since", "yesterday"},
		{"rules", "explain", "--at", "yesterday"},
		{"demo", "scenarios", "--end", "yesterday"},
	} {
		code, _, stderr := runCLI(t, args...)
		require.Equal(t, exitUsage, code, "%v", args)
		require.Contains(t, stderr, args[len(args)-2]+` "yesterday": want `+timespec.Forms, "%v", args)
	}
}
