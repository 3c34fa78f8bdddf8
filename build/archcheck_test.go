package build

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dplug/dplug/dest"
)

// elf64 is a minimal ELF64 little-endian executable header for machine m
// (62 x86-64, 183 aarch64).
func elf64(m uint16) []byte {
	h := make([]byte, 64)
	copy(h, "\x7fELF\x02\x01\x01")
	h[16], h[18], h[19], h[20] = 2, byte(m), byte(m>>8), 1
	return h
}

func TestCheckPlatformDirs(t *testing.T) {
	cfg := []byte(`{"Entrypoint":["/plug"],"Interface":{"Socket":"p.sock","Types":["docker.volumedriver/1.0"]}}`)
	plat := func(t *testing.T, platform string, bin []byte) dest.PlatformDir {
		dir := filepath.Join(t.TempDir(), platformPath(platform))
		if err := os.MkdirAll(filepath.Join(dir, "rootfs"), 0o755); err != nil {
			t.Fatal(err)
		}
		if bin != nil {
			if err := os.WriteFile(filepath.Join(dir, "rootfs", "plug"), bin, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return dest.PlatformDir{Platform: platform, Dir: dir}
	}
	amd, arm := elf64(62), elf64(183)
	tests := []struct {
		name    string
		dirs    func(t *testing.T) []dest.PlatformDir
		want    string // error substring, "" = none
		warning string
	}{
		{"single match", func(t *testing.T) []dest.PlatformDir { return []dest.PlatformDir{plat(t, "linux/amd64", amd)} }, "", ""},
		{"single mismatch", func(t *testing.T) []dest.PlatformDir { return []dest.PlatformDir{plat(t, "linux/arm64", amd)} },
			"the plugin built for linux/arm64 cannot run there: the entrypoint /plug is amd64, not linux/arm64", ""},
		{"multi", func(t *testing.T) []dest.PlatformDir {
			return []dest.PlatformDir{plat(t, "linux/amd64", amd), plat(t, "linux/arm64", arm)}
		}, "", ""},
		{"multi wrong arch", func(t *testing.T) []dest.PlatformDir {
			return []dest.PlatformDir{plat(t, "linux/amd64", amd), plat(t, "linux/arm64", amd)}
		}, "the entrypoint /plug is amd64, not linux/arm64", ""},
		{"multi same rootfs, unknown arch", func(t *testing.T) []dest.PlatformDir {
			return []dest.PlatformDir{plat(t, "linux/amd64", []byte("#!/usr/bin/env python3\n")), plat(t, "linux/arm64", []byte("#!/usr/bin/env python3\n"))}
		}, "its rootfs is identical to the one built for linux/amd64", "cannot check the entrypoint's architecture"},
		{"missing entrypoint warns", func(t *testing.T) []dest.PlatformDir { return []dest.PlatformDir{plat(t, "linux/amd64", nil)} },
			"", "warning: linux/amd64: cannot check the entrypoint's architecture: /plug not found in the rootfs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w bytes.Buffer
			err := checkPlatformDirs(cfg, tt.dirs(t), &w)
			if tt.want == "" && err != nil {
				t.Fatal(err)
			}
			var ae *ArchError
			if tt.want != "" && (!errors.As(err, &ae) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "FROM --platform=$BUILDPLATFORM")) {
				t.Fatalf("got %v, want an ArchError containing %q and the fix", err, tt.want)
			}
			if !strings.Contains(w.String(), tt.warning) {
				t.Errorf("warnings %q lack %q", w.String(), tt.warning)
			}
		})
	}
}

func TestExplainExecFormat(t *testing.T) {
	step := &StepError{File: "Dockerfile", Line: 3, Step: "[2/2] RUN go build", Msg: "exit code: 255", Output: []string{"exec /bin/sh: exec format error"}}
	err := explainExecFormat(step)
	var ee *EmulationError
	if !errors.As(err, &ee) || !errors.Is(err, step) {
		t.Fatalf("got %T %v", err, err)
	}
	msg := err.Error()
	last := msg[strings.LastIndex(msg, "\n")+1:]
	for _, want := range []string{"FROM --platform=$BUILDPLATFORM", "GOOS=$TARGETOS GOARCH=$TARGETARCH", "qemu-user-static"} {
		if !strings.Contains(last, want) {
			t.Errorf("last line %q lacks %q", last, want)
		}
	}
	other := fmt.Errorf("building: boom")
	if got := explainExecFormat(other); got != other {
		t.Errorf("unrelated error changed: %v", got)
	}
}

func TestContextPlatformWarnings(t *testing.T) {
	dir := t.TempDir()
	// A single-platform amd64 image in an OCI layout.
	cfgBlob := []byte(`{"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":[]}}`)
	manifest := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[]}`, sha(cfgBlob), len(cfgBlob)))
	lay := filepath.Join(dir, "goimg")
	for _, b := range [][]byte{cfgBlob, manifest} {
		p := filepath.Join(lay, "blobs", "sha256", strings.TrimPrefix(sha(b), "sha256:"))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctxs := map[string]string{"golang:1.26": "oci-layout://" + lay + "@" + sha(manifest), "other": "docker-image://busybox"}
	tests := []struct {
		name, dockerfile string
		args             map[string]string
		plats            []string
		want             []string // substrings, one per warning
	}{
		{"cross-compiling build stage", "ARG GO_IMAGE=golang:1.26\nFROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build\nFROM scratch\n", nil,
			[]string{"linux/amd64", "linux/arm64"}, nil},
		{"naive", "ARG GO_IMAGE=golang:1.26\nFROM ${GO_IMAGE} AS build\nFROM scratch\n", nil,
			[]string{"linux/amd64", "linux/arm64"},
			[]string{"warning: build context golang:1.26 is a single-platform image (linux/amd64), but line 2 of Dockerfile uses it for linux/arm64 too (FROM ${GO_IMAGE})"}},
		{"build arg names another image", "ARG GO_IMAGE=golang:1.26\nFROM ${GO_IMAGE}\n", map[string]string{"GO_IMAGE": "mirror/go"},
			[]string{"linux/arm64"}, nil},
		{"single platform, the image's", "FROM golang:1.26\n", nil, []string{"linux/amd64"}, nil},
		{"no platform asked", "FROM golang:1.26\n", nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			df := filepath.Join(t.TempDir(), "Dockerfile")
			if err := os.WriteFile(df, []byte(tt.dockerfile), 0o644); err != nil {
				t.Fatal(err)
			}
			got := contextPlatformWarnings(&options{dockerfile: df, buildArgs: tt.args, contexts: ctxs}, tt.plats)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d warnings %q, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("warning %q lacks %q", got[i], tt.want[i])
				}
			}
		})
	}
}

func sha(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }
