package build

import (
	"testing"

	"github.com/moby/buildkit/solver/pb"
	"google.golang.org/protobuf/proto"
)

func defOf(t *testing.T, ids ...string) *pb.Definition {
	t.Helper()
	def := &pb.Definition{}
	for _, id := range ids {
		b, err := proto.Marshal(&pb.Op{Op: &pb.Op_Source{Source: &pb.SourceOp{Identifier: id, Attrs: map[string]string{"local.session": "s1"}}}})
		if err != nil {
			t.Fatal(err)
		}
		def.Def = append(def.Def, b)
	}
	exec, err := proto.Marshal(&pb.Op{Op: &pb.Op_Exec{Exec: &pb.ExecOp{Meta: &pb.Meta{Args: []string{"true"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	def.Def = append(def.Def, exec)
	return def
}

// TestSourcesKey: only pinned sources let a build reuse, and the key
// ignores what changes on every build (session and OCI store IDs).
func TestSourcesKey(t *testing.T) {
	pinned := "docker-image://docker.io/library/alpine:3@sha256:" + hex64('a')
	for _, tc := range []struct {
		ids    []string
		wantOK bool
	}{
		{[]string{"local://context", pinned}, true},
		{[]string{"oci-layout://store1:latest@sha256:" + hex64('b')}, true},
		{[]string{"docker-image://docker.io/library/alpine:3"}, false},
		{[]string{"oci-layout://store1:latest"}, false},
		{[]string{"git://github.com/x/y#main"}, false},
		{[]string{"https://example.com/f"}, false},
		{[]string{pinned, "http://example.com/f"}, false},
	} {
		_, ok, err := sourcesKey(defOf(t, tc.ids...))
		if err != nil || ok != tc.wantOK {
			t.Errorf("sourcesKey(%q) ok = %t, %v; want %t", tc.ids, ok, err, tc.wantOK)
		}
	}
	k1, _, _ := sourcesKey(defOf(t, "local://context", "oci-layout://store1:latest@sha256:"+hex64('b'), pinned))
	k2, _, _ := sourcesKey(defOf(t, pinned, "oci-layout://store2:latest@sha256:"+hex64('b'), "local://context"))
	k3, _, _ := sourcesKey(defOf(t, "oci-layout://store1:latest@sha256:"+hex64('c'), pinned))
	k4, _, _ := sourcesKey(defOf(t, "oci-layout://store1:latest@sha256:"+hex64('b'), "docker-image://docker.io/library/alpine:3@sha256:"+hex64('d')))
	if k1 != k2 {
		t.Errorf("the same pinned sources give two keys:\n%s\n%s", k1, k2)
	}
	if k1 == k3 || k1 == k4 {
		t.Error("another digest gives the same key")
	}
}

func hex64(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

func TestExternalFrontend(t *testing.T) {
	for df, want := range map[string]bool{
		"# syntax=docker/dockerfile:1\nFROM base\n":    true,
		"#SYNTAX = docker/dockerfile:1.7\nFROM base\n": true,
		"# escape=`\n# syntax=x\nFROM base\n":          true,
		"FROM base\n# syntax=docker/dockerfile:1\n":    false,
		"# a comment\nFROM base\n":                     false,
		"FROM base\n":                                  false,
	} {
		if got := externalFrontend([]byte(df)); got != want {
			t.Errorf("externalFrontend(%q) = %t, want %t", df, got, want)
		}
	}
}
