package testenv

import (
	"fmt"
	"testing"
)

// endRecorder is a testing.TB that records how a helper ended the test
// (the first Fatalf or Skipf; the real ones do not return).
type endRecorder struct {
	testing.TB
	ended string
}

func (r *endRecorder) Helper() {}
func (r *endRecorder) Fatalf(format string, args ...any) {
	if r.ended == "" {
		r.ended = "FAIL " + fmt.Sprintf(format, args...)
	}
}
func (r *endRecorder) Skipf(format string, args ...any) {
	if r.ended == "" {
		r.ended = "SKIP " + fmt.Sprintf(format, args...)
	}
}

// TestNeed: a missing need skips on a laptop and fails under CI=true, with
// what is missing; a met need does neither.
func TestNeed(t *testing.T) {
	for _, tc := range []struct {
		ci   string
		ok   bool
		want string
	}{
		{"", false, "SKIP needs a pty: no /dev/ptmx"},
		{"false", false, "SKIP needs a pty: no /dev/ptmx"},
		{"true", false, "FAIL CI=true but: needs a pty: no /dev/ptmx"},
		{"true", true, ""},
		{"", true, ""},
	} {
		t.Setenv("CI", tc.ci)
		r := &endRecorder{TB: t}
		Need(r, tc.ok, "a pty: %s", "no /dev/ptmx")
		if r.ended != tc.want {
			t.Errorf("CI=%q ok=%v: %q, want %q", tc.ci, tc.ok, r.ended, tc.want)
		}
	}
	t.Setenv("CI", "true")
	r := &endRecorder{TB: t}
	RequireDevice(r, "/nonexistent/fuse", "mknod -m 666 /dev/fuse c 10 229")
	if want := "FAIL CI=true but: needs the device /nonexistent/fuse (make it: mknod -m 666 /dev/fuse c 10 229)"; len(r.ended) < len(want) || r.ended[:len(want)] != want {
		t.Errorf("RequireDevice: %q, want %q...", r.ended, want)
	}
}
