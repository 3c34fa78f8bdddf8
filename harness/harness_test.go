package harness

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dplug/dplug/plugin"
	"github.com/dplug/dplug/probe"
	"github.com/dplug/dplug/run"
	"github.com/dplug/dplug/source"
	"github.com/dplug/dplug/store"
)

func TestPrefixWriter(t *testing.T) {
	var b bytes.Buffer
	w := newPrefixWriter(&b, "vol | ")
	for _, s := range []string{"one\ntw", "o\n", "", "three\nfour\n"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if want := "vol | one\nvol | two\nvol | three\nvol | four\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestShortName(t *testing.T) {
	for in, want := range map[string]string{"example.com/me/vol:dev": "vol:dev", "vol": "vol", "me/vol:1": "vol:1"} {
		if got := shortName(in); got != want {
			t.Errorf("shortName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFromSource(t *testing.T) {
	cfg := plugin.Config{Entrypoint: []string{"/p"}, Interface: plugin.Interface{Types: []string{plugin.TypeVolume}, Socket: "p.sock"},
		Env: []plugin.Env{{Name: "DEBUG", Settable: []string{"value"}, Value: ptr("0")}}}
	dir := filepath.Join(t.TempDir(), "myplug")
	sum := sha256.Sum256([]byte(dir))
	got := FromSource(&source.Source{Kind: source.Dir, Config: &cfg, Rootfs: filepath.Join(dir, "rootfs")})
	want := run.Plugin{ID: hex.EncodeToString(sum[:]), Name: "myplug", Rootfs: filepath.Join(dir, "rootfs"), Config: cfg,
		Settings: cfg.DefaultSettings()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plugin dir (-want +got):\n%s", diff)
	}

	sp := &store.Plugin{ID: strings.Repeat("ab", 32), Name: "me/vol", Tag: "1", Config: cfg,
		Settings: plugin.Settings{Env: []string{"DEBUG=1"}}, Dir: "/root/plugins/abab"}
	got = FromSource(&source.Source{Kind: source.Installed, Config: &cfg, Rootfs: sp.Rootfs(), Stored: sp})
	want = run.Plugin{ID: sp.ID, Name: "me/vol:1", Rootfs: "/root/plugins/abab/rootfs", Config: cfg, Settings: sp.Settings}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("installed plugin (-want +got):\n%s", diff)
	}
}

func ptr[T any](v T) *T { return &v }

func TestExitError(t *testing.T) {
	err := &ExitError{Plugin: "vol", Code: 4, Log: []string{"a", "b"}}
	if want := "plugin vol exited with code 4; last output:\n    a\n    b"; err.Error() != want {
		t.Errorf("got %q, want %q", err.Error(), want)
	}
}

// fakeProcess is a run that exited (exited closed) or not.
type fakeProcess struct {
	done    chan struct{}
	running bool
}

func (f *fakeProcess) Done() <-chan struct{}  { return f.done }
func (f *fakeProcess) Running() bool          { return f.running }
func (f *fakeProcess) ExitCode() int          { return 4 }
func (f *fakeProcess) LastLines(int) []string { return []string{"dying", "bye"} }

func TestAliveCheck(t *testing.T) {
	alive := &fakeProcess{done: make(chan struct{}), running: true}
	c := aliveCheck(alive, false)
	if c.Status != probe.StatusPass || c.Kind != probe.Required || c.Method != "(process)" {
		t.Errorf("running plugin: %+v", c)
	}
	dead := &fakeProcess{done: make(chan struct{})}
	close(dead.done)
	c = aliveCheck(dead, true)
	if c.Status != probe.StatusFail || c.Reason != "exited with code 4; last output: dying ⏎ bye" {
		t.Errorf("exited plugin: %+v", c)
	}
	// After failed checks, a plugin still running is given a moment to be
	// seen exiting, not more.
	start := time.Now()
	if c := aliveCheck(alive, true); c.Status != probe.StatusPass {
		t.Errorf("running plugin after failures: %+v", c)
	}
	if d := time.Since(start); d < exitNoticeWait {
		t.Errorf("aliveCheck returned after %v, want it to wait %v for an exit", d, exitNoticeWait)
	}
}

// foreignELF writes a rootfs whose entrypoint /p is an ELF header for an
// architecture other than this host's.
func foreignELF(t *testing.T) (string, *plugin.Config) {
	mach, arch := elf.EM_AARCH64, "arm64"
	if runtime.GOARCH == "arm64" {
		mach, arch = elf.EM_X86_64, "amd64"
	}
	h := make([]byte, 64)
	copy(h, elf.ELFMAG)
	h[elf.EI_CLASS], h[elf.EI_DATA], h[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	binary.LittleEndian.PutUint16(h[16:], uint16(elf.ET_EXEC))
	binary.LittleEndian.PutUint16(h[18:], uint16(mach))
	binary.LittleEndian.PutUint32(h[20:], uint32(elf.EV_CURRENT))
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "p"), h, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("entrypoint built for %s", arch)
	return root, &plugin.Config{Entrypoint: []string{"/p"}}
}

func TestExplainExecFormat(t *testing.T) {
	root, cfg := foreignELF(t)
	other := errors.New("starting plugin p: socket never appeared")
	if got := explainExecFormat(other, root, cfg); got != other {
		t.Errorf("another error changed: %v", got)
	}
	if got := explainExecFormat(nil, root, cfg); got != nil {
		t.Errorf("nil became %v", got)
	}
	execErr := errors.New("starting plugin p: exec /p: exec format error")
	got := explainExecFormat(execErr, root, cfg)
	if !errors.Is(got, execErr) || !strings.Contains(got.Error(), "but this host is "+runtime.GOARCH) ||
		!strings.Contains(got.Error(), "register a qemu-user-static binfmt handler") {
		t.Errorf("foreign entrypoint: %v", got)
	}
	got = explainExecFormat(execErr, root, &plugin.Config{Entrypoint: []string{"/missing"}})
	if !errors.Is(got, execErr) || !strings.Contains(got.Error(), "\nthe architecture of the entrypoint /missing is unknown") {
		t.Errorf("unknown entrypoint: %v", got)
	}
}

// TestSettingsOptions checks that a detached plugin's output goes to its
// log only: the process that started it leaves.
func TestSettingsOptions(t *testing.T) {
	var w bytes.Buffer
	for _, tc := range []struct {
		s    Settings
		want io.Writer
	}{
		{Settings{Output: &w}, &w},
		{Settings{Output: &w, Detach: true}, nil},
		{Settings{}, nil},
	} {
		o := makeOptions(tc.s.Options())
		if o.output != tc.want || o.detach != tc.s.Detach {
			t.Errorf("options of %+v: output %v, detach %v; want %v, %v", tc.s, o.output, o.detach, tc.want, tc.s.Detach)
		}
	}
}
