package build_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/dest"
)

// TestBuildWarnsUnusedBuildArg: a build arg no ARG consumes is named in a
// warning (progress output and Result.Warnings); used and predefined ones
// are not.
func TestBuildWarnsUnusedBuildArg(t *testing.T) {
	e := setup(t)
	ctxDir := project(t, map[string]string{"Dockerfile": "FROM base\nARG USED\nRUN echo \"$USED\" > /used\n"})
	out := filepath.Join(t.TempDir(), "plugin")
	var progress bytes.Buffer
	res, err := build.Run(context.Background(), ctxDir, &dest.Dir{Path: out}, e.opts(t,
		build.WithBuildArgs(map[string]string{"USED": "yes", "UNUSED_ARG": "x", "HTTP_PROXY": "http://127.0.0.1:1"}),
		build.WithProgress("plain", &progress))...)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(out, "rootfs/used")); got != "yes\n" {
		t.Errorf("used = %q", got)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "build-arg UNUSED_ARG not consumed") {
		t.Errorf("Warnings = %q, want one naming UNUSED_ARG", res.Warnings)
	}
	for _, w := range res.Warnings {
		if strings.Contains(w, "USED,") || strings.Contains(w, "HTTP_PROXY") {
			t.Errorf("warning %q names a consumed or predefined arg", w)
		}
	}
	if !strings.Contains(progress.String(), "build-arg UNUSED_ARG not consumed") {
		t.Errorf("progress output lacks the warning:\n%s", progress.String())
	}
}
