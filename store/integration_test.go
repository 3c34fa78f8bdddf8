package store_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/dplug/dplug/archive"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/plugin"
	"github.com/dplug/dplug/store"
)

var anon = pack.WithKeychain(authn.NewMultiKeychain())

func digestOf(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

// upload puts a blob with the registry API's monolithic upload.
func upload(t *testing.T, host, repo string, blob []byte) string {
	t.Helper()
	dg := digestOf(blob)
	resp, err := http.Post("http://"+host+"/v2/"+repo+"/blobs/uploads/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("starting upload: %s", resp.Status)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	loc = (&url.URL{Scheme: "http", Host: host}).ResolveReference(loc)
	q := loc.Query()
	q.Set("digest", dg)
	loc.RawQuery = q.Encode()
	req, _ := http.NewRequest(http.MethodPut, loc.String(), bytes.NewReader(blob))
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("uploading blob: %s", resp.Status)
	}
	return dg
}

// pushLayer publishes a plugin artifact (docker schema-2 manifest, plugin
// config blob, one gzip layer) whose single layer is the given tar.
func pushLayer(t *testing.T, host, repo string, layer []byte) string {
	t.Helper()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(layer)
	zw.Close()
	cfg := testplugin.Config()
	cfg.Rootfs = &plugin.Rootfs{Type: "layers", DiffIDs: []string{digestOf(layer)}}
	cb, err := cfg.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	type desc struct {
		MediaType string `json:"mediaType"`
		Size      int    `json:"size"`
		Digest    string `json:"digest"`
	}
	m, _ := json.Marshal(struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		Config        desc   `json:"config"`
		Layers        []desc `json:"layers"`
	}{2, "application/vnd.docker.distribution.manifest.v2+json",
		desc{"application/vnd.docker.plugin.v1+json", len(cb), upload(t, host, repo, cb)},
		[]desc{{"application/vnd.docker.image.rootfs.diff.tar.gzip", gz.Len(), upload(t, host, repo, gz.Bytes())}}})
	req, _ := http.NewRequest(http.MethodPut, "http://"+host+"/v2/"+repo+"/manifests/latest", bytes.NewReader(m))
	req.Header.Set("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("putting manifest: %s", resp.Status)
	}
	return host + "/" + repo + ":latest"
}

type entry struct {
	name, link string
	typ        byte
}

