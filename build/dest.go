package build

import "github.com/dplug/dplug/dest"

// Dest receives a built plugin: package dest's interface. The store,
// OCI layout and registry destinations below still live here; Dir and All
// have moved to package dest.
type Dest = dest.Dest

// Stager is dest.Stager.
type Stager = dest.Stager

// Dir writes the plugin as a directory (dest.Dir).
type Dir = dest.Dir

// All delivers one build to several destinations (dest.All).
func All(dests ...Dest) (Dest, error) { return dest.All(dests...) }

// PlatformDir is one platform's plugin of a multi-platform build
// (dest.PlatformDir).
type PlatformDir = dest.PlatformDir

// MultiDest takes the plugins of a multi-platform build (dest.MultiDest).
type MultiDest = dest.MultiDest
