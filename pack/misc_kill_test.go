package pack

// Tests for pack's smaller files (multi.go, image.go, layout.go, options.go,
// errors.go, shorten.go), written for the mutants the 2026-12-02 mutation
// run of those files left alive or never reached.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/dplug/dplug/entrypoint"
)

// TestWriteLayoutPlatformForms: os/arch and os/arch/variant are recorded
// (LayoutPlatform reads them back); no arch or a fourth part is refused.
// Kills multi.go:160's `strings.Count(platform, "/") > 2` -> `>= 2`.
func TestWriteLayoutPlatformForms(t *testing.T) {
	img := mustImage(t, testDir(t))
	for _, tt := range []struct {
		platform string
		ok       bool
	}{
		{"linux/amd64", true},
		{"linux/arm/v7", true},
		{"linux/arm64/v8", true},
		{"linux/arm/v7/extra", false},
		{"linux", false},
		{"linux/", false},
		{"", false},
	} {
		t.Run(tt.platform, func(t *testing.T) {
			lay := filepath.Join(t.TempDir(), "layout")
			err := WriteLayoutPlatform(lay, img, tt.platform)
			if !tt.ok {
				if err == nil || !strings.Contains(err.Error(), "want os/arch[/variant]") {
					t.Fatalf("WriteLayoutPlatform(%q) = %v; want a parse error", tt.platform, err)
				}
				if IsLayout(lay) {
					t.Errorf("WriteLayoutPlatform(%q) wrote a layout", tt.platform)
				}
				return
			}
			if err != nil {
				t.Fatalf("WriteLayoutPlatform(%q): %v", tt.platform, err)
			}
			got, err := LayoutPlatform(lay)
			if err != nil || got != tt.platform {
				t.Errorf("LayoutPlatform = %q, %v; want %q", got, err, tt.platform)
			}
		})
	}
}

// TestLayoutPlatform: what LayoutPlatform reports for an empty layout, a
// plugin without a platform, and a layout of several platforms (the one
// WithPlatform picks, an error when none fits).
func TestLayoutPlatform(t *testing.T) {
	img := mustImage(t, testDir(t))
	arm := mustImage(t, elfPluginDir(t, 183))

	emptyLay := filepath.Join(t.TempDir(), "empty")
	if _, err := layout.Write(emptyLay, empty.Index); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(t.TempDir(), "plain")
	if err := WriteLayout(plain, img); err != nil {
		t.Fatal(err)
	}
	multi := filepath.Join(t.TempDir(), "multi")
	for _, w := range []struct {
		img      v1.Image
		platform string
	}{{img, "linux/amd64"}, {arm, "linux/arm64"}, {img, "linux/arm/v7"}} {
		if err := WriteLayoutPlatform(multi, w.img, w.platform); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name, path string
		opts       []Option
		want       string // "" with wantErr false: no platform recorded
		wantErr    bool
	}{
		{"empty layout", emptyLay, nil, "", false},
		{"no platform", plain, nil, "", false},
		{"arm64", multi, []Option{WithPlatform("linux/arm64")}, "linux/arm64", false},
		{"amd64", multi, []Option{WithPlatform("linux/amd64")}, "linux/amd64", false},
		{"armv7", multi, []Option{WithPlatform("linux/arm/v7")}, "linux/arm/v7", false},
		{"no such platform", multi, []Option{WithPlatform("linux/s390x")}, "", true},
		{"not a layout", t.TempDir(), nil, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LayoutPlatform(tt.path, tt.opts...)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("LayoutPlatform = %q, %v; want %q (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestPlatformOf(t *testing.T) {
	for _, tt := range []struct {
		p    *v1.Platform
		want string
	}{
		{nil, ""},
		{&v1.Platform{OS: "linux"}, ""},
		{&v1.Platform{OS: "linux", Architecture: "amd64"}, "linux/amd64"},
		{&v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, "linux/arm/v7"},
	} {
		if got := platformOf(v1.Descriptor{Platform: tt.p}); got != tt.want {
			t.Errorf("platformOf(%+v) = %q; want %q", tt.p, got, tt.want)
		}
	}
}

// TestCheckImageReadsLayers: an image that was not packed here (read back
// from a layout) is checked from its layers, with the same verdicts as the
// packed one checked from its directory.
func TestCheckImageReadsLayers(t *testing.T) {
	packed := mustImage(t, elfPluginDir(t, 62)) // x86-64
	p, _ := viaLayout(t, packed)
	fromLayout, err := p.Image()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fromLayout.(*pluginImage); ok {
		t.Fatal("the layout's image is a *pluginImage; the test needs one checked from its layers")
	}
	for _, tt := range []struct {
		platform string
		want     entrypoint.Verdict
	}{
		{"linux/amd64", entrypoint.Match},
		{"linux/arm64", entrypoint.Mismatch},
	} {
		for name, img := range map[string]v1.Image{"packed": packed, "layout": fromLayout} {
			r, err := CheckImage(img, tt.platform)
			if err != nil {
				t.Fatalf("CheckImage(%s, %s): %v", name, tt.platform, err)
			}
			if r.Verdict != tt.want || r.Arch != "amd64" {
				t.Errorf("CheckImage(%s, %s) = %v (arch %q); want %v, amd64", name, tt.platform, r.Verdict, r.Arch, tt.want)
			}
		}
	}
}

// nestedLayout writes img to a new layout under n indexes (0: index.json
// lists the manifest itself).
func nestedLayout(t *testing.T, img v1.Image, n int) string {
	t.Helper()
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img})
	for range n {
		idx = mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: idx})
	}
	path := filepath.Join(t.TempDir(), "layout")
	if _, err := layout.Write(path, idx); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReadLayoutNestedIndexes: ReadLayout descends through up to 5 nested
