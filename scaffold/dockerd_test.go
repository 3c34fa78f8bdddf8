package scaffold

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dplug/dplug/internal/testenv"
)

// TestExamplesInDockerd builds each example with buildkitd, then has a real
// dockerd create and enable it from the plugin directory and use it: volumes
// created, found on the host under the propagated mount, removed; networks
// given pools by the IPAM plugin; authorization answers following the
// settings changed with docker plugin set. Needs root, runc, buildkitd,
// dockerd and the Go module proxy.
// It runs on every engine (engine=NAME subtests), from the same builds.
func TestExamplesInDockerd(t *testing.T) {
	testenv.Short(t)
	testenv.RequireRoot(t)
	bk := testenv.SharedBuildkitd(t)
	goimg := testenv.GoImage(t)
	dirs := map[string]string{}
	for _, typ := range []string{"volume", "ipam", "authz"} {
		dirs[typ] = buildPlugin(t, bk.Addr, goimg, filepath.Join("..", "examples", typ), "")
	}
	dir := func(typ string) string { return dirs[typ] }
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) { examplesInDockerd(t, e, dir) })
}

func examplesInDockerd(t *testing.T, e testenv.Engine, dir func(typ string) string) {
	d := testenv.StartDockerdEngine(t, e)
	busybox := d.LoadBusybox(t)

	t.Run("volume", func(t *testing.T) {
		d.MustDocker(t, "plugin", "create", "example-volume", dir("volume"))
		d.MustDocker(t, "plugin", "enable", "example-volume")
		d.MustDocker(t, "volume", "create", "-d", "example-volume", "v1")
		if out := d.MustDocker(t, "volume", "ls", "--format", "{{.Driver}} {{.Name}}"); !strings.Contains(out, "example-volume:latest v1") {
			t.Errorf("docker volume ls = %q, want v1 from example-volume", out)
		}
		// Inside the plugin the volume is /data/volumes/v1; on the host it
		// is under the plugin's propagated-mount directory.
		if mp := strings.TrimSpace(d.MustDocker(t, "volume", "inspect", "--format", "{{.Mountpoint}}", "v1")); mp != "/data/volumes/v1" {
			t.Errorf("volume inspect Mountpoint = %q, want /data/volumes/v1", mp)
		}
		id := strings.TrimSpace(d.MustDocker(t, "plugin", "inspect", "--format", "{{.Id}}", "example-volume"))
		host := filepath.Join(d.DataRoot, "plugins", id, "propagated-mount", "volumes", "v1")

		// A container writes into the volume; the file appears on the host.
		d.MustDocker(t, "run", "--rm", "--network", "none", "-v", "v1:/mnt", busybox,
			"sh", "-c", "echo written-by-a-container > /mnt/hello")
		if b, err := os.ReadFile(filepath.Join(host, "hello")); err != nil || string(b) != "written-by-a-container\n" {
			t.Errorf("file written in the volume, seen on the host at %s: %q, %v", host, b, err)
		}

		d.MustDocker(t, "volume", "rm", "v1")
		if _, err := os.Stat(host); !os.IsNotExist(err) {
			t.Errorf("volume directory still there after docker volume rm: %v", err)
		}
		if _, err := d.Docker(context.Background(), "volume", "rm", "v1"); err == nil {
			t.Errorf("removing a removed volume succeeded")
		}
	})

	t.Run("ipam", func(t *testing.T) {
		d.MustDocker(t, "plugin", "create", "example-ipam", dir("ipam"))
		// Engines run in parallel on one host and their bridges' routes
		// are the host's: a subnet one engine uses overlaps for the other,
		// which then asks the plugin for the next pool. Each engine gets a
		// range of its own.
		base := map[string]string{testenv.Engine2010.Name: "10.200", testenv.Engine26.Name: "10.201"}[e.Name]
		d.MustDocker(t, "plugin", "set", "example-ipam", "POOL_RANGE="+base+".0.0/16")
		d.MustDocker(t, "plugin", "enable", "example-ipam")
		for i, want := range []string{base + ".0.0/24", base + ".1.0/24"} {
			name := []string{"n1", "n2"}[i]
			// Network and IPAM drivers are named with their tag.
			d.MustDocker(t, "network", "create", "--ipam-driver", "example-ipam:latest", name)
			if out := d.MustDocker(t, "network", "inspect", "--format", "{{json .IPAM.Config}}", name); !strings.Contains(out, want) {
				t.Errorf("network %s IPAM config %s, want subnet %s", name, out, want)
			}
		}
		d.MustDocker(t, "network", "rm", "n1", "n2")
	})

	t.Run("authz", func(t *testing.T) {
		d.MustDocker(t, "plugin", "create", "example-authz", dir("authz"))
		d.MustDocker(t, "plugin", "set", "example-authz", "DENY_METHODS=^GET$", "DENY_PATHS=/volumes$")
		d.MustDocker(t, "plugin", "enable", "example-authz")
		id := strings.TrimSpace(d.MustDocker(t, "plugin", "inspect", "--format", "{{.Id}}", "example-authz"))
		sock := filepath.Join("/run/docker/plugins", id, "example-authz.sock")
		tests := []struct {
			method, uri string
			allow       bool
		}{
			{"GET", "/v1.41/volumes", false},
			{"GET", "/v1.41/volumes?filters=x", false},
			{"POST", "/v1.41/volumes/create", true},
			{"GET", "/v1.41/containers/json", true},
		}
		for _, tt := range tests {
			res := authzReq(t, sock, tt.method, tt.uri)
			if res.Allow != tt.allow {
				t.Errorf("%s %s: Allow = %v, want %v (%s)", tt.method, tt.uri, res.Allow, tt.allow, res.Msg)
			}
			if !tt.allow && !strings.Contains(res.Msg, "denied by policy") {
				t.Errorf("%s %s: deny message %q", tt.method, tt.uri, res.Msg)
			}
		}

		// And as dockerd's authorization plugin: authorization-plugins is
		// reloadable, so point the daemon at it with SIGHUP, then undo it.
		reloadAuthz(t, d, `{"authorization-plugins": ["example-authz"]}`)
		_, err := d.Docker(context.Background(), "volume", "ls")
		if err == nil || !strings.Contains(err.Error(), "authorization denied by plugin example-authz") ||
			!strings.Contains(err.Error(), "GET /v1.41/volumes is denied by policy") {
			t.Errorf("docker volume ls under the plugin's policy: %v, want a denial naming the request", err)
		}
		d.MustDocker(t, "network", "ls") // not covered by the policy
		reloadAuthz(t, d, `{}`)
		d.MustDocker(t, "volume", "ls")
	})
}

