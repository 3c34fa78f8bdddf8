// Package testenv starts the real programs dplug's integration tests run
// against (docker-registry, dockerd, buildkitd) on loopback, and decides
// whether a test that needs root or a daemon may skip: on a developer laptop
// it skips, under CI=true it fails instead, so CI never passes by skipping.
// It also holds the small helpers such tests share: a short run root that
// must end empty (RunRoot), a buffer safe to read while a plugin or a
// command writes it (Buffer), a read-only view of a tree (ReadOnlyView),
// a seed, a free port, a silent server.
package testenv
