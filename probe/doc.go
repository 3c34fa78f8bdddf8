// Package probe talks to a running Docker plugin over its unix socket the
// way dockerd does (POST /<Method>, Accept:
// application/vnd.docker.plugins.v1.2+json, a JSON body with a trailing
// newline) and checks that it answers each declared interface correctly:
// the activation handshake (Activate, MissingImplements) and, for
// `dplug test`, a table of valid and invalid requests per interface type
// (Run). It is plain HTTP client code with no libcontainer or root needed.
package probe
