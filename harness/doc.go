// Package harness runs a plugin with run and talks to it with probe: what
// `dplug run` and `dplug test` (and dplug dev's test step) do between
// resolving the plugin and printing. Start starts a plugin the way dockerd
// enables it and checks its activation handshake; the Session it returns
// probes the plugin the way dockerd uses it (Probe, Test), waits for it
// (Wait) or stops it. FromSource and FromStore turn a resolved plugin into
// the run.Plugin Start takes.
//
// run never imports probe and probe never imports run: this package is
// where the two meet. It has no cobra and prints nothing: warnings go to
// the logger (discarded by default), the activation answer is on the
// Session, and a plugin that exits is an *ExitError.
package harness