// indexes and refuses 6. Kills layout.go:261's `depth > 4` -> `>= 4`.
func TestReadLayoutNestedIndexes(t *testing.T) {
	img := mustImage(t, testDir(t))
	want, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n <= 6; n++ {
		p, err := ReadLayout(nestedLayout(t, img, n))
		if n <= 5 {
			if err != nil || p.Digest() != want.String() {
				t.Errorf("%d nested indexes: ReadLayout = %v, %v; want %s", n, p, err, want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "indexes nested too deep") {
			t.Errorf("%d nested indexes: ReadLayout = %v; want 'indexes nested too deep'", n, err)
		}
	}
}

// TestImageFromRootfs: a config and a rootfs not laid out as a plugin
// directory pack to the same artifact as the directory; a rootfs that is
// missing or a file, or an invalid config, is refused.
func TestImageFromRootfs(t *testing.T) {
	ctx := context.Background()
	dir := testDir(t)
	config, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := mustImage(t, dir).Digest()
	if err != nil {
		t.Fatal(err)
	}
	img, err := ImageFromRootfs(ctx, config, filepath.Join(dir, "rootfs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.(*pluginImage).Close() })
	if got, err := img.Digest(); err != nil || got != want {
		t.Errorf("ImageFromRootfs digest %v, %v; want %s (the plugin directory's)", got, err, want)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, rootfs string
		config       []byte
		want         string
	}{
		{"missing rootfs", filepath.Join(t.TempDir(), "none"), config, "not a plugin directory"},
		{"rootfs is a file", file, config, "not a plugin directory"},
		{"invalid config", filepath.Join(dir, "rootfs"), []byte(`{"Description":"d","Documentation":"d","Interface":{"Socket":"s.sock","Types":["weird"]}}`), "weird"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			img, err := ImageFromRootfs(ctx, tt.config, tt.rootfs)
			if err == nil {
				img.(*pluginImage).Close()
				t.Fatal("ImageFromRootfs succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "packing "+tt.rootfs+": ") {
				t.Errorf("ImageFromRootfs = %v; want 'packing %s: …%s…'", err, tt.rootfs, tt.want)
			}
		})
	}
}

// TestImageCanceled: a canceled context stops Image before the rootfs is
// read.
func TestImageCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Image(ctx, testDir(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("Image(canceled) = %v; want context.Canceled", err)
	}
}

// TestOptionsNilAndZero: the options that take a value keep their default
// for nil (or a duration or size <= 0) and use any other value.
func TestOptionsNilAndZero(t *testing.T) {
	kc := authn.NewMultiKeychain()
	l := slog.New(slog.DiscardHandler)
	tr := &http.Transport{}
	if o := makeOptions(WithKeychain(nil), WithLogger(nil), WithTransport(nil), WithProgress(nil)); o.keychain != authn.DefaultKeychain || o.log == nil || o.transport != nil || o.progress == nil {
		t.Errorf("nil options changed the defaults: %+v", o)
	}
	if o := makeOptions(WithKeychain(kc), WithLogger(l), WithTransport(tr)); o.keychain != kc || o.log != l || o.transport != tr {
		t.Errorf("WithKeychain/WithLogger/WithTransport not applied: %+v", o)
	}
	var got []Progress
	makeOptions(WithProgress(func(p Progress) { got = append(got, p) })).progress(Progress{Phase: "x"})
	if len(got) != 1 {
		t.Errorf("WithProgress's function got %v", got)
	}
	for _, tt := range []struct {
		d, want time.Duration
	}{{0, DefaultTimeout}, {-time.Second, DefaultTimeout}, {time.Nanosecond, time.Nanosecond}, {time.Minute, time.Minute}} {
		if o := makeOptions(WithTimeout(tt.d)); o.timeout != tt.want {
			t.Errorf("WithTimeout(%v) = %v; want %v", tt.d, o.timeout, tt.want)
		}
	}
	for _, tt := range []struct {
		n    int64
		want sizeLimits
	}{
		{0, sizeLimits{max: DefaultMaxSize, ratio: true, floor: ratioFloor}},
		{-1, sizeLimits{max: DefaultMaxSize, ratio: true, floor: ratioFloor}},
		{1, sizeLimits{max: 1, ratio: false, floor: ratioFloor}},
		{DefaultMaxSize, sizeLimits{max: DefaultMaxSize, ratio: false, floor: ratioFloor}},
	} {
		if got := makeOptions(WithMaxSize(tt.n)).sizeLimits(); got != tt.want {
			t.Errorf("WithMaxSize(%d) limits %+v; want %+v", tt.n, got, tt.want)
		}
	}
}

func TestRegistryOf(t *testing.T) {
	for _, tt := range []struct{ ref, want string }{
		{"registry.example.com:5000/me/plug:1", "registry.example.com:5000"},
		{"127.0.0.1:5000/p", "127.0.0.1:5000"},
		{"plug", "plug"},
		{"/p", "/p"}, // no host before the slash
	} {
		if got := registryOf(tt.ref); got != tt.want {
			t.Errorf("registryOf(%q) = %q; want %q", tt.ref, got, tt.want)
		}
	}
}

// timeoutErr is a net.Error that timed out, wrapping cause.
type timeoutErr struct{ cause error }

func (e timeoutErr) Error() string   { return "i/o timeout" }
func (e timeoutErr) Timeout() bool   { return true }
func (e timeoutErr) Temporary() bool { return true }
func (e timeoutErr) Unwrap() error   { return e.cause }

// TestClassify: each kind of failure maps to its sentinel error with one
// line of advice; the caller's own deadline and unknown errors pass as
// they are.
func TestClassify(t *testing.T) {
	const ref = "reg.example:5000/me/plug:1"
	te := func(status int, codes ...transport.ErrorCode) *transport.Error {
		e := &transport.Error{StatusCode: status}
		for _, c := range codes {
			e.Errors = append(e.Errors, transport.Diagnostic{Code: c, Message: strings.ToLower(string(c))})
		}
		return e
	}
	other := errors.New("something else")
	deadline := fmt.Errorf("get: %w", context.DeadlineExceeded)
	for _, tt := range []struct {
		name   string
		err    error
		is     error  // nil: the error itself passes through
		says   string // in the message
		passes bool   // classify returns err unchanged
	}{
		{"401", te(http.StatusUnauthorized), ErrUnauthorized, "(HTTP 401 Unauthorized; log in with `docker login reg.example:5000`", false},
		{"403", te(http.StatusForbidden, transport.DeniedErrorCode), ErrUnauthorized, "(DENIED: denied; log in", false},
		{"404", te(http.StatusNotFound), ErrNotFound, "(HTTP 404 Not Found; check", false},
		{"denied code", te(http.StatusBadRequest, transport.DeniedErrorCode), ErrUnauthorized, "DENIED: denied", false},
		{"unauthorized code", te(http.StatusBadRequest, transport.UnauthorizedErrorCode), ErrUnauthorized, "UNAUTHORIZED: unauthorized", false},
		{"manifest unknown", te(http.StatusBadRequest, transport.ManifestUnknownErrorCode), ErrNotFound, "MANIFEST_UNKNOWN: manifest_unknown", false},
		{"name unknown", te(http.StatusBadRequest, transport.NameUnknownErrorCode), ErrNotFound, "NAME_UNKNOWN", false},
		{"blob unknown", te(http.StatusBadRequest, transport.BlobUnknownErrorCode), ErrNotFound, "BLOB_UNKNOWN", false},
		{"two codes", te(http.StatusBadRequest, transport.UnsupportedErrorCode, transport.TooManyRequestsErrorCode), nil,
			"the registry answered UNSUPPORTED: unsupported; TOOMANYREQUESTS: toomanyrequests", false},
		{"bare status", te(http.StatusBadGateway), nil, "the registry answered HTTP 502 Bad Gateway", false},
		{"redirects", fmt.Errorf("x: %w", ErrTooManyRedirects), nil, "", true},
		{"idle timeout", fmt.Errorf("x: %w", ErrTimeout), nil, "", true},
		{"net timeout", timeoutErr{}, ErrTimeout, "reg.example:5000 did not answer in time (i/o timeout); raise --timeout", false},
		{"net timeout with a cause", timeoutErr{cause: os.ErrDeadlineExceeded}, ErrTimeout, "did not answer in time", false},
		{"caller's deadline", timeoutErr{cause: deadline}, nil, "", true},
		{"bare deadline", context.DeadlineExceeded, nil, "", true},
		{"dns", &net.DNSError{Name: "nosuch.invalid", Err: "no such host"}, ErrUnreachable, "cannot resolve the registry host nosuch.invalid", false},
		{"dial", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, ErrUnreachable,
			"cannot connect to reg.example:5000: connection refused (check", false},
		{"read", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, nil, "", true},
		{"plain http", errors.New("http: server gave HTTP response to HTTPS client"), ErrUnreachable, "reg.example:5000 serves plain HTTP (use --insecure)", false},
		{"other", other, nil, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := classify(ref, tt.err)
			if tt.passes {
				if got != tt.err {
					t.Errorf("classify = %v; want %v unchanged", got, tt.err)
				}
				return
			}
			if tt.is != nil && !errors.Is(got, tt.is) {
				t.Errorf("classify = %v; want %v", got, tt.is)
			}
			if got == nil || !strings.Contains(got.Error(), tt.says) {
				t.Errorf("classify = %v; want it to say %q", got, tt.says)
			}
			var want *transport.Error
			if errors.As(tt.err, &want) && tt.is == nil {
				var as *transport.Error
				if !errors.As(got, &as) || as != want {
					t.Errorf("classify = %v; errors.As does not find the *transport.Error", got)
				}
			}
		})
	}
	if classify(ref, nil) != nil {
		t.Error("classify(nil) != nil")
	}
}

// TestShortenWords: words up to maxWord bytes stay whole; longer ones
// keep 60 bytes each side, cut on rune boundaries (also when the word is
// not UTF-8 at all), and the message says how much was cut.
func TestShortenWords(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	e := func(n int) string { return strings.Repeat("é", n) } // 2 bytes each
	x80 := strings.Repeat("\x80", 200)                        // continuation bytes only
	for _, tt := range []struct{ name, msg, want string }{
		{"maxWord", "open " + a(maxWord) + " denied", "open " + a(maxWord) + " denied"},
		{"maxWord+1", "open " + a(maxWord+1) + " denied", "open " + a(60) + "…(41 bytes)…" + a(60) + " denied"},
		{"head mid-rune", "b" + e(100), "b" + e(29) + "…(82 bytes)…" + e(30)},
		{"tail mid-rune", e(100) + "b", e(30) + "…(82 bytes)…" + e(29) + "b"},
		{"no rune start", x80, "…(200 bytes)…"},
		{"two words", a(200) + " " + a(170), a(60) + "…(80 bytes)…" + a(60) + " " + a(60) + "…(50 bytes)…" + a(60)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			orig := errors.New(tt.msg)
			got := shorten(orig, nil)
			if got.Error() != tt.want {
				t.Errorf("shorten = %q; want %q", got, tt.want)
			}
			if !errors.Is(got, orig) {
				t.Error("the shortened error does not wrap the original")
			}
			if tt.msg == tt.want && got != orig {
				t.Error("an unchanged message got wrapped")
			}
		})
	}
	dirs := map[string]string{"/var/lib/x/tmp-123": "rootfs"}
	if got := shorten(errors.New("mkdir /var/lib/x/tmp-123//etc: no space"), dirs).Error(); got != "mkdir rootfs/etc: no space" {
		t.Errorf("shorten with dirs = %q", got)
	}
	if shorten(nil, dirs) != nil {
		t.Error("shorten(nil) != nil")
	}
}
