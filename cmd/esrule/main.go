// Command esrule runs Elastic Security new_terms detection rules against
// Elasticsearch without Kibana. See SPEC.md and the README.
package main

import (
	"io"
	"os"
	"time"

	"github.com/esrule/esrule/logging"
)

func main() {
	logging.UseECS(time.Now)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the process exit code:
// 0 success, 1 execution failed, 2 bad usage, invalid rule or bad config.
func run(args []string, stdout, stderr io.Writer) int {
	root, g := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err != nil && !g.started {
		err = asUsage(err)
	}
	return exitCode(err, stderr)
}