// TestScaffoldsInDockerd builds the log and network scaffolds (the types
// without an example) and uses them in a real dockerd: a container's output
// goes through the log driver's FIFO reader and protobuf decoder, and a
// network is created with the network driver, joined by a container and
// removed.
// It runs on every engine (engine=NAME subtests), from the same builds.
func TestScaffoldsInDockerd(t *testing.T) {
	testenv.Short(t)
	testenv.RequireRoot(t)
	bk := testenv.SharedBuildkitd(t)
	goimg := testenv.GoImage(t)
	dirs := map[string]string{}
	for _, typ := range []string{"log", "network"} {
		dir := filepath.Join(t.TempDir(), "my-"+typ)
		if _, err := Write(dir, typ, WithName("my-"+typ)); err != nil {
			t.Fatal(err)
		}
		dirs[typ] = buildPlugin(t, bk.Addr, goimg, dir, "")
	}
	scaffold := func(typ string) string { return dirs[typ] }
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) { scaffoldsInDockerd(t, e, scaffold) })
}

func scaffoldsInDockerd(t *testing.T, e testenv.Engine, scaffold func(typ string) string) {
	d := testenv.StartDockerdEngine(t, e)
	busybox := d.LoadBusybox(t)

	t.Run("log", func(t *testing.T) {
		d.MustDocker(t, "plugin", "create", "my-log", scaffold("log"))
		d.MustDocker(t, "plugin", "enable", "my-log")
		d.MustDocker(t, "run", "--rm", "--network", "none", "--log-driver", "my-log", "--name", "talker",
			busybox, "sh", "-c", "echo line-one; echo line-two >&2")
		// The plugin's stdout lands in dockerd's log.
		for deadline := time.Now().Add(10 * time.Second); ; {
			log := d.Log()
			if strings.Contains(log, "/talker stdout: line-one") && strings.Contains(log, "/talker stderr: line-two") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the container's lines never came out of the log plugin; dockerd log:\n%s", log)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("network", func(t *testing.T) {
		d.MustDocker(t, "plugin", "create", "my-network", scaffold("network"))
		d.MustDocker(t, "plugin", "enable", "my-network")
		d.MustDocker(t, "network", "create", "--driver", "my-network:latest", "--subnet", "10.77.0.0/24", "net1")
		if out := d.MustDocker(t, "network", "inspect", "--format", "{{.Driver}}", "net1"); strings.TrimSpace(out) != "my-network:latest" {
			t.Errorf("network driver = %q", out)
		}
		// A container can join (CreateEndpoint, Join, Leave, DeleteEndpoint).
		d.MustDocker(t, "run", "--rm", "--network", "net1", busybox, "true")
		d.MustDocker(t, "network", "rm", "net1")
	})
}

// reloadAuthz rewrites the test dockerd's daemon.json (beside its data
// root) and makes it reload its configuration.
func reloadAuthz(t *testing.T, d *testenv.Dockerd, config string) {
	t.Helper()
	dir := filepath.Dir(d.DataRoot)
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "docker.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	before := strings.Count(d.Log(), "Reloaded configuration")
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// The reload is asynchronous; dockerd logs when it is done.
	for deadline := time.Now().Add(10 * time.Second); strings.Count(d.Log(), "Reloaded configuration") == before; {
		if time.Now().After(deadline) {
			t.Fatalf("dockerd did not reload its configuration:\n%s", d.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// authzReq asks the authorization plugin on sock about one request, the way
// dockerd does.
func authzReq(t *testing.T, sock, method, uri string) (res struct {
	Allow    bool
	Msg, Err string
}) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}}
	body, _ := json.Marshal(map[string]string{"User": "tester", "RequestMethod": method, "RequestUri": uri})
	resp, err := client.Post("http://plugin/AuthZPlugin.AuthZReq", "application/vnd.docker.plugins.v1.2+json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatal(err)
	}
	return res
}
