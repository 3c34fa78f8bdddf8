package archive

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExtractResolvedCacheInvalidation replaces directories that an
// earlier entry of the same layer made mkdirAll remember: every later entry
// below them must be resolved afresh, so that it lands inside dst exactly
// as it would with no cache, or is refused. The symlinks point at the
// sandbox's parent directory (an absolute host path), so a stale cache
// entry would write next to dst, which sandbox's check reports.
func TestExtractResolvedCacheInvalidation(t *testing.T) {
	tests := []struct {
		name    string
		layers  func(host string) [][]ent
		want    func(host string) []string
		wantErr string
	}{
		{
			name: "dir replaced by absolute symlink",
			layers: func(host string) [][]ent {
				return [][]ent{{dir("a"), file("a/x", "1"), symlink("a", host), file("a/y", "2")}}
			},
			want: func(h string) []string { return []string{"a -> /" + h, h + "/", h + "/y: 2"} },
		},
		{
			name: "implicit dir replaced by absolute symlink",
			layers: func(host string) [][]ent {
				return [][]ent{{file("a/b/x", "1"), symlink("a/b", host), file("a/b/y", "2")}}
			},
			want: func(h string) []string { return []string{"a/", "a/b -> /" + h, h + "/", h + "/y: 2"} },
		},
		{
			name: "ancestor of remembered dir replaced by symlink",
			layers: func(host string) [][]ent {
				return [][]ent{{dir("a/b/c"), file("a/b/c/x", "1"), symlink("a/b", host), file("a/b/c/y", "2")}}
			},
			want: func(h string) []string {
				return []string{"a/", "a/b -> /" + h, h + "/", h + "/c/", h + "/c/y: 2"}
			},
		},
		{
			name: "dir replaced by relative symlink",
			layers: func(string) [][]ent {
				return [][]ent{{dir("a"), dir("b"), file("a/x", "1"), symlink("a", "b"), file("a/y", "2")}}
			},
			want: func(string) []string { return []string{"a -> b", "b/", "b/y: 2"} },
		},
		{
			name: "dir replaced by symlink to dst's parent is refused",
			layers: func(string) [][]ent {
				return [][]ent{{dir("a/b"), file("a/b/x", "1"), symlink("a/b", "../.."), file("a/b/y", "2")}}
			},
			wantErr: `symlink target "../.." escapes the destination`,
		},
		{
			name: "dir replaced by symlink to dst itself",
			layers: func(string) [][]ent {
				return [][]ent{{dir("a/b"), file("a/b/x", "1"), symlink("a/b", ".."), file("a/b/y", "2")}}
			},
			want: func(string) []string { return []string{"a/", "a/b -> ..", "y: 2"} },
		},
		{
			name: "whiteout of remembered dir then symlink",
			layers: func(host string) [][]ent {
				return [][]ent{{dir("d"), file("d/x", "1"), file(".wh.d", ""), symlink("d", host), file("d/y", "2")}}
			},
			want: func(h string) []string { return []string{"d -> /" + h, h + "/", h + "/y: 2"} },
		},
		{
			name: "whiteout across layers then symlink",
			layers: func(host string) [][]ent {
				return [][]ent{{dir("d"), file("d/x", "1")}, {file("d/z", "3"), file(".wh.d", ""), symlink("d", host), file("d/y", "2")}}
			},
			want: func(h string) []string { return []string{"d -> /" + h, h + "/", h + "/y: 2"} },
		},
		{
			name: "opaque whiteout then symlink",
			layers: func(host string) [][]ent {
				return [][]ent{{dir("d/s"), file("d/s/x", "1")}, {file("d/n", "3"), file("d/.wh..wh..opq", ""), symlink("d/s", host), file("d/s/y", "2")}}
			},
			want: func(h string) []string { return []string{"d/", "d/n: 3", "d/s -> /" + h, h + "/", h + "/y: 2"} },
		},
		{
			name: "dir replaced by hard link to a symlink",
			layers: func(host string) [][]ent {
				return [][]ent{{dir("d"), file("d/x", "1"), symlink("s", host), hardlink("d", "s"), file("d/y", "2")}}
			},
			want: func(h string) []string { return []string{"d -> /" + h, h + "/", h + "/y: 2", "s -> /" + h} },
		},
		{
			name: "dir replaced by regular file",
			layers: func(string) [][]ent {
				return [][]ent{{dir("a"), file("a/x", "1"), file("a", "f"), file("a/y", "2")}}
			},
			wantErr: `parent "a" is not a directory`,
		},
		{
			name: "dir replaced by file, then dir again",
			layers: func(string) [][]ent {
				return [][]ent{{dir("a"), file("a/x", "1"), file("a", "f"), dir("a"), file("a/y", "2")}}
			},
			want: func(string) []string { return []string{"a/", "a/y: 2"} },
		},
		{
			name: "symlinked parent remembered, then its target replaced",
			layers: func(host string) [][]ent {
				return [][]ent{{dir("b"), symlink("l", "b"), file("l/x", "1"), symlink("b", host), file("l/y", "2")}}
			},
			want: func(h string) []string { return []string{"b -> /" + h, h + "/", h + "/y: 2", "l -> b"} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst, check := sandbox(t)
			defer check()
			host := filepath.Dir(dst)
			rel := strings.TrimPrefix(host, "/")
			var err error
			for _, l := range tt.layers(host) {
				if err = Extract(context.Background(), bytes.NewReader(mktar(t, l...)), dst); err != nil {
					break
				}
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Extract error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want(rel)
			// tree lists the intermediate directories of the host path too.
			var full []string
			for _, w := range want {
				if strings.HasPrefix(w, rel+"/") && strings.HasSuffix(w, "/") && w == rel+"/" {
					parts := strings.Split(rel, "/")
					for i := 1; i < len(parts); i++ {
						full = append(full, strings.Join(parts[:i], "/")+"/")
					}
				}
				full = append(full, w)
			}
			if diff := cmp.Diff(sortedCopy(full), sortedCopy(tree(t, dst))); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
		})
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return c
}

// TestExtractReplacesExisting covers the paths where a regular file or a
// symlink is created over something already there (the exclusive create
// fails, the old entry is removed, the create runs again), within one layer
// and across layers.
func TestExtractReplacesExisting(t *testing.T) {
	tests := []struct {
		name   string
		layers func(host string) [][]ent
		want   []string
	}{
		{
			name:   "file over dir with children",
			layers: func(string) [][]ent { return [][]ent{{dir("d/e"), file("d/e/x", "1"), file("d", "f")}} },
			want:   []string{"d: f"},
		},
		{
			name:   "file over file across layers",
			layers: func(string) [][]ent { return [][]ent{{file("a", "old")}, {file("a", "new")}} },
			want:   []string{"a: new"},
		},
		{
			name:   "file over symlink to host dir",
			layers: func(host string) [][]ent { return [][]ent{{symlink("a", host)}, {file("a", "mine")}} },
			want:   []string{"a: mine"},
		},
		{
			name:   "file over dangling symlink",
			layers: func(host string) [][]ent { return [][]ent{{symlink("a", host+"/dst2"), file("a", "mine")}} },
			want:   []string{"a: mine"},
		},
		{
			name:   "symlink over file",
			layers: func(string) [][]ent { return [][]ent{{file("a", "1"), symlink("a", "b")}} },
			want:   []string{"a -> b"},
		},
		{
			name:   "symlink over dir across layers",
			layers: func(string) [][]ent { return [][]ent{{dir("a"), file("a/x", "1")}, {symlink("a", "/b")}} },
			want:   []string{"a -> /b"},
		},
		{
			name:   "symlink over symlink",
			layers: func(host string) [][]ent { return [][]ent{{symlink("a", host), symlink("a", "c")}} },
			want:   []string{"a -> c"},
		},
		{
			name:   "hard link over file",
			layers: func(string) [][]ent { return [][]ent{{file("a", "1"), file("b", "2"), hardlink("b", "a")}} },
			want:   []string{"a: 1", "b: 1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst, check := sandbox(t)
			defer check()
			for _, l := range tt.layers(filepath.Dir(dst)) {
				if err := Extract(context.Background(), bytes.NewReader(mktar(t, l...)), dst); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tt.want, tree(t, dst)); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
		})
	}
}
