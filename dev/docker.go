package dev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/engine"
	"github.com/dplug/dplug/probe"
	"github.com/dplug/dplug/store"
)

// Docker is the engine-mode loop (`dplug dev --docker`, any OS): build
// the project, load it into the Docker Engine and enable it there (the
// engine runs it, not dplug), and test the plugin the engine runs:
//
//   - When this process can dial the engine's own socket to the plugin
//     (the engine is on this machine and dplug runs as root: see
//     engine.PluginSocket), `dplug test`'s probes run over that socket.
//   - Otherwise (a remote engine, Docker Desktop's VM, a user in the
//     docker group), the plugin is used through the engine's API: a volume
//     driver gets a volume created, inspected and removed; other types are
//     checked to be enabled (the engine reached their socket).
//
// The engine keeps the plugin's output in its own log (dockerd's stderr or
// journal): its API serves no plugin logs, so they are not streamed.
// Close removes the plugin from the engine.
type Docker struct {
	Dir   string         // the plugin project
	Name  string         // the plugin's NAME:TAG in the engine
	Host  string         // engine address ("": DOCKER_HOST, then the docker context)
	Build []build.Option // how to build (builder, args, contexts…)
	Out   io.Writer      // notes and failed checks (default stderr)

	staged staging
	e      *engine.Engine
	loaded bool
	noted  bool // the fallback's reason was printed
}

// Steps are build, load (create + enable) and test.
func (d *Docker) Steps() []Step {
	return []Step{
		{Name: "build", Run: d.build},
		{Name: "load", Run: d.load},
		{Name: "test", Run: d.test},
	}
}

func (d *Docker) out() io.Writer { return orStderr(d.Out) }

func (d *Docker) build(ctx context.Context) (string, error) {
	return d.staged.build(ctx, d.Dir, d.Build)
}

func (d *Docker) engine(ctx context.Context) (*engine.Engine, error) {
	if d.e == nil {
		e, err := engine.Connect(ctx, engine.WithHost(d.Host))
		if err != nil {
			return nil, err
		}
		d.e = e
	}
	return d.e, nil
}

// load replaces the plugin in the engine; the force is the loop's: the
// volumes a previous iteration's test left are the author's own.
func (d *Docker) load(ctx context.Context) (string, error) {
	e, err := d.engine(ctx)
	if err != nil {
		return "", err
	}
	d.loaded = true
	_, err = e.Load(ctx, store.DirSource(d.staged.pluginDir()), d.Name, engine.WithForce(true))
	return "", err
}

func (d *Docker) test(ctx context.Context) (string, error) {
	e, err := d.engine(ctx)
	if err != nil {
		return "", err
	}
	sock, types, err := e.PluginSocket(ctx, d.Name)
	if err == nil {
		note, err := Verdict(d.out(), probe.Run(ctx, sock, types))
		return note + " on the engine's socket", err
	}
	if !errors.Is(err, engine.ErrSocketUnreachable) {
		return "", err
	}
	if !d.noted {
		d.noted = true
		fmt.Fprintf(d.out(), "dev: testing through the engine's API only: %v\n", err)
	}
	note, err := e.Smoke(ctx, d.Name)
	if err != nil {
		return "FAIL", err
	}
	return "PASS via the engine API (" + note + ")", nil
}

// Close removes the plugin this loop loaded from the engine and the staged
// build.
func (d *Docker) Close(ctx context.Context) error {
	var err error
	if d.e != nil {
		if d.loaded {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			err = d.e.Remove(rctx, d.Name)
			cancel()
		}
		d.e.Close()
	}
	d.staged.remove()
	return err
}
