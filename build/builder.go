package build

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/moby/buildkit/client"
	mclient "github.com/moby/moby/client"

	"github.com/dplug/dplug/build/buildkitd"
	"github.com/dplug/dplug/engine"
)

// Builder kinds for WithBuilder; any other value is a BuildKit address.
const (
	// BuilderAuto picks the first builder available, in this order: an
	// explicit address (WithAddr, then BUILDKIT_HOST); dplug's own
	// buildkitd when it is installed and can run here (buildkitd and runc
	// found, running as root); the Docker Engine's BuildKit (found like the
	// docker CLI finds the engine: DOCKER_HOST, DOCKER_CONTEXT, the current
	// context); else an error naming both ways to get a builder.
	BuilderAuto = "auto"
	// BuilderBuildkitd is dplug's own buildkitd, started on demand.
	BuilderBuildkitd = "buildkitd"
	// BuilderDocker is the Docker Engine's BuildKit, reached through the
	// engine API's /grpc and /session endpoints (like buildx's docker
	// driver): no root and no buildkitd of one's own.
	BuilderDocker = "docker"
)

// ErrNoBuilder says no builder was found; the message names the ways to
// get one.
var ErrNoBuilder = errors.New("no BuildKit to build with")

// WithBuilder forces a builder: BuilderAuto (default), BuilderBuildkitd,
// BuilderDocker, or a BuildKit address (same as WithAddr).
func WithBuilder(b string) Option {
	return func(o *options) {
		switch b {
		case "", BuilderAuto, BuilderBuildkitd, BuilderDocker:
			o.builder = b
		default:
			o.builder, o.addr = "", b
		}
	}
}

// WithDockerHost names the Docker Engine whose BuildKit is used (default:
// DOCKER_HOST, then the docker context).
func WithDockerHost(h string) Option { return func(o *options) { o.dockerHost = h } }

// pickBuilder resolves BuilderAuto to the builder to use.
func pickBuilder(ctx context.Context, o *options) (string, *engine.Engine, error) {
	switch {
	case o.builder == BuilderBuildkitd:
		return BuilderBuildkitd, nil, nil
	case o.builder == BuilderDocker:
		e, err := engine.Connect(ctx, engine.WithHost(o.dockerHost))
		if err != nil {
			return "", nil, fmt.Errorf("%w: --builder docker: %v", ErrNoBuilder, err)
		}
		return BuilderDocker, e, nil
	case o.addr != "":
		return "", nil, nil
	}
	_, binErr := buildkitd.Binary(o.root)
	_, runcErr := buildkitd.Runc()
	if binErr == nil && runcErr == nil && os.Geteuid() == 0 {
		return BuilderBuildkitd, nil, nil
	}
	e, err := engine.Connect(ctx, engine.WithHost(o.dockerHost))
	if err == nil {
		return BuilderDocker, e, nil
	}
	own := "dplug's buildkitd is not installed (`sudo dplug setup`, or --addr/BUILDKIT_HOST for a BuildKit elsewhere)"
	switch {
	case binErr == nil && runcErr == nil:
		own = "dplug's buildkitd runs as root only (run dplug as root, or --addr/BUILDKIT_HOST for a BuildKit elsewhere)"
	case binErr == nil:
		own = "dplug's buildkitd needs runc (" + buildkitd.InstallRunc + ")"
	}
	return "", nil, fmt.Errorf("%w: %s, and %v", ErrNoBuilder, own, err)
}

// engineClient is a BuildKit client for the engine's embedded BuildKit:
// gRPC over the hijacked /grpc endpoint, the session over /session.
func engineClient(ctx context.Context, e *engine.Engine) (*client.Client, error) {
	api := e.API
	return client.New(ctx, "",
		client.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return api.DialHijack(ctx, "/grpc", "h2c", nil)
		}),
		client.WithSessionDialer(func(ctx context.Context, proto string, meta map[string][]string) (net.Conn, error) {
			return api.DialHijack(ctx, "/session", proto, meta)
		}))
}

// engineLimits refuses, before a build, what an engine's embedded
// BuildKit cannot do, with what to do instead.
func engineLimits(ctx context.Context, e *engine.Engine, o *options) error {
	v, err := e.API.ServerVersion(ctx, mclient.ServerVersionOptions{})
	if err != nil {
		return fmt.Errorf("asking the Docker Engine its version: %w", err)
	}
	major := v.Version
	if i := strings.IndexByte(major, '.'); i > 0 {
		major = major[:i]
	}
	old := len(major) == 2 && major < "23" // 20.10 and older: BuildKit 0.8
	if old && len(o.contexts) > 0 {
		return &InputError{Err: fmt.Errorf("--build-context needs the Dockerfile frontend 1.4+, and the Docker Engine %s builds with an older embedded one: use Docker Engine 23+, dplug's own buildkitd (--builder buildkitd) or --addr", v.Version)}
	}
	return nil
}

// connectEngine is connect for the Docker Engine's BuildKit.
func connectEngine(ctx context.Context, e *engine.Engine, o *options) (*client.Client, string, string, func(), error) {
	fail := func(err error) (*client.Client, string, string, func(), error) {
		e.Close()
		return nil, "", "", nil, err
	}
	if err := engineLimits(ctx, e, o); err != nil {
		return fail(err)
	}
	c, err := engineClient(ctx, e)
	if err != nil {
		return fail(fmt.Errorf("connecting to the Docker Engine's BuildKit at %s: %w", e.Endpoint.Host, err))
	}
	addr := "docker:" + e.Endpoint.Host
	if o.progress != "quiet" {
		fmt.Fprintf(o.progressOut, "dplug: building with the Docker Engine's BuildKit at %s (%s)\n", e.Endpoint.Host, e.Endpoint.From)
	}
	return c, addr, "", func() { e.Close() }, nil
}
