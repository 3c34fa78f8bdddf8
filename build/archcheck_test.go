package build

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	plat := func(t *testing.T, platform string, bin []byte) PlatformDir {
		dir := filepath.Join(t.TempDir(), platformPath(platform))
		if err := os.MkdirAll(filepath.Join(dir, "rootfs"), 0o755); err != nil {
			t.Fatal(err)
		}
		if bin != nil {
			if err := os.WriteFile(filepath.Join(dir, "rootfs", "plug"), bin, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return PlatformDir{Platform: platform, Dir: dir}
	}
	amd, arm := elf64(62), elf64(183)
	tests := []struct {
		name    string
		dirs    func(t *testing.T) []PlatformDir
		want    string // error substring, "" = none
		warning string
	}{
		{"single match", func(t *testing.T) []PlatformDir { return []PlatformDir{plat(t, "linux/amd64", amd)} }, "", ""},
		{"single mismatch", func(t *testing.T) []PlatformDir { return []PlatformDir{plat(t, "linux/arm64", amd)} },
			"the plugin built for linux/arm64 cannot run there: the entrypoint /plug is amd64, not linux/arm64", ""},
		{"multi", func(t *testing.T) []PlatformDir {
			return []PlatformDir{plat(t, "linux/amd64", amd), plat(t, "linux/arm64", arm)}
		}, "", ""},
		{"multi wrong arch", func(t *testing.T) []PlatformDir {
			return []PlatformDir{plat(t, "linux/amd64", amd), plat(t, "linux/arm64", amd)}
		}, "the entrypoint /plug is amd64, not linux/arm64", ""},
		{"multi same rootfs, unknown arch", func(t *testing.T) []PlatformDir {
			return []PlatformDir{plat(t, "linux/amd64", []byte("#!/usr/bin/env python3\n")), plat(t, "linux/arm64", []byte("#!/usr/bin/env python3\n"))}
		}, "its rootfs is identical to the one built for linux/amd64", "cannot check the entrypoint's architecture"},
		{"missing entrypoint warns", func(t *testing.T) []PlatformDir { return []PlatformDir{plat(t, "linux/amd64", nil)} },
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
