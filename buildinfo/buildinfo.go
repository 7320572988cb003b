// Package buildinfo describes the running esrule binary: its version, the
// commit it was built from, the Go version and the platform (esrule
// version, metric esrule_build_info).
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Info describes a build.
type Info struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"goversion"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
}

// Read returns the build information of this binary: version and revision
// as set at build time (the command's ldflags), else the VCS stamp Go
// records, else "unknown" for the revision.
func Read(version, revision string) Info {
	b := Info{Version: version, Revision: revision, GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
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
