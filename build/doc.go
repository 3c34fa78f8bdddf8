// Package build turns a Dockerfile into a Docker managed plugin: BuildKit
// (dockerfile.v0 frontend) builds the rootfs, the project's config.json is
// validated before the solve starts, and the plugin — config.json plus
// rootfs/ — goes to a Dest: a plugin directory, an OCI layout, a registry or
// the local store.
//
// Nothing is half-written: the rootfs is exported into a staging directory
// that only becomes the result once the whole build succeeded; a canceled
// context (Ctrl-C) cancels the solve and removes it.
//
// A build pushed to a registry with nothing changed since the last build of
// the same project (same inputs, same pinned sources) reuses the rootfs that
// build exported, kept under ROOT/build/reuse, instead of exporting it from
// BuildKit again (reuse.go says how a change is noticed; WithReuse).
//
// With no BuildKit address (WithAddr, BUILDKIT_HOST) Run starts or reuses
// dplug's own buildkitd (package build/buildkitd) under the dplug root.
package build
