package store

// Tests written against the survivors of `make mutate` (issue 13): each
// pins a behaviour of the store no other test looked at.

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dplug/dplug/plugin"
)

// TestNewIDIsNotANumber: plugin IDs are 64 hex digits whose 12-digit short
// form is never all decimal digits (dockerd's rule: it would read as a
// number).
func TestNewIDIsNotANumber(t *testing.T) {
	for range 200 {
		id, err := newID()
		if err != nil {
			t.Fatal(err)
		}
		if !validID.MatchString(id) {
			t.Fatalf("newID() = %q: not 64 lowercase hex digits", id)
		}
		if strings.Trim(id[:12], "0123456789") == "" {
			t.Fatalf("newID() = %q: its short ID is a number", id)
		}
	}
}

// TestOpenLogs: Open warns of plugin dirs no plugin owns (only when there
// are some) and logs the leftovers it removed from tmp/.
func TestOpenLogs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, root := openStore(t, WithLogger(log))
	install(t, s, "a")
	if _, err := Open(root, WithLogger(log)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "no plugin owns") || strings.Contains(buf.String(), "removed leftover") {
		t.Fatalf("Open of a clean store logged:\n%s", buf.String())
	}
	orphan := filepath.Join(s.Dir(), strings.Repeat("ab", 32))
	leftover := filepath.Join(s.Dir(), tmpDir, "work-1")
	for _, d := range []string{orphan, leftover} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Open(root, WithLogger(log)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "level=WARN msg=\"plugin store has directories no plugin owns; run 'dplug doctor' to see them\" count=1") {
		t.Errorf("Open with one orphan dir logged:\n%s", out)
	}
	if !strings.Contains(out, "removed leftover\" path="+leftover) {
		t.Errorf("Open that removed %s logged:\n%s", leftover, out)
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("leftover %s not removed: %v", leftover, err)
	}
}

// TestInstallNilGrant: with no Grant, a plugin that asks for nothing
// installs, and one that asks for any privilege is refused before anything
// is written.
func TestInstallNilGrant(t *testing.T) {
	plain := testConfig()
	plain.Mounts, plain.Linux.Devices = nil, nil
	hostNet := plain
	hostNet.Network.Type = "host"
	tests := []struct {
		name string
		cfg  plugin.Config
		want error
	}{
		{"no privileges", plain, nil},
		{"host network", hostNet, ErrNotGranted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, root := openStore(t)
			_, err := s.Install(context.Background(), DirSource(pluginDir(t, tt.cfg)), InstallOptions{Name: "p"})
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("Install with no Grant: error %v, want %v", err, tt.want)
			}
			n := 0
			if tt.want == nil {
				n = 1
			}
			assertClean(t, root, n)
		})
	}
}
