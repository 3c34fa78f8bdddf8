// Package source turns what a command is given — a plugin dir, an OCI
// layout, an installed plugin's name or a registry reference — into one
// Source: its config read, checked by the validator under one policy, and
// its rootfs ready to stream. build, push, pull, install, run and test all
// resolve their argument here, so a plugin is judged the same way whatever
// it comes from, and a missing or invalid argument gets the same message
// and exit code in every command.
package source
