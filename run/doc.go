// Package run runs an installed Docker Engine managed (v2) plugin the way
// dockerd does, but without dockerd: under runc's libcontainer, used as a
// library, with the OCI runtime spec that moby's InitSpec builds from the
// plugin config and its settings.
//
// Start creates the container, waits until the plugin's socket accepts
// connections (all dockerd waits for with v2 plugins) and returns an
// Instance; Stop sends SIGTERM, waits a grace period, sends SIGKILL and
// removes every mount, cgroup and state directory the run made. Each run
// lives in its own directory under a run root (never dockerd's
// /run/docker/plugins): the socket directory bind-mounted at
// /run/docker/plugins inside, the propagated mount, the plugin's log and a
// small state record, so that a detached plugin can be stopped, and its
// logs read, by another dplug process.
//
// Containers are started by re-executing the current binary as
// libcontainer's init: a program that calls Start must call
// IsContainerInit/ContainerInit first thing in main (and in TestMain),
// before anything else runs, and LockMainThread from an init function (see
// there why). Running plugins needs Linux and cgo; elsewhere Start returns
// ErrUnsupported.
package run
