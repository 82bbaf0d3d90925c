// Package version reports which leakwatch this is. Version and Revision are
// set at build time with -ldflags "-X ..."; without them the module's build
// information is used.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set by -ldflags "-X github.com/leakwatch/leakwatch/internal/version.Version=...".
var (
	Version  = ""
	Revision = ""
)

func init() {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	if Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		Version = info.Main.Version
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && Revision == "" {
			Revision = s.Value
		}
	}
	if Version == "" {
		Version = "dev"
	}
	if Revision == "" {
		Revision = "unknown"
	}
}

// GoVersion is the Go release that built this binary.
func GoVersion() string { return runtime.Version() }

// String is the one-line version text of `leakwatch version`.
func String() string {
	return fmt.Sprintf("leakwatch %s (revision %s, %s %s/%s)", Version, Revision, GoVersion(), runtime.GOOS, runtime.GOARCH)
}
