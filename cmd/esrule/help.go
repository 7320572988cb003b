package main

import (
	"embed"
	"strings"
)

// helpFiles holds the long help of every command, as prose: help/NAME.txt,
// where NAME is the command's path after "esrule" with its words joined by
// "-" (esrule.txt for the root command).
//
//go:embed help/*.txt
var helpFiles embed.FS

// longHelp returns the long help of the command NAME (see helpFiles). A
// missing file is a mistake in the source, which every test that builds
// the command tree reports.
func longHelp(name string) string {
	b, err := helpFiles.ReadFile("help/" + name + ".txt")
	if err != nil {
		panic("esrule: no help text help/" + name + ".txt")
	}
	return strings.TrimSuffix(string(b), "\n")
}
