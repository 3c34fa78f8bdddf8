package pack

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dplug/dplug/internal/blockgz"
	"github.com/dplug/dplug/internal/testplugin"
)

// blockgzLayer is a layer the way dplug writes one: several blockgz
// members (a 3.5 MiB file), and the offsets where members start.
func blockgzLayer(t *testing.T) ([]byte, string, []int) {
	t.Helper()
	var body strings.Builder
	for i := 0; body.Len() < 7<<19; i++ {
		fmt.Fprintf(&body, "%d squared is %d\n", i, i*i)
	}
	var gz bytes.Buffer
	zw, err := blockgz.NewWriter(&gz, blockgz.DefaultCompression, blockgz.Options{})
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(testplugin.Tar(t, map[string]testplugin.File{"big": {Body: body.String()}}))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	b := gz.Bytes()
	var offs []int
	for off := 0; off < len(b); off += int(binary.LittleEndian.Uint32(b[off+16:])) {
		offs = append(offs, off)
	}
	if len(offs) < 4 {
		t.Fatalf("%d members; want several", len(offs))
	}
	return b, body.String(), offs
}

// TestPullBlockgzLayer: dplug's own layers, inflated in parallel on pull,
// keep the pull's guarantees: the content arrives intact; a member that
// does not check out (its digest matching: the damage was pushed) fails
// the pull as damaged, like the sequential reader would, and leaves
// nothing behind; a member length that lies is only a hint (gzip readers
// ignore it, so does the pull: the layer still reads).
func TestPullBlockgzLayer(t *testing.T) {
	good, body, offs := blockgzLayer(t)
	edit := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	cases := []struct {
		name  string
		layer []byte
		err   string // "" when the pull succeeds
	}{
		{"intact", good, ""},
		{"a member's length lies", edit(func(b []byte) { binary.LittleEndian.PutUint32(b[offs[1]+16:], 100) }), ""},
		{"a huge member length", edit(func(b []byte) { binary.LittleEndian.PutUint32(b[offs[1]+16:], 1<<31) }), ""},
		{"bad CRC in member 2", edit(func(b []byte) { b[offs[2]-8] ^= 1 }), "is corrupt (gzip: gzip: invalid checksum)"},
		{"bad size in member 3", edit(func(b []byte) { b[offs[3]-4] ^= 1 }), "is corrupt (gzip: gzip: invalid checksum)"},
		{"truncated in member 3", good[:offs[2]+1000], "is truncated (gzip: unexpected EOF)"},
		{"truncated after member 2", good[:offs[2]], "is truncated (gzip: unexpected EOF)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newArtifact(t, c.layer, nil)
			host := fakeRegistry(t, a, nil)
			parent := t.TempDir()
			out := filepath.Join(parent, "out")
			err := within(t, func() error {
				return Pull(context.Background(), host+"/x/p:1", out, anon, WithTimeout(shortTimeout))
			})
			if c.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got, err := os.ReadFile(filepath.Join(out, "rootfs", "big")); err != nil || string(got) != body {
					t.Fatalf("big: %d bytes of %d, %v", len(got), len(body), err)
				}
				return
			}
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("err = %v; want ErrDamaged", err)
			}
			if !strings.Contains(err.Error(), c.err) {
				t.Errorf("error %q\ndoes not contain %q", err, c.err)
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 0 {
				t.Errorf("Pull left %v behind", entries)
			}
		})
	}
}
