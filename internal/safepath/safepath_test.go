package safepath

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestJoin(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "victim")
	for _, d := range []string{filepath.Join(root, "a", "b"), outside} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"out":        outside,       // absolute, outside
		"up":         "../victim",   // relative, outside
		"self":       ".",           // the root itself
		"in":         "a/b",         // inside: allowed
		"dangling":   "nowhere",     // does not resolve
		"a/b/escape": "../../../..", // nested, climbs out
		"a/inner":    "b",           // nested, inside
		"loop":       "loop",        // a symlink loop
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	// A root reached through a symlink is fine: containment is checked on
	// resolved paths.
	linkedRoot := filepath.Join(base, "linked-root")
	if err := os.Symlink(root, linkedRoot); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		root string
		elem []string
		want string // "" means refused
	}{
		{"plain", root, []string{"0123abcd"}, filepath.Join(root, "0123abcd")},
		{"nested", root, []string{"a", "b", "c.sock"}, filepath.Join(root, "a/b/c.sock")},
		{"nested in one element", root, []string{"a/b/c"}, filepath.Join(root, "a/b/c")},
		{"missing path", root, []string{"x/y/z"}, filepath.Join(root, "x/y/z")},
		{"symlink inside root", root, []string{"in", "f"}, filepath.Join(root, "in/f")},
		{"nested symlink inside root", root, []string{"a/inner"}, filepath.Join(root, "a/inner")},
		{"root through a symlink", linkedRoot, []string{"a", "b"}, filepath.Join(linkedRoot, "a/b")},
		{"missing root", filepath.Join(base, "none"), []string{"x"}, filepath.Join(base, "none/x")},

		{"dotdot", root, []string{".."}, ""},
		{"dotdot climbing", root, []string{"../../victim"}, ""},
		{"dotdot in the middle", root, []string{"a/../../victim"}, ""},
		{"dotdot second element", root, []string{"a", ".."}, ""},
		{"dot", root, []string{"."}, ""},
		{"absolute", root, []string{"/etc/passwd"}, ""},
		{"absolute second element", root, []string{"a", "/etc"}, ""},
		{"empty", root, []string{""}, ""},
		{"empty component", root, []string{"a//b"}, ""},
		{"trailing slash", root, []string{"a/"}, ""},
		{"no element", root, nil, ""},
		{"NUL", root, []string{"a\x00b"}, ""},
		{"empty root", "", []string{"a"}, ""},
		{"symlink to absolute outside", root, []string{"out"}, ""},
		{"through symlink outside", root, []string{"out", "file"}, ""},
		{"symlink relative outside", root, []string{"up"}, ""},
		{"symlink to the root itself", root, []string{"self"}, ""},
		{"dangling symlink", root, []string{"dangling"}, ""},
		{"nested symlink escaping", root, []string{"a", "b", "escape", "x"}, ""},
		{"symlink loop", root, []string{"loop"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Join(tt.root, tt.elem...)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Join(%q, %q) = %q, want an error", tt.root, tt.elem, got)
				}
				if !errors.Is(err, ErrUnsafe) {
					t.Fatalf("Join(%q, %q) error %v does not match ErrUnsafe", tt.root, tt.elem, err)
				}
				var pe *Error
				if !errors.As(err, &pe) || pe.Reason == "" {
					t.Fatalf("Join error %v is not an *Error with a reason", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Join(%q, %q): %v", tt.root, tt.elem, err)
			}
			if got != tt.want {
				t.Errorf("Join(%q, %q) = %q, want %q", tt.root, tt.elem, got, tt.want)
			}
		})
	}
}
