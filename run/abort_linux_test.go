//go:build linux && cgo

package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestAbort: a failed start's cleanup removes the run dir and completes the
// *StartError it finds with errors.As, wrapped or not, and does not panic on
// any other error.
func TestAbort(t *testing.T) {
	tests := []struct {
		name string
		err  func(se *StartError) error
	}{
		{"start error", func(se *StartError) error { return se }},
		{"wrapped", func(se *StartError) error { return fmt.Errorf("starting: %w", se) }},
		{"other", func(*StartError) error { return errors.New("not a StartError") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, logFile), []byte("one\ntwo\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			se := &StartError{Plugin: "p", Err: ErrNoSocket, ExitCode: -1}
			inst := &Instance{dir: dir, exitCode: -1}
			inst.abort(context.Background(), tc.err(se))
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("run dir left behind: %v", err)
			}
			want := []string{"one", "two"}
			if tc.name == "other" {
				want = nil
			}
			if diff := cmp.Diff(want, se.Log); diff != "" {
				t.Errorf("StartError.Log (-want +got):\n%s", diff)
			}
		})
	}
}
