// Command volplug is a tiny directory-backed volume plugin used by dplug's
// integration tests. It serves the VolumeDriver protocol with
// go-plugins-helpers on /run/docker/plugins/<socket>. TESTPLUGIN_MODE
// selects a misbehaviour for failure tests:
//
//	crash      print a line and exit 3 at once
//	nolisten   never create the socket
//	wrongimpl  answer /Plugin.Activate with NetworkDriver
//	mount      try to mount a tmpfs at start and print the outcome
//	dieonremove  serve normally, but exit 4 on the first Remove
//	ignoreterm   serve normally, but ignore SIGTERM (only SIGKILL stops it)
//	deadsocket   leave a socket file nobody listens on, then sleep
//	inspect      print what the runtime gave it (uid, cwd, args, env, the
//	             devices and files named in TESTPLUGIN_OPEN, comma-separated,
//	             hostname, net interfaces), then serve normally
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/docker/go-plugins-helpers/volume"
)

const root = "/data/volumes"

type driver struct {
	mu   sync.Mutex
	vols map[string]string
}

func (d *driver) Create(r *volume.CreateRequest) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	// Output while serving: the runner must keep copying it (a closed
	// pipe would kill the plugin with SIGPIPE).
	fmt.Println("volplug: create", r.Name)
	fmt.Fprintln(os.Stderr, "volplug: create on stderr", r.Name)
	p := filepath.Join(root, r.Name)
	if err := os.MkdirAll(p, 0o755); err != nil {
		return err
	}
	d.vols[r.Name] = p
	return nil
}

func (d *driver) List() (*volume.ListResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*volume.Volume
	for n, p := range d.vols {
		out = append(out, &volume.Volume{Name: n, Mountpoint: p})
	}
	return &volume.ListResponse{Volumes: out}, nil
}

func (d *driver) Get(r *volume.GetRequest) (*volume.GetResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p, ok := d.vols[r.Name]
	if !ok {
		return nil, fmt.Errorf("volume %s not found", r.Name)
	}
	return &volume.GetResponse{Volume: &volume.Volume{Name: r.Name, Mountpoint: p}}, nil
}

func (d *driver) Remove(r *volume.RemoveRequest) error {
	if os.Getenv("TESTPLUGIN_MODE") == "dieonremove" {
		fmt.Fprintln(os.Stderr, "volplug: dying on Remove")
		os.Exit(4)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	p, ok := d.vols[r.Name]
	if !ok {
		return fmt.Errorf("volume %s not found", r.Name)
	}
	delete(d.vols, r.Name)
	return os.RemoveAll(p)
}

func (d *driver) Path(r *volume.PathRequest) (*volume.PathResponse, error) {
	g, err := d.Get(&volume.GetRequest{Name: r.Name})
	if err != nil {
		return nil, err
	}
	return &volume.PathResponse{Mountpoint: g.Volume.Mountpoint}, nil
}

func (d *driver) Mount(r *volume.MountRequest) (*volume.MountResponse, error) {
	g, err := d.Get(&volume.GetRequest{Name: r.Name})
	if err != nil {
		return nil, err
	}
	return &volume.MountResponse{Mountpoint: g.Volume.Mountpoint}, nil
}

func (d *driver) Unmount(r *volume.UnmountRequest) error {
	_, err := d.Get(&volume.GetRequest{Name: r.Name})
	return err
}

func (d *driver) Capabilities() *volume.CapabilitiesResponse {
	return &volume.CapabilitiesResponse{Capabilities: volume.Capability{Scope: "local"}}
}

func main() {
	socket := "volplug"
	if len(os.Args) > 1 {
		socket = os.Args[1]
	}
	fmt.Println("volplug starting, socket", socket)
	switch os.Getenv("TESTPLUGIN_MODE") {
	case "crash":
		fmt.Fprintln(os.Stderr, "volplug: crashing on purpose")
		os.Exit(3)
	case "nolisten":
		for {
			time.Sleep(time.Hour)
		}
	case "deadsocket":
		path := filepath.Join("/run/docker/plugins", socket+".sock")
		if l, err := net.Listen("unix", path); err == nil {
			l.(*net.UnixListener).SetUnlinkOnClose(false)
			l.Close()
		}
		for {
			time.Sleep(time.Hour)
		}
	case "ignoreterm":
		signal.Ignore(syscall.SIGTERM)
	case "inspect":
		inspect()
	case "wrongimpl":
		serveWrongImplements(socket)
		return
	case "mount":
		_ = os.MkdirAll("/mnt/t", 0o755)
		if err := syscall.Mount("tmpfs", "/mnt/t", "tmpfs", 0, ""); err != nil {
			fmt.Println("mount: denied:", err)
		} else {
			fmt.Println("mount: ok")
		}
	}
	h := volume.NewHandler(&driver{vols: map[string]string{}})
	if err := h.ServeUnix(socket, 0); err != nil {
		fmt.Fprintln(os.Stderr, "volplug:", err)
		os.Exit(1)
	}
}

func serveWrongImplements(socket string) {
	path := socket
	if !filepath.IsAbs(path) {
		path = filepath.Join("/run/docker/plugins", socket+".sock")
	}
	_ = os.MkdirAll(filepath.Dir(path), 0o755)
	l, err := net.Listen("unix", path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "volplug:", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/Plugin.Activate", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.docker.plugins.v1.2+json")
		fmt.Fprintln(w, `{"Implements":["NetworkDriver"]}`)
	})
	_ = http.Serve(l, mux)
}

// inspect prints one "key: value" line per fact about its environment.
func inspect() {
	cwd, _ := os.Getwd()
	fmt.Printf("inspect uid: %d\n", os.Getuid())
	fmt.Printf("inspect cwd: %s\n", cwd)
	fmt.Printf("inspect args: %s\n", strings.Join(os.Args, " "))
	for _, e := range os.Environ() {
		fmt.Printf("inspect env: %s\n", e)
	}
	for _, p := range strings.Split(os.Getenv("TESTPLUGIN_OPEN"), ",") {
		if p == "" {
			continue
		}
		f, err := os.OpenFile(p, os.O_RDONLY, 0)
		if err != nil {
			fmt.Printf("inspect open %s: %v\n", p, err)
			continue
		}
		buf := make([]byte, 64)
		n, _ := f.Read(buf)
		f.Close()
		fmt.Printf("inspect open %s: ok %q\n", p, strings.TrimSpace(string(buf[:n])))
	}
	ifs, _ := net.Interfaces()
	for _, i := range ifs {
		fmt.Printf("inspect if: %s\n", i.Name)
	}
}
