package dest

import (
	"context"
)

// Dest receives a built plugin.
type Dest interface {
	// Deliver takes a complete plugin directory (config.json + rootfs/)
	// and returns what identifies the result (a path, a reference with
	// digest, a plugin name). Deliver may move dir away; the caller
	// removes whatever is left of it afterwards.
	Deliver(ctx context.Context, dir string) (string, error)
	// String names the destination in messages.
	String() string
}

// Stager is implemented by destinations that want the plugin staged in a
// particular directory, e.g. next to the final path so a rename is atomic.
type Stager interface {
	StagingParent() string
}

// Progress shows the steps of a delivery: Start begins a step named name
// and returns the function that ends it with its outcome.
type Progress interface {
	Start(name string) (done func(error))
}

// Stepper is implemented by destinations that name their delivery step
// themselves ("install into the plugin store as NAME"); for the others
// WithProgress shows "deliver to " + String().
type Stepper interface {
	Step() string
}

// WithProgress returns d reporting its delivery as one step of p. A nil p
// returns d unchanged. The result keeps d's staging parent.
func WithProgress(d Dest, p Progress) Dest {
	if p == nil {
		return d
	}
	return &progressDest{Dest: d, p: p}
}

type progressDest struct {
	Dest
	p Progress
}

var (
	_ Dest   = (*progressDest)(nil)
	_ Stager = (*progressDest)(nil)
)

func (d *progressDest) Deliver(ctx context.Context, dir string) (string, error) {
	name := "deliver to " + d.Dest.String()
	if s, ok := d.Dest.(Stepper); ok {
		name = s.Step()
	}
	done := d.p.Start(name)
	out, err := d.Dest.Deliver(ctx, dir)
	done(err)
	return out, err
}

// StagingParent is the wrapped destination's, if it has one.
func (d *progressDest) StagingParent() string {
	if s, ok := d.Dest.(Stager); ok {
		return s.StagingParent()
	}
	return ""
}
