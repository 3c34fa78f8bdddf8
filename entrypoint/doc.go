// Package entrypoint checks, statically, that a plugin's entrypoint can run
// on a platform: it resolves Entrypoint[0] inside the rootfs (relative to
// WorkDir, or through PATH for a bare name, following symlinks without ever
// leaving the rootfs), reads the ELF header (class, data encoding, machine)
// and maps it to a GOARCH; for a #! script it checks the interpreter the
// same way. Nothing is executed.
//
// dockerd installs a plugin whatever its binary's architecture and fails
// only when it is enabled, with a bare "exec format error" (moby #34043);
// dplug runs this check where a plugin is built, pushed, installed, pulled
// and run.
package entrypoint
