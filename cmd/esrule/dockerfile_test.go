package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDockerfilePinsBaseImages: every base image of the Dockerfile is
// pinned by digest, its tag kept for the reader.
func TestDockerfilePinsBaseImages(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	require.NoError(t, err)
	pinned := regexp.MustCompile(`^FROM (--platform=\S+ )?[a-z0-9./-]+:[\w.-]+@sha256:[0-9a-f]{64}( AS \w+)?$`)
	froms := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "FROM ") {
			froms++
			require.Regexp(t, pinned, line)
		}
	}
	require.Equal(t, 2, froms)
}
