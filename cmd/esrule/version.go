package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/esrule/esrule/buildinfo"
	"github.com/esrule/esrule/output"
)

// version and revision are set at build time with
// -ldflags "-X main.version=... -X main.revision=..." (Makefile, Dockerfile).
// Without them, the revision comes from the Go build's VCS stamp.
var (
	version  = "dev"
	revision = ""
)

// currentBuild returns the build information of this binary.
func currentBuild() buildinfo.Info { return buildinfo.Read(version, revision) }

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
