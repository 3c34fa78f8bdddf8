package build

import (
	"context"

	"github.com/dplug/dplug/engine"
	"github.com/dplug/dplug/store"
)

// Engine loads the plugin into a running Docker Engine as Name and enables
// it (engine.Load: a plugin of that name is replaced, its settings carried
// over). Host names the engine (default: DOCKER_HOST, then the docker
// context).
type Engine struct {
	Name    string
	Host    string
	Options []engine.LoadOption
}

var _ Dest = (*Engine)(nil)

func (d *Engine) String() string { return "Docker Engine plugin " + d.Name }

// Deliver streams dir into the engine and returns the plugin's name there.
func (d *Engine) Deliver(ctx context.Context, dir string) (string, error) {
	var st *step
	if s := stepsFrom(ctx); s != nil {
		st = s.start("[dplug] load into the Docker Engine as " + d.Name)
	}
	out, err := d.deliver(ctx, dir)
	if st != nil {
		st.done(err)
	}
	return out, err
}

func (d *Engine) deliver(ctx context.Context, dir string) (string, error) {
	e, err := engine.Connect(ctx, engine.WithHost(d.Host))
	if err != nil {
		return "", err
	}
	defer e.Close()
	res, err := e.Load(ctx, store.DirSource(dir), d.Name, d.Options...)
	if err != nil {
		return "", err
	}
	return res.Name, nil
}
