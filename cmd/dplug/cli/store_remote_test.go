package cli_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/plugin"
)

// Installing from a registry or a layout is a script (install.txtar).
// What stays here is fault injection: layers no dplug command would write,
// pushed straight through the registry API.

// pushRawPlugin publishes a plugin artifact whose only layer is the given
// uncompressed tar, straight through the registry API (no dplug code), so
// that the layer can be anything an attacker likes.
func pushRawPlugin(t *testing.T, host, repo string, layer []byte) string {
	t.Helper()
	put := func(method, u, ctype string, body []byte, want int) *http.Response {
		req, _ := http.NewRequest(method, u, bytes.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %s", method, u, resp.Status)
		}
		return resp
	}
	blob := func(b []byte) string {
		dg := fmt.Sprintf("sha256:%x", sha256.Sum256(b))
		resp := put(http.MethodPost, "http://"+host+"/v2/"+repo+"/blobs/uploads/", "", nil, http.StatusAccepted)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		loc = (&url.URL{Scheme: "http", Host: host}).ResolveReference(loc)
		q := loc.Query()
		q.Set("digest", dg)
		loc.RawQuery = q.Encode()
		put(http.MethodPut, loc.String(), "application/octet-stream", b, http.StatusCreated)
		return dg
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(layer)
	zw.Close()
	cfg := testplugin.Config()
	cfg.Rootfs = &plugin.Rootfs{Type: "layers", DiffIDs: []string{fmt.Sprintf("sha256:%x", sha256.Sum256(layer))}}
	cb, _ := cfg.Marshal()
	m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",`+
		`"config":{"mediaType":"application/vnd.docker.plugin.v1+json","size":%d,"digest":%q},`+
		`"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":%d,"digest":%q}]}`,
		len(cb), blob(cb), gz.Len(), blob(gz.Bytes()))
	put(http.MethodPut, "http://"+host+"/v2/"+repo+"/manifests/latest", "application/vnd.docker.distribution.manifest.v2+json", []byte(m), http.StatusCreated)
	return host + "/" + repo + ":latest"
}

// TestInstallMaliciousRefused: `dplug install` of hostile layers served by
// a real loopback docker-registry fails naming the entry, and leaves
// nothing in the store nor outside it.
func TestInstallMaliciousRefused(t *testing.T) {
	reg := testenv.StartRegistry(t)
	outside := t.TempDir()
	up := strings.Repeat("../", 30) + strings.TrimPrefix(outside, "/")
	tests := []struct {
		name    string
		hdrs    []*tar.Header
		wantErr string
	}{
		{"traversal", []*tar.Header{{Name: up + "/evil", Typeflag: tar.TypeReg}}, `path contains ".."`},
		{"symlink escape", []*tar.Header{{Name: "esc", Typeflag: tar.TypeSymlink, Linkname: up}, {Name: "esc/evil", Typeflag: tar.TypeReg}}, `symlink target "` + up + `" escapes the destination`},
		{"hardlink escape", []*tar.Header{{Name: "pw", Typeflag: tar.TypeLink, Linkname: up + "/x"}}, "hard link target"},
		{"device node", []*tar.Header{{Name: "dev/mem", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 1}}, `archive entry "dev/mem": device node not allowed`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, h := range tt.hdrs {
				h.Mode = 0o644
				if err := tw.WriteHeader(h); err != nil {
					t.Fatal(err)
				}
			}
			tw.Close()
			ref := pushRawPlugin(t, reg.Host, fmt.Sprintf("evil/c%d", i), buf.Bytes())
			root := t.TempDir()
			r := runStore(t, root, "install", ref, "--grant-all-permissions")
			if r.code != 1 || !strings.Contains(r.stderr, tt.wantErr) {
				t.Fatalf("install: exit %d, stderr %q; want exit 1 with %q", r.code, r.stderr, tt.wantErr)
			}
			checkStore(t, root, 0)
			if n := len(storeLs(t, root)); n != 0 {
				t.Errorf("%d plugins installed", n)
			}
			if ents, _ := os.ReadDir(outside); len(ents) != 0 {
				t.Errorf("written outside the store: %v", ents)
			}
		})
	}
}
