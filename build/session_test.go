package build_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/internal/testenv"
)

// TestBuildSSHAndCacheExport forwards an SSH key into a RUN (--ssh) and
// exports the build cache to a local directory (--cache-to), then imports
// it (--cache-from) with --no-cache off.
func TestBuildSSHAndCacheExport(t *testing.T) {
	e := setup(t)
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	ctxDir := project(t, map[string]string{"Dockerfile": "FROM base\n" +
		"RUN --mount=type=ssh,id=deploy,required=true test -S \"$SSH_AUTH_SOCK\" && echo agent > /ssh-ok\n"})
	cache := filepath.Join(t.TempDir(), "cache")
	out := filepath.Join(t.TempDir(), "plugin")
	_, err = build.Run(context.Background(), ctxDir, &dest.Dir{Path: out}, e.opts(t,
		build.WithSSH("deploy="+keyFile),
		build.WithCacheTo("type=local,dest="+cache),
	)...)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(out, "rootfs/ssh-ok")); got != "agent\n" {
		t.Errorf("ssh-ok = %q", got)
	}
	if _, err := os.Stat(filepath.Join(cache, "index.json")); err != nil {
		t.Errorf("--cache-to wrote no cache: %v", err)
	}
	_, err = build.Run(context.Background(), ctxDir, &dest.Dir{Path: out}, e.opts(t,
		build.WithSSH("deploy="+keyFile),
		build.WithCacheFrom("type=local,src="+cache),
	)...)
	if err != nil {
		t.Fatalf("build with --cache-from: %v", err)
	}
}

// TestBuildRemoteTLS builds against buildkitd's tcp:// listener with mutual
// TLS, as a remote builder is used; without a client certificate it fails.
func TestBuildRemoteTLS(t *testing.T) {
	e := setup(t)
	bk := testenv.SharedBuildkitd(t)
	ctxDir := project(t, map[string]string{"Dockerfile": "FROM base\nRUN echo tls > /tls\n"})
	out := filepath.Join(t.TempDir(), "plugin")
	opts := append(e.opts(t), build.WithAddr(bk.TCPAddr), build.WithTLS(bk.TLS.CA, bk.TLS.ClientCert, bk.TLS.ClientKey))
	res, err := build.Run(context.Background(), ctxDir, &dest.Dir{Path: out}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if res.Addr != bk.TCPAddr {
		t.Errorf("built at %s, want %s", res.Addr, bk.TCPAddr)
	}
	if got := readFile(t, filepath.Join(out, "rootfs/tls")); got != "tls\n" {
		t.Errorf("tls = %q", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts = append(e.opts(t), build.WithAddr(bk.TCPAddr), build.WithTLS(bk.TLS.CA, "", ""))
	if _, err := build.Run(ctx, ctxDir, &dest.Dir{Path: filepath.Join(t.TempDir(), "p")}, opts...); err == nil {
		t.Error("build without a client certificate succeeded")
	}
}

// TestBuildLocalContext uses a directory as a named build context.
func TestBuildLocalContext(t *testing.T) {
	e := setup(t)
	extra := t.TempDir()
	if err := os.WriteFile(filepath.Join(extra, "extra.txt"), []byte("from a named context\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctxDir := project(t, map[string]string{"Dockerfile": "FROM base\nCOPY --from=extra extra.txt /extra.txt\n"})
	out := filepath.Join(t.TempDir(), "plugin")
	if _, err := build.Run(context.Background(), ctxDir, &dest.Dir{Path: out},
		e.opts(t, build.WithBuildContexts(map[string]string{"extra": extra}))...); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(out, "rootfs/extra.txt")); got != "from a named context\n" {
		t.Errorf("extra.txt = %q", got)
	}
}
