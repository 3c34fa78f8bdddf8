package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	mplugin "github.com/moby/moby/api/types/plugin"

	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/plugin"
)

type layers [][]tar.Header

func (l layers) ConfigJSON(context.Context) ([]byte, error) { return []byte(`{}`), nil }
func (l layers) Layers(_ context.Context, fn func(io.Reader) error) error {
	for _, hs := range l {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, h := range hs {
			h := h
			body := ""
			if h.Typeflag == tar.TypeReg {
				body = "x"
				h.Size = 1
			}
			if err := tw.WriteHeader(&h); err != nil {
				return err
			}
			io.WriteString(tw, body)
		}
		tw.Close()
		if err := fn(&buf); err != nil {
			return err
		}
	}
	return nil
}

func TestWriteContext(t *testing.T) {
	for _, tc := range []struct {
		name    string
		src     layers
		want    []string
		wantErr string
	}{
		{
			name: "one layer",
			src: layers{{
				{Name: "./", Typeflag: tar.TypeDir},
				{Name: "./bin/", Typeflag: tar.TypeDir},
				{Name: "./bin/a", Typeflag: tar.TypeReg},
				{Name: "bin/b", Typeflag: tar.TypeLink, Linkname: "./bin/a"},
				{Name: "../../etc/x", Typeflag: tar.TypeReg},
			}},
			want: []string{"config.json", "rootfs/", "rootfs/bin/", "rootfs/bin/a", "rootfs/bin/b>rootfs/bin/a", "rootfs/etc/x"},
		},
		{
			name:    "whiteout in a second layer",
			src:     layers{{{Name: "a", Typeflag: tar.TypeReg}}, {{Name: ".wh.a", Typeflag: tar.TypeReg}}},
			wantErr: "whiteout",
		},
		{name: "no layer", src: layers{}, wantErr: "no rootfs layer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := writeContext(context.Background(), &buf, tc.src, []byte(`{}`))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			tr := tar.NewReader(&buf)
			for {
				h, err := tr.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				n := h.Name
				if h.Linkname != "" {
					n += ">" + h.Linkname
				}
				got = append(got, n)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestCarryOver(t *testing.T) {
	old := mplugin.Plugin{
		Config: mplugin.Config{
			Env:    []mplugin.Env{{Name: "DEBUG", Value: ptr("0")}, {Name: "GONE", Value: ptr("a")}, {Name: "SAME", Value: ptr("s")}},
			Mounts: []mplugin.Mount{{Name: "state", Source: ptr("/var/lib/x")}},
			Args:   mplugin.Args{Name: "args", Value: []string{"-v"}},
		},
		Settings: mplugin.Settings{
			Env:    []string{"DEBUG=1", "GONE=b", "SAME=s"},
			Mounts: []mplugin.Mount{{Name: "state", Source: ptr("/srv")}},
			Args:   []string{"-v", "-x"},
		},
	}
	next := &plugin.Config{
		Env:    []plugin.Env{{Name: "DEBUG", Settable: []string{"value"}, Value: ptr("0")}, {Name: "GONE", Value: ptr("a")}},
		Mounts: []plugin.Mount{{Name: "state", Settable: []string{"source"}, Source: ptr("/var/lib/x")}},
		Args:   plugin.Args{Name: "args", Settable: []string{"value"}},
	}
	kept, dropped := carryOver(old, next)
	if diff := cmp.Diff([]string{"DEBUG=1", "state.source=/srv", "args=-v -x"}, kept); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"GONE=b"}, dropped); diff != "" {
		t.Errorf("dropped (-want +got):\n%s", diff)
	}
	if err := checkSettings(next, kept); err != nil {
		t.Errorf("checkSettings(kept) = %v", err)
	}
	for arg, want := range map[string]string{"GONE=c": "not settable", "NOPE=1": "not found", "DEBUG": "invalid format", "state.path=/x": "not settable"} {
		if err := checkSettings(next, []string{arg}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("checkSettings(%s) = %v, want %q", arg, err, want)
		}
	}
}

func TestResolve(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("DOCKER_CONFIG", cfg)
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("DOCKER_CONTEXT", "")
	os.Unsetenv("DOCKER_HOST")
	os.Unsetenv("DOCKER_CONTEXT")
	sum := sha256.Sum256([]byte("remote"))
	meta := filepath.Join(cfg, "contexts", "meta", hex.EncodeToString(sum[:]))
	if err := os.MkdirAll(meta, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(meta, "meta.json"), []byte(`{"Name":"remote","Endpoints":{"docker":{"Host":"ssh://me@box","SkipTLSVerify":false}}}`), 0o644)

	check := func(what, wantHost, wantFrom string) {
		t.Helper()
		ep, err := Resolve("")
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ep.Host != wantHost || ep.From != wantFrom {
			t.Errorf("%s: Resolve = %s (%s), want %s (%s)", what, ep.Host, ep.From, wantHost, wantFrom)
		}
	}
	check("nothing set", DefaultHost, "default")
	os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"currentContext":"remote"}`), 0o644)
	check("config.json", "ssh://me@box", "context remote")
	t.Setenv("DOCKER_CONTEXT", "default")
	check("DOCKER_CONTEXT=default", DefaultHost, "default")
	t.Setenv("DOCKER_HOST", "tcp://1.2.3.4:2375")
	check("DOCKER_HOST", "tcp://1.2.3.4:2375", "DOCKER_HOST")
	if ep, _ := Resolve("unix:///x.sock"); ep.From != "--host" {
		t.Errorf("explicit host: From = %s", ep.From)
	}
	os.Unsetenv("DOCKER_HOST")
	t.Setenv("DOCKER_CONTEXT", "missing")
	if _, err := Resolve(""); err == nil || !strings.Contains(err.Error(), `"missing" not found`) {
		t.Errorf("missing context: %v", err)
	}
}

// TestConnectSkipTLSVerify: a docker context whose endpoint says
// SkipTLSVerify reaches an engine whose certificate its CA did not sign,
// as the docker CLI does; without it, the certificate is refused.
func TestConnectSkipTLSVerify(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.41")
		_, _ = io.WriteString(w, "OK")
	}))
	defer srv.Close()
	host := "tcp://" + srv.Listener.Addr().String()
	cfg := t.TempDir()
	t.Setenv("DOCKER_CONFIG", cfg)
	t.Setenv("DOCKER_HOST", "")
	os.Unsetenv("DOCKER_HOST")
	other, err := testenv.WriteTLSFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(other.CA)
	if err != nil {
		t.Fatal(err)
	}
	for name, skip := range map[string]bool{"skip": true, "verify": false} {
		sum := sha256.Sum256([]byte(name))
		meta := filepath.Join(cfg, "contexts", "meta", hex.EncodeToString(sum[:]))
		tlsDir := filepath.Join(cfg, "contexts", "tls", hex.EncodeToString(sum[:]), "docker")
		for _, d := range []string{meta, tlsDir} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(tlsDir, "ca.pem"), ca, 0o644); err != nil {
			t.Fatal(err)
		}
		doc := fmt.Sprintf(`{"Name":%q,"Endpoints":{"docker":{"Host":%q,"SkipTLSVerify":%t}}}`, name, host, skip)
		if err := os.WriteFile(filepath.Join(meta, "meta.json"), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t.Setenv("DOCKER_CONTEXT", "skip")
	e, err := Connect(ctx)
	if err != nil {
		t.Fatalf("context with SkipTLSVerify: %v", err)
	}
	if !e.Endpoint.SkipTLSVerify {
		t.Errorf("endpoint %+v does not record SkipTLSVerify", e.Endpoint)
	}
	e.Close()
	t.Setenv("DOCKER_CONTEXT", "verify")
	if e, err := Connect(ctx); err == nil {
		e.Close()
		t.Fatal("context without SkipTLSVerify accepted an unsigned certificate")
	} else if !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Errorf("context without SkipTLSVerify: %v, want a certificate error", err)
	}
}

func TestLoadedWriteNotes(t *testing.T) {
	for _, tt := range []struct {
		loaded Loaded
		want   string
	}{
		{Loaded{Name: "me/vol:1"}, ""},
		{Loaded{Replaced: true, Carried: []string{"DEBUG=1", "args=-v -x"}},
			"kept the replaced plugin's settings: DEBUG=1 args=-v -x\n"},
		{Loaded{Replaced: true, Carried: []string{"DEBUG=1"}, Dropped: []string{"GONE=b"}},
			"kept the replaced plugin's settings: DEBUG=1\nwarning: dropped settings the new config no longer lets be set: GONE=b\n"},
	} {
		var b bytes.Buffer
		tt.loaded.WriteNotes(&b)
		if diff := cmp.Diff(tt.want, b.String()); diff != "" {
			t.Errorf("WriteNotes(%+v) (-want +got):\n%s", tt.loaded, diff)
		}
	}
}
