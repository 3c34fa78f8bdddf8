package dest

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/source"
)

// InputError is a destination that cannot be used as given (a missing or
// bad reference, a directory in the way): the caller's mistake, found
// before any work.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }

func (e *InputError) Unwrap() error { return e.Err }

// Publish is where `dplug push` sends a plugin: the registry reference
// Ref, the OCI layout OCILayout, or both. Platform and Options are those of
// Registry and OCILayout.
type Publish struct {
	Ref, OCILayout, Platform string
	Options                  []pack.Option
}

// Dest checks p against what src is and returns the destination: the
// layout first, then the registry, each a step of prog; wrote, if set, is
// told the digest once the layout is written. An installed plugin goes to
// its own name when neither Ref nor OCILayout is given. Mistakes are
// *InputErrors.
func (p *Publish) Dest(src *source.Source, prog Progress, wrote func(digest string)) (Dest, error) {
	switch {
	case src.Kind == source.Layout && p.Ref == "":
		return nil, &InputError{errors.New("push LAYOUT needs a REF")}
	case src.Kind == source.Dir && p.Ref == "" && p.OCILayout == "":
		return nil, &InputError{errors.New("push DIR needs a REF or --oci-layout DIR")}
	case src.Stored != nil && p.Ref == "" && p.OCILayout == "":
		p.Ref = src.Stored.FullName()
	}
	var dests []Dest
	if p.OCILayout != "" {
		// An OCI layout may gain images; any other non-empty dir is a mistake.
		if err := CheckEmpty(p.OCILayout); err != nil && !pack.IsLayout(p.OCILayout) {
			return nil, &InputError{fmt.Errorf("--oci-layout: %w", err)}
		}
		d := &OCILayout{Path: p.OCILayout, Platform: p.Platform, Options: p.Options}
		dests = append(dests, WithProgress(d, then{prog, wrote}))
	}
	if p.Ref != "" {
		// A bad REF fails before minutes of packing.
		if err := pack.ParseReference(p.Ref, p.Options...); err != nil {
			return nil, &InputError{fmt.Errorf("pushing %s: %w", p.Ref, err)}
		}
		dests = append(dests, WithProgress(&Registry{Ref: p.Ref, Platform: p.Platform, Options: p.Options}, prog))
	}
	return All(dests...)
}

// Digest is the digest in a result's last line (REF@DIGEST, PATH@DIGEST).
func Digest(result string) string { return result[strings.LastIndex(result, "@")+1:] }

// then is a Progress that also tells fn the digest of each step that
// worked.
type then struct {
	p  Progress
	fn func(digest string)
}

func (t then) Start(name string) Step {
	var st Step = nop{}
	if t.p != nil {
		st = t.p.Start(name)
	}
	return thenStep{st, t.fn}
}

type thenStep struct {
	Step
	fn func(string)
}

func (t thenStep) Done(result string, err error) {
	t.Step.Done(result, err)
	if err == nil && t.fn != nil {
		t.fn(Digest(result))
	}
}

type nop struct{}

func (nop) Update(string, int64, int64) {}
func (nop) Done(string, error)          {}

// CheckEmpty accepts a path that does not exist or is an empty directory:
// where a plugin that is not staged may be written (pull, export).
func CheckEmpty(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s exists and is not a directory: give a new or empty directory", dir)
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if names, _ := f.Readdirnames(1); len(names) > 0 {
		return fmt.Errorf("%s is not empty: give a new or empty directory", dir)
	}
	return nil
}
