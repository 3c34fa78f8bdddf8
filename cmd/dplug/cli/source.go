package cli

import (
	"context"
	"errors"

	"github.com/dplug/dplug/source"
	"github.com/dplug/dplug/store"
)

// openSource resolves a command's plugin argument (plugin dir, OCI layout,
// installed plugin, registry reference: opts say which) through package
// source, so that every command checks a plugin the same way and answers a
// missing or wrong argument with the same line and exit code (2, a usage
// error; an unknown plugin name is 1, like docker). The config's warnings
// are shown here.
func openSource(ctx context.Context, g *globalOptions, arg string, opts ...source.Option) (*source.Source, error) {
	opts = append([]source.Option{source.WithStore(func() (*store.Store, error) { return openStore(g) })}, opts...)
	s, err := source.Open(ctx, arg, opts...)
	var nf *source.NotFoundError
	if errors.As(err, &nf) {
		return nil, usageError(err)
	}
	if err != nil {
		return nil, err
	}
	for _, d := range s.Warnings {
		g.log.Warn(d.String())
	}
	return s, nil
}
