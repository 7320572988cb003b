package main

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"
)

// TestEveryHelpFileHasItsCommand: each help/NAME.txt is the long help of
// the command it names, and no file is left without a command.
func TestEveryHelpFileHasItsCommand(t *testing.T) {
	root, _ := newRootCommand(strings.NewReader(""), &strings.Builder{}, &strings.Builder{})
	used := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		name := strings.ReplaceAll(strings.TrimPrefix(c.CommandPath(), "esrule "), " ", "-")
		if c.Long != "" { // cobra adds its help and completion commands at Execute
			require.Equal(t, longHelp(name), c.Long, name)
			used[name+".txt"] = true
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	files, err := fs.Glob(helpFiles, "help/*.txt")
	require.NoError(t, err)
	for _, f := range files {
		require.True(t, used[strings.TrimPrefix(f, "help/")], "%s names no command", f)
	}
}