func layerOf(t *testing.T, ents ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: 0o644}
		if e.typ == tar.TypeChar {
			h.Devmajor, h.Devminor = 1, 11
		}
		body := ""
		if e.typ == tar.TypeReg {
			body = "evil"
			h.Size = int64(len(body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	return buf.Bytes()
}

// TestInstallMaliciousFromRegistry serves hostile layers from a real
// loopback docker-registry and installs them with pack.Fetch + Install:
// every one must be refused, leaving the store empty and nothing outside
// it.
func TestInstallMaliciousFromRegistry(t *testing.T) {
	reg := testenv.StartRegistry(t)
	sentinel := filepath.Join(t.TempDir(), "outside")
	if err := os.Mkdir(sentinel, 0o755); err != nil {
		t.Fatal(err)
	}
	// A relative path from inside ROOT/plugins/tmp/work-*/rootfs up to /,
	// then down to the sentinel dir.
	up := strings.Repeat("../", 30) + strings.TrimPrefix(sentinel, "/")
	// The store's entry limit is lowered so that the flood stays quick; the
	// default limit itself is tested in package archive.
	const maxEntries = 2000
	many := make([]entry, 0, 3*maxEntries)
	for i := 0; i < 3*maxEntries; i++ {
		many = append(many, entry{name: fmt.Sprintf("d%02d/f%05d", i%100, i), typ: tar.TypeReg})
	}
	tests := []struct {
		name    string
		ents    []entry
		wantErr string
	}{
		{"traversal", []entry{{name: up + "/evil", typ: tar.TypeReg}}, `path contains ".."`},
		{"absolute", []entry{{name: sentinel + "/evil", typ: tar.TypeReg}}, "absolute path"},
		{"symlink escape", []entry{{name: "esc", link: up, typ: tar.TypeSymlink}, {name: "esc/evil", typ: tar.TypeReg}}, "escapes the destination"},
		{"symlink escape nested", []entry{{name: "a/b/esc", link: "../../../x", typ: tar.TypeSymlink}}, "escapes the destination"},
		{"hardlink escape", []entry{{name: "pw", link: up + "/target", typ: tar.TypeLink}}, "hard link target"},
		{"hardlink absolute", []entry{{name: "pw", link: "/etc/passwd", typ: tar.TypeLink}}, "hard link to absolute path"},
		{"device node", []entry{{name: "dev/kmsg", typ: tar.TypeChar}}, `archive entry "dev/kmsg": device node not allowed`},
		{"fifo", []entry{{name: "fifo", typ: tar.TypeFifo}}, "FIFO not allowed"},
		{"huge file count", many, fmt.Sprintf("more than %d entries", maxEntries)},
	}
	os.WriteFile(filepath.Join(sentinel, "target"), []byte("secret"), 0o600)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := pushLayer(t, reg.Host, fmt.Sprintf("evil/case%d", i), layerOf(t, tt.ents...))
			root := t.TempDir()
			s, err := store.Open(root, store.WithExtractOptions(archive.WithMaxEntries(maxEntries)))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			src, err := pack.Fetch(ctx, ref, anon)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Install(ctx, src, store.InstallOptions{Name: ref, Grant: store.GrantAll})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Install error = %v, want %q", err, tt.wantErr)
			}
			if list, _ := s.List(); len(list) != 0 {
				t.Errorf("refused plugin listed: %v", list)
			}
			ents, _ := os.ReadDir(filepath.Join(root, "plugins", "tmp"))
			if len(ents) != 0 {
				t.Errorf("tmp/ not empty: %v", ents)
			}
			outside, _ := os.ReadDir(sentinel)
			if len(outside) != 1 {
				t.Errorf("files appeared outside the store: %v", outside)
			}
			if _, err := os.Lstat("/evil"); err == nil {
				t.Errorf("/evil created")
			}
		})
	}
	// The same registry path serves a good plugin fine.
	t.Run("good", func(t *testing.T) {
		ref := pushLayer(t, reg.Host, "good/plugin", layerOf(t, entry{name: "bin/x", typ: tar.TypeReg}, entry{name: "bin/y", link: "/bin/x", typ: tar.TypeSymlink}))
		s, _ := store.Open(t.TempDir())
		src, err := pack.Fetch(context.Background(), ref, anon)
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.Install(context.Background(), src, store.InstallOptions{Name: ref, Reference: src.Ref(), Grant: store.GrantAll})
		if err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(p.Rootfs(), "bin/x")); err != nil || string(b) != "evil" {
			t.Errorf("bin/x = %q, %v", b, err)
		}
		if p.Name != reg.Host+"/good/plugin" || p.PluginReference == "" {
			t.Errorf("installed as %s from %q", p.FullName(), p.PluginReference)
		}
	})
}

// TestExportDockerPluginCreate: an installed plugin exported with Export is
// accepted by a real `docker plugin create`, enables and serves volumes, on
// every engine.
func TestExportDockerPluginCreate(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		d := testenv.StartDockerdEngine(t, e)
		ctx := context.Background()
		s, err := store.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Install(ctx, store.DirSource(testplugin.Dir(t, nil)), store.InstallOptions{Name: "volplug", Grant: store.GrantAll}); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "export")
		if err := s.Export(ctx, "volplug", dir); err != nil {
			t.Fatal(err)
		}
		name := "dplugexport/volplug:latest"
		d.MustDocker(t, "plugin", "create", name, dir)
		d.MustDocker(t, "plugin", "enable", name)
		d.MustDocker(t, "volume", "create", "-d", name, "exported-vol")
		if out := d.MustDocker(t, "volume", "ls", "--format", "{{.Driver}} {{.Name}}"); !strings.Contains(out, name+" exported-vol") {
			t.Errorf("docker volume ls = %q", out)
		}
		d.MustDocker(t, "volume", "rm", "exported-vol")
		d.MustDocker(t, "plugin", "disable", name)
	})
}
