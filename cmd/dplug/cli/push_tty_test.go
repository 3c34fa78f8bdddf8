//go:build linux

package cli_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/dplug/dplug/cmd/dplug/cli"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
)

// TestPushProgressOnTTY checks that a terminal gets the live progress line
// (carriage return + erase) and the summary lines, while stdout keeps only
// the result.
func TestPushProgressOnTTY(t *testing.T) {
	// A fresh user cache: the same plugin packed by an earlier run would
	// be a layer cache hit, with no packing phase to show.
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	host := memRegistry(t)
	dir := testplugin.Write(t, nil, nil)
	ptmx, tty, err := pty.Open()
	if err != nil {
		testenv.Unavailable(t, "needs a pty: %v", err)
	}
	defer ptmx.Close()
	var screen bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&screen, ptmx); close(done) }()

	var stdout bytes.Buffer
	code := cli.Run(context.Background(), []string{"push", dir, host + "/tty/plug:1"}, strings.NewReader(""), &stdout, tty)
	tty.Close()
	<-done
	if code != 0 {
		t.Fatalf("push: exit %d\n%s", code, screen.String())
	}
	out := screen.String()
	for _, want := range []string{"\r\x1b[K", "packing", "connecting", "uploading"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, out)
		}
	}
	if !strings.HasPrefix(stdout.String(), host+"/tty/plug:1@sha256:") {
		t.Errorf("stdout = %q; want only REF@DIGEST", stdout.String())
	}
}
