//go:build linux

package pack

import (
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// slowReader hands out at most 64 KiB every 50 ms.
type slowReader struct{ r io.Reader }

func (s slowReader) Read(p []byte) (int, error) {
	time.Sleep(50 * time.Millisecond) // pacing a transfer, not waiting for an event
	if len(p) > 64<<10 {
		p = p[:64<<10]
	}
	return s.r.Read(p)
}

// TestSlowTransfersFinish: the timeout bounds silence, not transfers: an
// upload and a download that each take several timeouts, but never stop
// moving, succeed.
func TestSlowTransfersFinish(t *testing.T) {
	dir := testDir(t)
	big := make([]byte, 6<<20)
	for i := range big {
		big[i] = byte(i*7919 + i>>8*31)
	}
	h, _, _ := v1.SHA256(bytes.NewReader(big)) // incompressible enough: hash-chained bytes
	for i := 0; i < len(big); i += 32 {
		copy(big[i:], h.Hex)
		h, _, _ = v1.SHA256(bytes.NewReader(big[i : i+32]))
	}
	writeFiles(t, filepath.Join(dir, "rootfs"), map[string]string{"big": string(big)})
	slow := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/blobs/uploads/") && r.Body != nil {
				// Read slowly before the registry sees it: the in-memory
				// registry holds a lock while it reads a body.
				var body bytes.Buffer
				if _, err := io.CopyBuffer(&body, slowReader{r.Body}, make([]byte, 64<<10)); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				r.Body = io.NopCloser(&body)
			}
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				io.CopyBuffer(flushWriter{w}, slowReader{rec.Body}, make([]byte, 64<<10))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	// A small receive buffer on the registry's side, so that what the
	// client has sent but the registry not read stays in the client's
	// send queue, as on a slow link.
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 128<<10)
		})
	}}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(slow(registry.New(registry.Logger(log.New(io.Discard, "", 0)))))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()
	const timeout = time.Second
	opts := []Option{anon, WithTimeout(timeout)}
	start := time.Now()
	if _, err := Push(ctx, mustImage(t, dir), host+"/slow/p:1", opts...); err != nil {
		t.Fatalf("slow upload: %v", err)
	}
	if el := time.Since(start); el < 2*timeout {
		t.Fatalf("the upload took %s, not several timeouts: the test proves nothing", el)
	}
	start = time.Now()
	if err := Pull(ctx, host+"/slow/p:1", filepath.Join(t.TempDir(), "out"), opts...); err != nil {
		t.Fatalf("slow download: %v", err)
	}
	if el := time.Since(start); el < 2*timeout {
		t.Fatalf("the download took %s, not several timeouts: the test proves nothing", el)
	}
}

type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	http.NewResponseController(f.w).Flush()
	return n, err
}
