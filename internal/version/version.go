// Package version says which dplug this is: the version a release build
// stamps, or the VCS revision the go command recorded in a plain build.
package version

import "runtime/debug"

// String returns base (what -ldflags "-X ...cli.Version=" set) when it is
// not "dev"; otherwise "dev" plus the commit (and "-dirty") of a plain `go
// build` from a git checkout, or just "dev" without VCS information.
func String(base string) string {
	if base != "dev" {
		return base
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return base
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return base
	}
	return base + "+" + rev + dirty
}
