// Package scaffold generates the source of a new Docker managed plugin
// project — Go code on github.com/docker/go-plugins-helpers, a Dockerfile that
// builds a static binary into an empty rootfs, config.json and a README — for
// `dplug init` (Init, which names the project after its directory and
// returns a Project that writes itself for the user).
//
// The templates are embedded; dplug's examples/ directories are these same
// templates rendered with [Example] options, and a test keeps them equal, so
// what a user scaffolds is what dplug's CI builds, validates and runs.
package scaffold
