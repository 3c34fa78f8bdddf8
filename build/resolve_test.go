package build_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/internal/testenv"
)

// TestBuildSilentRegistry: a base image whose registry accepts connections
// and never answers fails the build with a *ResolveError naming the image,
// after the resolve timeout, instead of holding it forever (BuildKit's
// resolver has no timeout of its own).
func TestBuildSilentRegistry(t *testing.T) {
	e := setup(t)
	addr, _ := testenv.SilentServer(t)
	ref := addr + "/silent/base:1"
	ctxDir := project(t, map[string]string{"Dockerfile": "FROM " + ref + "\nCOPY config.json /\n"})
	const timeout = 3 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	_, err := build.Run(ctx, ctxDir, &dest.Dir{Path: filepath.Join(t.TempDir(), "out")},
		e.opts(t, build.WithResolveTimeout(timeout))...)
	took := time.Since(start)
	var re *build.ResolveError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v (%T) after %v, want a *build.ResolveError", err, err, took)
	}
	if !strings.Contains(err.Error(), ref) || !strings.Contains(err.Error(), "did not answer within 3s") {
		t.Errorf("error %q does not name the image and the timeout", err)
	}
	if took > timeout+45*time.Second {
		t.Errorf("the build took %v to give up, want about %v", took, timeout)
	}
}
