// Package probe talks to a running Docker plugin over its unix socket the
// way dockerd does (POST /<Method>, Accept:
// application/vnd.docker.plugins.v1.2+json, a JSON body with a trailing
// newline) and judges its answers the way dockerd reads them: the
// activation handshake (Activate, MissingImplements) and, for `dplug
// test`, the requests dockerd sends for each declared interface type, in
// dockerd's order (Run). Each check is Required (dockerd relies on it; the
// code comment names the moby code path) or Advisory (a convention: WARN,
// or FAIL with WithStrict), and a check whose prerequisite failed is
// skipped with the cause. It is plain HTTP client code with no
// libcontainer or root needed.
package probe
