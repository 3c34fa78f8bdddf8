// Package engine talks to a running Docker Engine through its API (the
// maintained client module github.com/moby/moby/client): it finds the
// engine the way the docker CLI does (DOCKER_HOST, DOCKER_CONTEXT, the
// current context of ~/.docker/config.json, ssh:// included), loads a
// plugin into it (Load: create from a streamed tar, carry settings over,
// enable) and lends its BuildKit to dplug's builder (Dialer).
//
// Nothing here needs root or Linux: it is how authors on a laptop with
// Docker Desktop, and CI runners with a Docker Engine, get a plugin built
// and running without dplug's own buildkitd or store.
package engine
