// Package testplugin builds small, real plugins into plugin directories —
// config.json plus rootfs/ — that `docker plugin create`, dplug
// pack/install/run all accept, with no base image: volplug (a static Go
// binary serving go-plugins-helpers' VolumeDriver, with misbehaviour modes)
// and regplug (the regression plugins `dplug test` must pass: a volume
// driver needing options, idempotent Remove, an empty settable bind
// source, a log driver opening its FIFO blocking, an IPAM needing an
// explicit subnet and address, a deny-by-default authz).
//
// Write (WriteTo, WriteRawTo) is the one writer of plugin dirs for dplug's
// Go tests, whatever their rootfs, and Tar (TarGz) the one writer of tar
// streams (layers, archives) from the same entries; the CLI scripts
// (cmd/dplug/cli/testdata/script) take theirs from their txtar archives,
// with the `testplugin` command for these binaries.
package testplugin

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dplug/dplug/plugin"
)

// Socket is the socket name volplug listens on inside the plugin.
const Socket = "volplug.sock"

// builds holds one build per command (volplug, regplug) per test process.
var builds sync.Map // name -> *build

type build struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// Binary builds volplug once per test process (static, CGO_ENABLED=0) and
// returns its path. The binary is cached under os.TempDir()/dplug-volplug/,
// keyed by volplug's source, go.sum and the Go version, so test processes
// share one copy instead of each leaving a new temp dir behind.
func Binary(t testing.TB) string { t.Helper(); return binary(t, "volplug") }

// RegBinary builds regplug (the regression plugins, see its doc) like Binary.
func RegBinary(t testing.TB) string { t.Helper(); return binary(t, "regplug") }

func binary(t testing.TB, name string) string {
	t.Helper()
	p, err := Build(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Build builds the test plugin command name (volplug or regplug) once per
// test process, like Binary, for callers without a testing.TB (testscript
// commands).
func Build(name string) (string, error) {
	if name != "volplug" && name != "regplug" {
		return "", fmt.Errorf("no test plugin %q: volplug or regplug", name)
	}
	v, _ := builds.LoadOrStore(name, &build{})
	b := v.(*build)
	b.once.Do(func() { b.path, b.out, b.err = buildCommand(name) })
	if b.err != nil {
		return "", fmt.Errorf("building %s: %w\n%s", name, b.err, b.out)
	}
	return b.path, nil
}

func buildCommand(name string) (string, []byte, error) {
	_, self, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(self), name)
	h := sha256.New()
	for _, f := range []string{filepath.Join(src, "main.go"), filepath.Join(filepath.Dir(self), "..", "..", "go.sum")} {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", nil, err
		}
		h.Write(data)
	}
	h.Write([]byte(runtime.Version()))
	dir := filepath.Join(os.TempDir(), "dplug-"+name, hex.EncodeToString(h.Sum(nil))[:16])
	bin := filepath.Join(dir, name)
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
		return bin, nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	// Build beside the final path and rename: concurrent test processes
	// never see a half-written binary.
	tmp := filepath.Join(dir, name+"."+strconv.Itoa(os.Getpid())+".tmp")
	defer os.Remove(tmp)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", tmp, "./"+name)
	cmd.Dir = filepath.Dir(self)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", out, err
	}
	return bin, nil, os.Rename(tmp, bin)
}

// Config returns the default config.json for volplug; edit it before Dir.
func Config() plugin.Config {
	return plugin.Config{
		Description:     "dplug test volume plugin",
		Documentation:   "https://example.invalid/volplug",
		Entrypoint:      []string{"/volplug", "volplug"},
		Interface:       plugin.Interface{Types: []string{plugin.TypeVolume}, Socket: Socket},
		Network:         plugin.Network{Type: "host"},
		PropagatedMount: "/data",
		Linux:           plugin.Linux{Capabilities: []string{"CAP_SYS_ADMIN"}},
	}
}

// ModeConfig is Config with volplug's misbehaviour mode (TESTPLUGIN_MODE:
// "crash", "nolisten", "inspect", ... as volplug's doc lists them); ""
// serves normally.
func ModeConfig(mode string) plugin.Config {
	cfg := Config()
	if mode != "" {
		cfg.Env = append(cfg.Env, plugin.Env{Name: "TESTPLUGIN_MODE", Value: &mode})
	}
	return cfg
}

