package dest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dplug/dplug/internal/exitcode"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/source"
)

// InputError is a destination that cannot be used as given (a missing or
// bad reference, a directory in the way): the caller's mistake, found
// before any work.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }

func (e *InputError) Unwrap() error { return e.Err }

// ExitClass makes an *InputError a usage error for the CLI
// (exitcode.Classed).
func (e *InputError) ExitClass() int { return exitcode.Usage }

// Publish is where `dplug push` sends a plugin: the registry reference
// Ref, the OCI layout OCILayout, or both. Platform and Options are those of
// Registry and OCILayout. Root is dplug's root: an installed plugin's
// layers are cached under it (LayerCache), any other's in
// pack.DefaultCacheDir, so an unchanged rootfs is not packed again.
type Publish struct {
	Ref, OCILayout, Platform string
	Root                     string
	Options                  []pack.Option
}

// Published is what Push delivered: the reference (empty with only an OCI
// layout), the artifact's digest and the layout written, if any.
type Published struct {
	Ref       string `json:"ref,omitempty"`
	Digest    string `json:"digest"`
	OCILayout string `json:"ociLayout,omitempty"`
}

// String is REF@DIGEST, or DIGEST alone without a reference.
func (p Published) String() string { return strings.TrimPrefix(p.Ref+"@"+p.Digest, "@") }

// LayerCache is the layer cache under dplug's root (ROOT/cache/layers),
// the one for plugins built or installed there.
func LayerCache(root string) string { return filepath.Join(root, "cache", "layers") }

// Push sends src where p says (Dest, with prog and wrote; an installed
// plugin without Ref goes to its own name) and returns what it published. Mistakes found before any work are *InputErrors.
func (p *Publish) Push(ctx context.Context, src *source.Source, prog Progress, wrote func(digest string)) (*Published, error) {
	cache := pack.DefaultCacheDir()
	if src.Stored != nil {
		cache = LayerCache(p.Root)
	}
	q := *p
	q.Options = append([]pack.Option{pack.WithCache(cache)}, p.Options...)
	to, err := q.Dest(src, prog, wrote)
	if err != nil {
		return nil, err
	}
	out, err := to.Deliver(ctx, src)
	if err != nil {
		return nil, err
	}
	return &Published{Ref: q.Ref, Digest: Digest(out), OCILayout: q.OCILayout}, nil
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
