package dest

import (
	"context"
	"errors"
	"strings"

	"github.com/dplug/dplug/source"
)

// All delivers one build to several destinations, in order, e.g. the local
// store and a registry. A Dir moves the staged plugin, so it is delivered
// last, and there may be only one.
func All(dests ...Dest) (Dest, error) {
	var dirs, rest []Dest
	for _, d := range dests {
		if isDir(d) {
			dirs = append(dirs, d)
		} else {
			rest = append(rest, d)
		}
	}
	switch {
	case len(dests) == 0:
		return nil, errors.New("no destination")
	case len(dirs) > 1:
		return nil, errors.New("one directory output per build")
	case len(dests) == 1:
		return dests[0], nil
	}
	return &all{dests: append(rest, dirs...)}, nil
}

type all struct{ dests []Dest }

var (
	_ Dest   = (*all)(nil)
	_ Stager = (*all)(nil)
)

func (a *all) String() string {
	var s []string
	for _, d := range a.dests {
		s = append(s, d.String())
	}
	return strings.Join(s, ", ")
}

// StagingParent is the Dir's, if there is one, so its rename stays atomic.
func (a *all) StagingParent() string {
	if s, ok := a.dests[len(a.dests)-1].(Stager); ok {
		return s.StagingParent()
	}
	return ""
}

// Deliver delivers to each destination and returns their outputs, one a
// line. It stops at the first failure.
func (a *all) Deliver(ctx context.Context, src *source.Source) (string, error) {
	var outs []string
	for _, d := range a.dests {
		out, err := d.Deliver(ctx, src)
		if err != nil {
			return "", err
		}
		outs = append(outs, out)
	}
	return strings.Join(outs, "\n"), nil
}

// isDir reports whether d is a Dir, wrapped or not.
func isDir(d Dest) bool {
	switch p := d.(type) {
	case *progressDest:
		d = p.Dest
	case *progressMulti:
		d = p.Dest
	}
	_, ok := d.(*Dir)
	return ok
}
