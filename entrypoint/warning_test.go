package entrypoint

import (
	"runtime"
	"strings"
	"testing"
)

func TestResultWarningAndPushError(t *testing.T) {
	other := map[bool]string{true: "arm64", false: "amd64"}[runtime.GOARCH == "amd64"]
	bad := &Result{Verdict: Mismatch, Entrypoint: "/x", Chain: []string{"/x"}, Arch: other, Want: runtime.GOARCH}
	w := bad.Warning("", "enable fails")
	if want := "the entrypoint /x is " + other + " but this host is " + runtime.GOARCH + ": enable fails"; !strings.HasPrefix(w, want) {
		t.Errorf("Warning = %q, want prefix %q", w, want)
	}
	if w := bad.Warning("linux/"+other+"x", "c"); !strings.Contains(w, "the platform asked for is linux/"+other+"x: c") {
		t.Errorf("Warning for another platform = %q", w)
	}
	err := bad.PushError("")
	if err == nil || !strings.Contains(err.Error(), "refusing to push: the entrypoint /x is "+other+", not linux/"+runtime.GOARCH+" (this host)") ||
		!strings.HasSuffix(err.Error(), "say so with --platform linux/"+other) {
		t.Errorf("PushError = %v", err)
	}
	for _, v := range []Verdict{Match, Unknown} {
		r := &Result{Verdict: v}
		if r.Warning("", "c") != "" || r.PushError("") != nil {
			t.Errorf("verdict %v: a warning or error", v)
		}
	}
}
