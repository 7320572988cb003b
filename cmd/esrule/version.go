package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/esrule/esrule/output"
)

// version and revision are set at build time with
// -ldflags "-X main.version=... -X main.revision=..." (Makefile, Dockerfile).
// Without them, the revision comes from the Go build's VCS stamp.
var (
	version  = "dev"
	revision = ""
)

// buildInfo describes this binary (esrule version, metric esrule_build_info).
type buildInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"goversion"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
}

// currentBuild returns the build information of this binary: the ldflags
// values, else the VCS stamp Go records, else "unknown".
func currentBuild() buildInfo {
	b := buildInfo{Version: version, Revision: revision, GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Revision == "" {
					b.Revision = s.Value
				}
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Revision == "" {
		b.Revision = "unknown"
	}
	return b
}

func newVersionCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print build information",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := output.CheckFormat(format); err != nil {
				return asUsage(err)
			}
			b := currentBuild()
			if format == output.JSON {
				return output.NewLines(cmd.OutOrStdout()).Write(b)
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "esrule %s (commit %s, %s, %s/%s)\n", b.Version, b.Revision, b.GoVersion, b.OS, b.Arch)
			return err
		},
	}
	output.AddFormatFlag(cmd.Flags(), &format, output.Table)
	return cmd
}
