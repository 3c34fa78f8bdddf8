package pack

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// pushReports pushes img and returns the progress reports and how long
// the push took.
func pushReports(t *testing.T, dir, ref string) ([]Progress, time.Duration) {
	t.Helper()
	var mu sync.Mutex
	var got []Progress
	img := mustImage(t, dir, WithCompressionLevel(0))
	start := time.Now()
	if _, err := Push(context.Background(), img, ref, anon, WithProgress(func(p Progress) {
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	})); err != nil {
		t.Fatal(err)
	}
	return got, time.Since(start)
}

// TestPushProgress: a push reports its phases once each, in order
// (connecting, uploading, finishing), the uploaded bytes while they flow
// (at most every 100ms, and the end of each blob); a push with nothing to
// upload starts no uploading phase.
func TestPushProgress(t *testing.T) {
	dir := testDir(t)
	big := make([]byte, 2<<20)
	rand.Read(big)
	if err := os.WriteFile(filepath.Join(dir, "rootfs", "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	host := newRegistry(t, nil)

	got, elapsed := pushReports(t, dir, host+"/p:1")
	var markers []string
	var bytes []Progress
	for _, p := range got {
		if p.Complete == 0 && p.Total == 0 {
			markers = append(markers, p.Phase)
		} else {
			bytes = append(bytes, p)
		}
	}
	if want := []string{PhaseConnecting, PhaseUploading, PhaseFinishing}; !equalStrings(markers, want) {
		t.Errorf("phases = %q; want %q once each (all reports: %+v)", markers, want, got)
	}
	partial, whole := 0, 0
	for _, p := range bytes {
		switch {
		case p.Phase != PhaseUploading || p.Complete > p.Total:
			t.Errorf("byte report %+v; want uploading, Complete <= Total", p)
		case p.Complete == p.Total:
			whole++
		default:
			partial++
		}
	}
	if partial == 0 || whole == 0 {
		t.Errorf("byte reports = %+v; want some while the 2 MiB layer uploads and one when it is done", bytes)
	}
	// One report when the upload starts, one per 100ms, one per blob done.
	if most := int(elapsed/(100*time.Millisecond)) + 4; len(bytes) > most {
		t.Errorf("%d byte reports in %v; want at most %d (one per 100ms)", len(bytes), elapsed, most)
	}

	// Everything is there already: nothing is uploaded.
	got, _ = pushReports(t, dir, host+"/p:2")
	markers = nil
	for _, p := range got {
		if p.Complete == 0 && p.Total == 0 {
			markers = append(markers, p.Phase)
		}
	}
	if want := []string{PhaseConnecting, PhaseFinishing}; !equalStrings(markers, want) {
		t.Errorf("second push: phases = %q; want %q, no uploading (all reports: %+v)", markers, want, got)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRetryable: which failures are worth another try. A 5xx is retried
// even when its diagnostics are not temporary ones; a 4xx only when it is
// 429; a failure that already waited, or that a retry cannot mend, is not.
func TestRetryable(t *testing.T) {
	denied := []transport.Diagnostic{{Code: transport.DeniedErrorCode}}
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"canceled", fmt.Errorf("get: %w", context.Canceled), false},
		{"deadline", fmt.Errorf("get: %w", context.DeadlineExceeded), false},
		{"500 with a non-temporary code", &transport.Error{StatusCode: 500, Errors: denied}, true},
		{"501", &transport.Error{StatusCode: 501, Errors: denied}, true},
		{"499", &transport.Error{StatusCode: 499, Errors: denied}, false},
		{"429 with a non-temporary code", &transport.Error{StatusCode: http.StatusTooManyRequests, Errors: denied}, true},
		{"404", &transport.Error{StatusCode: 404}, false},
		{"408", &transport.Error{StatusCode: http.StatusRequestTimeout}, true},
		{"timeout", fmt.Errorf("x: %w", ErrTimeout), false},
		{"redirect loop", fmt.Errorf("x: %w", ErrTooManyRedirects), false},
		{"damaged", fmt.Errorf("x: %w", ErrDamaged), false},
		{"net timeout", &idleTimeoutError{addr: "r", op: "from", d: time.Second}, false},
		{"unexpected EOF", fmt.Errorf("x: %w", io.ErrUnexpectedEOF), true},
		{"reset", &net.OpError{Op: "read", Err: syscall.ECONNRESET}, true},
		{"other", errors.New("manifest unknown"), false},
	} {
		if got := retryable(tt.err); got != tt.want {
			t.Errorf("retryable(%s: %v) = %v; want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

// TestRefProblemMoreCases: refProblem names the real problem of a
// reference whose registry host or tag holds what a repository may not.
func TestRefProblemMoreCases(t *testing.T) {
	for _, tt := range []struct{ ref, want string }{
		// One ':' (a tag) is not "more than one".
		{"me/plug:Bad!", "it is not a valid image reference"},
		// The registry host may be upper case; the rest is what is wrong.
		{"Registry.Example.com/me/plug!", "it is not a valid image reference"},
		{"REGISTRY.EXAMPLE.COM/me/plug!", "it is not a valid image reference"},
		{"localhost/Me/plug", "repository names must be lowercase"},
		// A well-formed digest is not the problem.
		{"me/plug!@sha256:" + strings.Repeat("a", 64), "it is not a valid image reference"},
		{"me/plug!@sha256:" + strings.Repeat("a", 63), "a digest looks like"},
	} {
		if got := refProblem(tt.ref); !strings.HasPrefix(got, tt.want) {
			t.Errorf("refProblem(%q) = %q; want %q", tt.ref, got, tt.want)
		}
		if err := ParseReference(tt.ref); !errors.Is(err, ErrBadReference) {
			t.Errorf("ParseReference(%q) = %v; want ErrBadReference", tt.ref, err)
		}
	}
}

// mountRegistry is the in-memory registry with what it lacks for
// cross-repository mounts: blobs belong to repositories (a blob pushed to
// one is unknown in another until mounted or uploaded there), a mount
// request from a repository holding the blob mounts it, and bearer auth
// whose token requests are recorded with their scopes.
type mountRegistry struct {
	host string

	mu      sync.Mutex
	have    map[string]bool // repo + "@" + digest
	mounts  map[string]string
	uploads int
	scopes  []string
}

func newMountRegistry(t *testing.T) *mountRegistry {
	m := &mountRegistry{have: map[string]bool{}, mounts: map[string]string{}}
	onToken := func(scopes []string) {
		m.mu.Lock()
		m.scopes = append(m.scopes, scopes...)
		m.mu.Unlock()
	}
	m.host = newRegistry(t, func(reg http.Handler) http.Handler {
		return bearerAuth(onToken)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			repo, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/blobs/")
			if !ok {
				reg.ServeHTTP(w, r)
				return
			}
			m.mu.Lock()
			defer m.mu.Unlock()
			q := r.URL.Query()
			switch {
			case r.Method == http.MethodPost && q.Get("mount") != "":
				d := q.Get("mount")
				m.mounts[d] = q.Get("from")
				if m.have[q.Get("from")+"@"+d] {
					m.have[repo+"@"+d] = true
					w.Header().Set("Location", "/v2/"+repo+"/blobs/"+d)
					w.Header().Set("Docker-Content-Digest", d)
					w.WriteHeader(http.StatusCreated)
					return
				}
			case strings.HasPrefix(rest, "uploads/"):
				if r.Method == http.MethodPatch || r.Method == http.MethodPut {
					m.uploads++
				}
				if d := q.Get("digest"); r.Method == http.MethodPut && d != "" {
					m.have[repo+"@"+d] = true
				}
			case !m.have[repo+"@"+rest]:
				http.Error(w, `{"errors":[{"code":"BLOB_UNKNOWN"}]}`, http.StatusNotFound)
				return
			}
			reg.ServeHTTP(w, r)
		}))
	})
	return m
}

// TestPushMountsFromOtherRepository: WithMountFrom picks the first source
// on the target's registry in another repository (skipping bad references,
// other registries and the target's own repository), mounts every blob
// (layers and config) from there instead of uploading it, and asks for a
// token that may pull from the source.
func TestPushMountsFromOtherRepository(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m := newMountRegistry(t)
	img := mustImage(t, testDir(t))
	if _, err := Push(ctx, img, m.host+"/src/p:1", anon); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	first := m.uploads
	m.uploads, m.scopes = 0, nil
	m.mu.Unlock()
	if first == 0 {
		t.Fatal("the first push uploaded nothing")
	}

	dg, err := Push(ctx, img, m.host+"/dst/p:1", anon,
		WithMountFrom("elsewhere.example/x/p:1", "Not A Ref", m.host+"/dst/p:0", m.host+"/src/p:1"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{cfg.String(): "src/p"}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		want[d.String()] = "src/p"
	}
	m.mu.Lock()
	mounts, uploads, scopes := m.mounts, m.uploads, m.scopes
	m.mu.Unlock()
	if diff := cmp.Diff(want, mounts); diff != "" {
		t.Errorf("mount requests (digest -> from), -want +got:\n%s", diff)
	}
	if uploads != 0 {
		t.Errorf("%d upload requests; want every blob mounted", uploads)
	}
	for _, s := range []string{"repository(plugin):dst/p:pull,push", "repository(plugin):src/p:pull"} {
		if !slices.Contains(scopes, s) {
			t.Errorf("token scopes %q lack %q", scopes, s)
		}
	}
	if p, err := Fetch(ctx, m.host+"/dst/p:1", anon); err != nil || p.Digest() != dg {
		t.Errorf("Fetch of the mounted push = %v, %v; want digest %s", p, err, dg)
	}
}

// TestMountImageLayerByDigest: a layer looked up by digest is mountable
// from the source too; an unknown digest is an error.
func TestMountImageLayerByDigest(t *testing.T) {
	img := mustImage(t, testDir(t))
	from, err := name.ParseReference("reg.example/src/p:1")
	if err != nil {
		t.Fatal(err)
	}
	mi := &mountImage{Image: img, from: from}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	d, err := ls[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	l, err := mi.LayerByDigest(d)
	ml, ok := l.(*remote.MountableLayer)
	if err != nil || !ok || ml.Reference != from {
		t.Errorf("LayerByDigest(%s) = %T %v, %v; want a layer mountable from %s", d, l, l, err, from)
	}
	if l, err := mi.LayerByDigest(v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}); err == nil {
		t.Errorf("LayerByDigest(unknown) = %v, nil; want an error", l)
	}
}

// TestRegistryTransportInsecure: --insecure skips TLS verification on a
// copy of a caller's transport (WithTransport), keeping the rest of its
// TLS settings and leaving the caller's own transport as it was.
func TestRegistryTransportInsecure(t *testing.T) {
	for _, tt := range []struct {
		name string
		tls  *tls.Config
	}{
		{"no TLS config", nil},
		{"TLS config", &tls.Config{ServerName: "keep.example"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mine := &http.Transport{TLSClientConfig: tt.tls}
			o := makeOptions(WithTransport(mine), WithInsecure(true))
			rl, ok := registryTransport(o).(redirectLimit)
			if !ok {
				t.Fatalf("registryTransport = %T; want redirectLimit", registryTransport(o))
			}
			used, ok := rl.inner.(*http.Transport)
			if !ok || used == mine {
				t.Fatalf("transport used = %T %p; want a copy of %p", rl.inner, rl.inner, mine)
			}
			if used.TLSClientConfig == nil || !used.TLSClientConfig.InsecureSkipVerify {
				t.Errorf("copy's TLS config = %+v; want InsecureSkipVerify", used.TLSClientConfig)
			}
			if tt.tls != nil && used.TLSClientConfig.ServerName != tt.tls.ServerName {
				t.Errorf("copy's ServerName = %q; want %q kept", used.TLSClientConfig.ServerName, tt.tls.ServerName)
			}
			// (Clone itself may give the original its HTTP/2 defaults.)
			if mine.TLSClientConfig != nil && mine.TLSClientConfig.InsecureSkipVerify {
				t.Errorf("the caller's transport was changed: TLS config %+v", mine.TLSClientConfig)
			}
		})
	}
}

// TestIdleConnTimeouts: a read or a write that moves nothing for the
// timeout fails with the idle timeout error naming the direction; a read
// that timed out keeps failing at once.
func TestIdleConnTimeouts(t *testing.T) {
	const timeout = 20 * time.Millisecond
	a, b := net.Pipe() // never answers; no send queue to look at
	defer a.Close()
	defer b.Close()
	c := &idleConn{Conn: a, timeout: timeout, addr: "reg.example:443", queued: -1}

	_, err := c.Write([]byte("GET /v2/ HTTP/1.1\r\n"))
	var te *idleTimeoutError
	if !errors.As(err, &te) || err.Error() != "no data to reg.example:443 for 20ms" {
		t.Errorf("Write to a peer that never reads = %v; want the idle timeout to reg.example:443", err)
	}
	for i := range 2 {
		n, err := c.Read(make([]byte, 10))
		if n != 0 || !errors.As(err, &te) || err.Error() != "no data from reg.example:443 for 20ms" {
			t.Errorf("Read %d from a silent peer = %d, %v; want the idle timeout from reg.example:443", i, n, err)
		}
	}
}

// TestIdleConnSending: a silent read is progress only when the send queue
// shrank since the last look (to zero too); unknown queues are no progress.
func TestIdleConnSending(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	tcp, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	if c := <-accepted; c != nil {
		defer c.Close()
	}
	if q := sendQueue(tcp); q != 0 {
		t.Fatalf("send queue of an idle connection = %d; want 0", q)
	}
	pipe, other := net.Pipe()
	defer pipe.Close()
	defer other.Close()
	for _, tt := range []struct {
		name   string
		conn   net.Conn
		queued int
		want   bool
	}{
		{"queue drained", tcp, 5, true},
		{"queue empty before", tcp, 0, false},
		{"queue unknown before", tcp, -1, false},
		{"queue unknown now", pipe, 5, false},
	} {
		c := &idleConn{Conn: tt.conn, queued: tt.queued}
		if got := c.sending(); got != tt.want {
			t.Errorf("%s: sending() = %v; want %v", tt.name, got, tt.want)
		}
		if want := sendQueue(tt.conn); c.queued != want {
			t.Errorf("%s: queued = %d after the look; want %d", tt.name, c.queued, want)
		}
	}
}

// TestRetryWaits: a failed request is retried after the backoff's first
// step (0.5 s, plus jitter), not at once: a registry that is overloaded
// gets a pause.
func TestRetryWaits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	var gets []time.Time
	host := newRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/") {
				mu.Lock()
				gets = append(gets, time.Now())
				first := len(gets) == 1
				mu.Unlock()
				if first {
					http.Error(w, "busy", http.StatusServiceUnavailable)
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	})
	if _, err := Push(ctx, mustImage(t, testDir(t)), host+"/retry/p:1", anon); err != nil {
		t.Fatal(err)
	}
	if _, err := Fetch(ctx, host+"/retry/p:1", anon); err != nil {
		t.Fatalf("Fetch with one 503: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(gets) < 2 {
		t.Fatalf("%d manifest requests; want a retry after the 503", len(gets))
	}
	if gap := gets[1].Sub(gets[0]); gap < 500*time.Millisecond {
		t.Errorf("retried after %v; want at least 0.5 s", gap)
	}
}

// TestDefaultTimeout: without DPLUG_TIMEOUT the timeout is the 30 s the
// CLI documents (docs/cli: "--timeout ... (default 30s)").
func TestDefaultTimeout(t *testing.T) {
	t.Setenv(TimeoutEnv, "")
	if d, err := TimeoutFromEnv(); d != 30*time.Second || err != nil {
		t.Errorf("TimeoutFromEnv() = %v, %v; want 30s, nil", d, err)
	}
}
