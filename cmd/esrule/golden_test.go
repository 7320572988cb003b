package main

import (
	"flag"
	"testing"

	"github.com/esrule/esrule/internal/golden"
)

// update rewrites the golden files: go test ./cmd/esrule -run X -update.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// checkGolden compares got with testdata/golden/name (rewritten with -update).
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, name, got, *update)
}
