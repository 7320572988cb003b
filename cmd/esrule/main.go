// Command esrule runs Elastic Security new_terms detection rules against
// Elasticsearch without Kibana. See README.md and docs/ (docs/commands.md for
// the commands).
package main

import (
	"io"
	"os"
	"strings"
	"time"

	"github.com/esrule/esrule/logging"
)

func main() {
	logging.UseECS(time.Now)
	os.Exit(runIO(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the command line and returns the process exit code:
// 0 success, 1 execution failed, 2 bad usage, invalid rule or bad config.
func run(args []string, stdout, stderr io.Writer) int {
	return runIO(args, strings.NewReader(""), stdout, stderr)
}

// runIO is run with stdin.
func runIO(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root, g := newRootCommand(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err != nil && !g.started {
		err = asUsage(err)
	}
	return exitCode(err, stderr)
}