// Dir writes a plugin directory (config.json + rootfs/volplug) under a new
// t.TempDir and returns it. cfg nil means Config().
func Dir(t testing.TB, cfg *plugin.Config) string {
	t.Helper()
	if cfg == nil {
		c := Config()
		cfg = &c
	}
	return writeDir(t, cfg, "volplug", Binary(t))
}

// BuildContext writes a plugin project for volplug under a new t.TempDir
// and returns it: the static binary, config.json (Config()) and a
// Dockerfile that copies the binary into an empty image, for tests that
// build with BuildKit or a Docker Engine.
func BuildContext(t testing.TB) string {
	t.Helper()
	bin, err := os.ReadFile(Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := json.Marshal(Config())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, body := range map[string][]byte{
		"volplug":     bin,
		"config.json": cfg,
		"Dockerfile":  []byte("FROM scratch\nCOPY volplug /volplug\n"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// RegSocket is the socket name regplug listens on inside the plugin.
const RegSocket = "regplug.sock"

// Regression plugin modes (regplug's first argument).
const (
	RegOptVolume    = "optvolume"    // volume driver whose Create needs the option sshcmd
	RegIdemRemove   = "idemremove"   // volume driver with idempotent Remove
	RegEmptySource  = "emptysource"  // volume driver with a settable bind mount whose source is ""
	RegBlockingLog  = "blockinglog"  // log driver that opens the FIFO blocking
	RegExplicitIPAM = "explicitipam" // IPAM driver that needs an explicit subnet and address
	RegDenyAuthz    = "denyauthz"    // authorization plugin that denies everything
)

// RegConfig returns the config.json of the regression plugin for mode.
func RegConfig(mode string) plugin.Config {
	types := map[string]string{
		RegOptVolume: plugin.TypeVolume, RegIdemRemove: plugin.TypeVolume, RegEmptySource: plugin.TypeVolume,
		RegBlockingLog: plugin.TypeLog, RegExplicitIPAM: plugin.TypeIPAM, RegDenyAuthz: plugin.TypeAuthz,
	}
	cfg := plugin.Config{
		Description:   "dplug regression plugin " + mode,
		Documentation: "https://example.invalid/regplug",
		Entrypoint:    []string{"/regplug", mode},
		Interface:     plugin.Interface{Types: []string{types[mode]}, Socket: RegSocket},
		Network:       plugin.Network{Type: "host"},
	}
	if types[mode] == plugin.TypeVolume {
		cfg.PropagatedMount = "/data"
		cfg.Linux.Capabilities = []string{"CAP_SYS_ADMIN"}
	}
	if mode == RegEmptySource {
		empty := ""
		cfg.Mounts = []plugin.Mount{{Name: "sshkey", Description: "the user's ssh keys, set at install",
			Source: &empty, Destination: "/root/.ssh", Type: "bind", Options: []string{"rbind"}, Settable: []string{"source"}}}
	}
	return cfg
}

// RegDir writes the regression plugin directory for mode (config.json +
// rootfs/regplug) under a new t.TempDir and returns it.
func RegDir(t testing.TB, mode string) string {
	t.Helper()
	cfg := RegConfig(mode)
	return writeDir(t, &cfg, "regplug", RegBinary(t))
}

func writeDir(t testing.TB, cfg *plugin.Config, name, binPath string) string {
	t.Helper()
	bin, err := os.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}
	return Write(t, cfg, map[string]File{
		name:   {Body: string(bin), Mode: 0o755},
		"data": {Mode: fs.ModeDir | 0o755}, "etc": {Mode: fs.ModeDir | 0o755}, "tmp": {Mode: fs.ModeDir | 0o755},
	})
}

// A File is one entry of a plugin dir's rootfs for Write: a regular file
// (Body, Mode; Mode 0 means 0644), a directory (Mode has fs.ModeDir), a
// symbolic link (Symlink, its target) or a hard link (Link, the rootfs path
// of the file it links to).
type File struct {
	Body    string
	Mode    fs.FileMode
	Symlink string
	Link    string
}

// Exec is an executable file (mode 0755) holding body.
func Exec(body string) File { return File{Body: body, Mode: 0o755} }

// Minimal is the smallest valid config: a volume plugin whose entrypoint
// is /bin/plug, with no privileges.
func Minimal() plugin.Config {
	return plugin.Config{
		Description:   "dplug test plugin",
		Documentation: "https://example.invalid",
		Entrypoint:    []string{"/bin/plug"},
		Interface:     plugin.Interface{Types: []string{plugin.TypeVolume}, Socket: "p.sock"},
	}
}

// Write writes a plugin directory — config.json from cfg (nil means
// Minimal()) and rootfs/ with files (path relative to rootfs/ -> entry;
// nil means just an executable bin/plug) — under a new t.TempDir and
// returns it. It is the one plugin-dir writer of dplug's Go tests; the
// CLI scripts get theirs from their txtar archives.
func Write(t testing.TB, cfg *plugin.Config, files map[string]File) string {
	t.Helper()
	dir := t.TempDir()
	if err := WriteTo(dir, cfg, files); err != nil {
		t.Fatal(err)
	}
	return dir
}

// WriteTo is Write into an existing (or new) directory dir.
func WriteTo(dir string, cfg *plugin.Config, files map[string]File) error {
	if cfg == nil {
		c := Minimal()
		cfg = &c
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return WriteRawTo(dir, data, files)
}

// WriteRawTo is WriteTo with config.json's bytes as they are: for configs
// plugin.Config cannot hold (malformed JSON, wrong types, unknown fields).
func WriteRawTo(dir string, config []byte, files map[string]File) error {
	if files == nil {
		files = map[string]File{"bin/plug": Exec("#!/bin/sh\n")}
	}
	rootfs := filepath.Join(dir, "rootfs")
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), config, 0o644); err != nil {
		return err
	}
	for _, name := range order(files) {
		f := files[name]
		p := filepath.Join(rootfs, name)
		err := os.MkdirAll(filepath.Dir(p), 0o755)
		if err != nil {
			return err
		}
		switch {
		case f.Symlink != "":
			err = os.Symlink(f.Symlink, p)
		case f.Link != "":
			err = os.Link(filepath.Join(rootfs, f.Link), p)
		case f.Mode.IsDir():
			err = os.MkdirAll(p, f.Mode.Perm())
		default:
			mode := f.filePerm()
			if err = os.WriteFile(p, []byte(f.Body), mode); err == nil {
				err = os.Chmod(p, mode) // whatever the umask
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// order is the order to write files in: files and directories first
// (sorted: parents before children), then links, whose targets then
// exist.
func order(files map[string]File) []string {
	var names, links []string
	for name, f := range files {
		if f.Symlink != "" || f.Link != "" {
			links = append(links, name)
		} else {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	sort.Strings(links)
	return append(names, links...)
}

// filePerm is a regular file's permissions: Mode's, 0644 when 0.
func (f File) filePerm() fs.FileMode {
	if perm := f.Mode.Perm(); perm != 0 {
		return perm
	}
	return 0o644
}

// Tar is a tar stream of files (path -> entry, as for Write's rootfs), in
// Write's order: a plugin layer, or any archive a test extracts. Entries
// carry no owner and a zero time.
func Tar(t testing.TB, files map[string]File) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range order(files) {
		f := files[name]
		hdr := &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: int64(f.filePerm()), Size: int64(len(f.Body))}
		switch {
		case f.Symlink != "":
			hdr.Typeflag, hdr.Linkname, hdr.Mode, hdr.Size = tar.TypeSymlink, f.Symlink, 0o777, 0
		case f.Link != "":
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, f.Link, 0
		case f.Mode.IsDir():
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeDir, int64(f.Mode.Perm()), 0
			if !strings.HasSuffix(name, "/") {
				hdr.Name += "/"
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := io.WriteString(tw, f.Body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TarGz is Tar compressed with gzip.
func TarGz(t testing.TB, files map[string]File) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(Tar(t, files)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
