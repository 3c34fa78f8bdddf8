// Package buildkitd finds, starts, reuses and stops the private BuildKit
// daemon dplug builds with when no --addr or BUILDKIT_HOST is given.
//
// The daemon runs as root with the OCI (runc) worker, keeps its state under
// the dplug root (ROOT/buildkit) and listens on a unix socket in a private
// 0700 directory (ROOT/run/buildkitd, or /run/dplug/buildkitd-HASH when that
// path is too long for a socket). A pid file beside the socket lets later
// builds reuse it (Manager.Ensure); it runs until Manager.Stop (`dplug
// buildkitd stop`) or, with WithIdleTimeout and WithWatcher, until it has
// been unused for the timeout (Manager.StopWhenIdle, Manager.Use).
//
// The buildkitd binary is looked up on PATH, then at ROOT/bin/buildkitd,
// where `dplug setup` builds the BuildKit version dplug was built with.
package buildkitd
