package cli_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
)

// TestInteropCLI runs the three ways a plugin crosses between dplug and
// dockerd through dplug's own commands, on every engine (engine=NAME
// subtests): dplug push → docker plugin install, enable and a volume;
// docker plugin create + push → dplug pull, install, run and a volume
// request on its socket; dplug install + export → docker plugin create,
// enable and a volume.
func TestInteropCLI(t *testing.T) {
	testenv.RequireRoot(t)
	reg := testenv.StartRegistry(t)
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		d := testenv.StartDockerdEngine(t, e)
		t.Logf("dockerd %s", d.Version)
		ctx := context.Background()
		root := shortRoot(t)
		// dockerd 26 refuses a second plugin whose rootfs is byte-identical
		// to one it has: each direction gets its own rootfs.
		variant := func(t *testing.T, name string) string {
			dir := testplugin.Dir(t, nil)
			if err := os.WriteFile(filepath.Join(dir, "rootfs", "variant"), []byte(name+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return dir
		}
		dplug := func(t *testing.T, args ...string) string {
			t.Helper()
			code, out, errOut := rundplug(t, ctx, root, args...)
			if code != 0 {
				t.Fatalf("dplug %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
			}
			return out
		}
		useVolume := func(t *testing.T, name, vol string) {
			t.Helper()
			d.MustDocker(t, "volume", "create", "-d", name, vol)
			if out := d.MustDocker(t, "volume", "ls", "--format", "{{.Driver}} {{.Name}}"); !strings.Contains(out, name+" "+vol) {
				t.Errorf("docker volume ls = %q; want %s from %s", out, vol, name)
			}
			d.MustDocker(t, "volume", "rm", vol)
		}

		t.Run("dplug push to docker plugin install", func(t *testing.T) {
			ref := reg.Host + "/cli/pushed-" + e.Name + ":1.0"
			dplug(t, "push", variant(t, "pushed"), ref)
			alias := "dplugcli/pushed:latest"
			d.MustDocker(t, "plugin", "install", "--grant-all-permissions", "--alias", alias, ref)
			useVolume(t, alias, "pushed-vol")
			d.MustDocker(t, "plugin", "disable", alias)
		})

		t.Run("docker plugin push to dplug pull install run", func(t *testing.T) {
			ref := reg.Host + "/cli/docker-" + e.Name + ":1.0"
			src := variant(t, "docker")
			d.MustDocker(t, "plugin", "create", ref, src)
			d.MustDocker(t, "plugin", "push", ref)

			pulled := filepath.Join(t.TempDir(), "pulled")
			dplug(t, "pull", ref, pulled)
			for _, f := range []string{"volplug", "variant"} {
				want, _ := os.ReadFile(filepath.Join(src, "rootfs", f))
				if got, err := os.ReadFile(filepath.Join(pulled, "rootfs", f)); err != nil || string(got) != string(want) {
					t.Errorf("pulled rootfs/%s differs from the created plugin's (%v)", f, err)
				}
			}
			dplug(t, "install", ref, "--grant-all-permissions")
			sock := strings.TrimSpace(dplug(t, "run", "--detach", ref))
			defer dplug(t, "stop", ref)
			volumeRequest(t, sock, "VolumeDriver.Create", `{"Name":"from-docker"}`)
			if out := volumeRequest(t, sock, "VolumeDriver.List", `{}`); !strings.Contains(out, "from-docker") {
				t.Errorf("VolumeDriver.List = %s; want the volume just created", out)
			}
		})

		t.Run("dplug export to docker plugin create", func(t *testing.T) {
			dplug(t, "install", variant(t, "exported"), "--alias", "exported", "--grant-all-permissions")
			out := filepath.Join(t.TempDir(), "export")
			dplug(t, "export", "exported", out)
			name := "dplugcli/exported:latest"
			d.MustDocker(t, "plugin", "create", name, out)
			d.MustDocker(t, "plugin", "enable", name)
			useVolume(t, name, "exported-vol")
			d.MustDocker(t, "plugin", "disable", name)
		})
	})
}

// volumeRequest posts a volume protocol request to the plugin socket sock
// and returns the answer, failing t on an error or an "Err" in it.
func volumeRequest(t *testing.T, sock, method, body string) string {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}}
	resp, err := client.Post("http://plugin/"+method, "application/vnd.docker.plugins.v1.2+json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s on %s: %v", method, sock, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || strings.Contains(b.String(), `"Err":"`) && !strings.Contains(b.String(), `"Err":""`) {
		t.Fatalf("%s: %s %s", method, resp.Status, b.String())
	}
	return b.String()
}
