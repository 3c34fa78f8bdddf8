package build

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestPickBuilderNone: with no address, no buildkitd and no engine, the
// error names both ways to get a builder.
func TestPickBuilderNone(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "nope.sock"))
	o := makeOptions(t.TempDir(), []Option{WithRoot(t.TempDir())})
	o.addr = ""
	_, _, err := pickBuilder(context.Background(), &o)
	if !errors.Is(err, ErrNoBuilder) {
		t.Fatalf("err = %v, want ErrNoBuilder", err)
	}
	for _, want := range []string{"dplug setup", "BUILDKIT_HOST", "Docker Engine", "DOCKER_HOST"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	for b, want := range map[string]string{"docker": "docker", "tcp://1.2.3.4:1234": ""} {
		o := makeOptions(t.TempDir(), []Option{WithBuilder(b)})
		if o.builder != want {
			t.Errorf("WithBuilder(%s): builder %q, want %q", b, o.builder, want)
		}
	}
}
