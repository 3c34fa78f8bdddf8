package build

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/internal/testenv"
)

// TestRunExportStall: a real build whose rootfs sink stops reading midway
// (standing in for BuildKit's export stall) fails with a StallError within
// the timeout plus the grace period, leaves nothing behind, and does not
// hang.
func TestRunExportStall(t *testing.T) {
	testenv.Short(t)
	bk := testenv.SharedBuildkitd(t)
	base := testenv.BusyboxLayout(t)
	ctxDir := t.TempDir()
	for name, body := range map[string]string{
		"Dockerfile": "FROM base\nRUN mkdir /data && i=0 && while [ $i -lt 200 ]; do echo $i > /data/$i; i=$((i+1)); done\n",
		"config.json": `{"description": "stall", "documentation": "https://example.com",
 "entrypoint": ["/bin/sh"], "interface": {"types": ["docker.volumedriver/1.0"], "socket": "v.sock"}}`,
	} {
		if err := os.WriteFile(filepath.Join(ctxDir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	release := make(chan struct{})
	defer close(release)
	read := make(chan struct{})
	stuck := func(ctx context.Context, r io.Reader, dir string) error {
		buf := make([]byte, 1024)
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		close(read)
		<-release
		return errors.New("released")
	}
	const timeout = 2 * time.Second
	out := filepath.Join(t.TempDir(), "plugin")
	var progress strings.Builder
	start := time.Now()
	_, err := Run(context.Background(), ctxDir, &dest.Dir{Path: out},
		WithAddr(bk.Addr),
		WithBuildContexts(map[string]string{"base": base.BuildContext()}),
		WithProgress("plain", &progress),
		WithExportTimeout(timeout),
		func(o *options) { o.extract = stuck },
	)
	took := time.Since(start)
	var st *StallError
	if !errors.As(err, &st) {
		t.Fatalf("error %T %v, want *StallError\n%s", err, err, progress.String())
	}
	select {
	case <-read:
	default:
		t.Fatal("the export never reached the sink")
	}
	t.Logf("after %v: %v", took, err)
	if st.Phase != PhaseWrite {
		t.Errorf("phase %q, want %q", st.Phase, PhaseWrite)
	}
	if !strings.Contains(err.Error(), "check that file system") {
		t.Errorf("message %q does not say what to do", err)
	}
	if took > timeout+abortWait+30*time.Second {
		t.Errorf("took %v", took)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stalled build left %s: %v", out, err)
	}
}
