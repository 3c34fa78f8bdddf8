package dest

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/source"
)

// Dest is where a plugin goes.
type Dest interface {
	// Deliver takes a plugin (a plugin dir, an OCI layout or registry
	// artifact, an installed plugin: what source.Open resolves, or a dir a
	// build staged, see Staged) and returns what identifies the result (a
	// path, a reference with digest, a plugin name). A staged dir may be
	// moved away; the caller removes whatever is left of it afterwards.
	Deliver(ctx context.Context, src *source.Source) (string, error)
	// String names the destination in messages.
	String() string
}

// Stager is implemented by destinations that want the plugin staged in a
// particular directory, e.g. next to the final path so a rename is atomic.
type Stager interface {
	StagingParent() string
}

// Staged is the plugin dir dir (config.json + rootfs/) that a build
// staged, as a source a destination may move away; platform is what the
// build was asked to build for ("" when it was not), recorded in OCI
// layouts. The config is not validated again.
func Staged(ctx context.Context, dir, platform string) (*source.Source, error) {
	src, err := source.Open(ctx, dir, source.WithKinds(source.Dir), source.Unchecked())
	if err != nil {
		return nil, err
	}
	src.Staged, src.Platform = true, platform
	return src, nil
}

// pluginDir is the plugin dir a Dir source was opened from.
func pluginDir(src *source.Source) string { return filepath.Dir(src.Rootfs) }

// Progress shows the steps of a delivery: Start begins a step named name
// ("pack and push REF") and returns it.
type Progress interface {
	Start(name string) Step
}

// Step is one step of a delivery, as Progress shows it.
type Step interface {
	// Update reports bytes done of total (0: unknown) in a phase of the
	// step ("pack", "push", ...).
	Update(phase string, done, total int64)
	// Done ends the step with what the destination returned.
	Done(result string, err error)
}

// PackProgress is a Progress that shows only bytes, as pack's progress:
// each step's Update calls the function with a pack.Progress of its phase
// (output.Progress.Update draws it, like a pull's); steps' names and
// results are not shown.
type PackProgress func(pack.Progress)

var _ Step = PackProgress(nil)

// Start returns f: all steps report into the same function.
func (f PackProgress) Start(string) Step { return f }

func (f PackProgress) Update(phase string, done, total int64) {
	f(pack.Progress{Phase: phase, Complete: done, Total: total})
}

func (f PackProgress) Done(string, error) {}

// Stepper is implemented by destinations that name their delivery step
// themselves ("install into the plugin store as NAME"); for the others
// WithProgress shows "deliver to " + String(). A destination naming no
// step ("") is delivered without one.
type Stepper interface {
	Step() string
}

// metered is implemented by the destinations that report the bytes they
// move into their step.
type metered interface {
	deliver(ctx context.Context, src *source.Source, p progressFunc) (string, error)
}

// meteredAll is metered for the plugins of a multi-platform build, which
// take several steps.
type meteredAll interface {
	deliverAll(ctx context.Context, plugins []PlatformDir, p Progress) (string, error)
}

// progressFunc receives a step's byte counts; nil discards them.
type progressFunc func(phase string, done, total int64)

// WithProgress returns d reporting its delivery as one step of p (each
// destination of an All its own). A nil p returns d unchanged. The result
// keeps d's staging parent, and takes several platforms when d does.
func WithProgress(d Dest, p Progress) Dest {
	if p == nil {
		return d
	}
	if a, ok := d.(*all); ok {
		w := &all{}
		for _, d := range a.dests {
			w.dests = append(w.dests, WithProgress(d, p))
		}
		return w
	}
	pd := &progressDest{Dest: d, p: p}
	if _, ok := d.(MultiDest); ok {
		return &progressMulti{pd}
	}
	return pd
}

type progressDest struct {
	Dest
	p Progress
}

var (
	_ Dest      = (*progressDest)(nil)
	_ Stager    = (*progressDest)(nil)
	_ MultiDest = (*progressMulti)(nil)
)

func (d *progressDest) step() string {
	if s, ok := d.Dest.(Stepper); ok {
		return s.Step()
	}
	return "deliver to " + d.Dest.String()
}

func (d *progressDest) Deliver(ctx context.Context, src *source.Source) (string, error) {
	name := d.step()
	if name == "" {
		return d.Dest.Deliver(ctx, src)
	}
	st := d.p.Start(name)
	var out string
	var err error
	if m, ok := d.Dest.(metered); ok {
		out, err = m.deliver(ctx, src, st.Update)
	} else {
		out, err = d.Dest.Deliver(ctx, src)
	}
	st.Done(out, err)
	return out, err
}

// StagingParent is the wrapped destination's, if it has one.
func (d *progressDest) StagingParent() string {
	if s, ok := d.Dest.(Stager); ok {
		return s.StagingParent()
	}
	return ""
}

type progressMulti struct{ *progressDest }

// DeliverAll reports the steps of a multi-platform delivery.
func (d *progressMulti) DeliverAll(ctx context.Context, plugins []PlatformDir) (string, error) {
	if m, ok := d.Dest.(meteredAll); ok {
		return m.deliverAll(ctx, plugins, d.p)
	}
	return d.Dest.(MultiDest).DeliverAll(ctx, plugins)
}

// run runs fn as one step of p named name, its bytes reported into it; a
// nil p runs fn alone.
func run(p Progress, name string, fn func(progressFunc) (string, error)) (string, error) {
	if p == nil {
		return fn(nil)
	}
	st := p.Start(name)
	out, err := fn(st.Update)
	st.Done(out, err)
	return out, err
}

// kindError is a source a destination cannot take.
func kindError(d Dest, src *source.Source) error {
	return fmt.Errorf("%s: cannot deliver a %s to %s", src.Arg, src.Kind, d)
}
