package dest_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/internal/exitcode"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/source"
)

func TestPublishedString(t *testing.T) {
	for _, tc := range []struct {
		p    dest.Published
		want string
	}{
		{dest.Published{Ref: "r/p:1", Digest: "sha256:ab"}, "r/p:1@sha256:ab"},
		{dest.Published{Digest: "sha256:ab", OCILayout: "l"}, "sha256:ab"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.p, got, tc.want)
		}
	}
}

// TestPushThenPull publishes a plugin dir to an OCI layout, then pulls it
// from there into a plugin dir: Push and Pull say what they wrote.
func TestPushThenPull(t *testing.T) {
	ctx := context.Background()
	layout := filepath.Join(t.TempDir(), "layout")
	src := open(t, writePlugin(t, "", "v1"), t.TempDir())
	var wrote string
	p := &dest.Publish{OCILayout: layout, Root: t.TempDir(), Options: []pack.Option{pack.WithCache(t.TempDir())}}
	pub, err := p.Push(ctx, src, nil, func(d string) { wrote = d })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pub.Digest, "sha256:") || pub.Ref != "" || pub.OCILayout != layout || wrote != pub.Digest {
		t.Fatalf("Push = %+v (wrote %q), want the layout's digest", pub, wrote)
	}
	dir := filepath.Join(t.TempDir(), "plugin")
	pulled, err := (&dest.Dir{Path: dir}).Pull(ctx, open(t, layout, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if pulled.Digest != pub.Digest || pulled.Dir != dir || what(t, dir) != "v1" {
		t.Errorf("Pull = %+v, want %s in %s holding v1", pulled, pub.Digest, dir)
	}
	if _, err := (&dest.Dir{Path: t.TempDir()}).Pull(ctx, src); err == nil {
		t.Error("Pull of a plugin dir worked, want an error: only artifacts are pulled")
	}
}

func TestPushInputError(t *testing.T) {
	src := open(t, writePlugin(t, "", "v1"), t.TempDir())
	_, err := (&dest.Publish{}).Push(context.Background(), src, nil, nil)
	var ie *dest.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "needs a REF") {
		t.Errorf("Push without Ref or OCILayout = %v, want an *InputError", err)
	}
}

func TestLayerCache(t *testing.T) {
	if got, want := dest.LayerCache("/r"), filepath.Join("/r", "cache", "layers"); got != want {
		t.Errorf("LayerCache = %q, want %q", got, want)
	}
}

func TestDirPullFrom(t *testing.T) {
	full := t.TempDir()
	writePlugin(t, full, "v1")
	for _, tc := range []struct {
		name, dir, ref, layout string
		arg                    string
		kind                   source.Kind
		wantErr                string
	}{
		{name: "registry", dir: filepath.Join(t.TempDir(), "new"), ref: "localhost:5000/p:1", arg: "localhost:5000/p:1", kind: source.Registry},
		{name: "layout", dir: t.TempDir(), ref: "DIR", layout: "l", arg: "l", kind: source.Layout},
		{name: "dir not empty", dir: full, ref: "localhost:5000/p:1", wantErr: "is not empty"},
		{name: "bad ref", dir: t.TempDir(), ref: "Bad Ref", wantErr: "pulling Bad Ref"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			arg, kind, err := (&dest.Dir{Path: tc.dir}).PullFrom(tc.ref, tc.layout)
			if tc.wantErr != "" {
				var ie *dest.InputError
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want an *InputError with %q", err, tc.wantErr)
				}
				if code, _ := exitcode.Of(fmt.Errorf("pulling: %w", err)); code != exitcode.Usage {
					t.Errorf("exit code of the *InputError = %d, want %d (usage)", code, exitcode.Usage)
				}
				return
			}
			if err != nil || arg != tc.arg || kind != tc.kind {
				t.Errorf("PullFrom = %q, %v, %v; want %q, %v", arg, kind, err, tc.arg, tc.kind)
			}
		})
	}
}
