// Command example-volume is a Docker volume plugin that keeps each volume in a
// directory under the plugin's propagated mount (/data/volumes inside the
// plugin, <plugin-dir>/propagated-mount/volumes on the host), so containers
// get a plain bind mount and nothing needs mount privileges.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/docker/go-plugins-helpers/volume"
)

func main() {
	socket := flag.String("socket", "/run/docker/plugins/example-volume.sock", "unix socket to serve the plugin API on")
	root := flag.String("root", "/data/volumes", "directory that holds one sub-directory per volume")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("example-volume: ")

	d, err := newDriver(*root)
	if err != nil {
		log.Fatal(err)
	}
	if err := serve(volume.NewHandler(d), *socket); err != nil {
		log.Fatal(err)
	}
}

// driver implements volume.Driver. Volumes are the directories under root;
// mounts counts, per volume, the container mounts dockerd asked for, so a
// volume in use cannot be removed.
type driver struct {
	root string

	mu     sync.Mutex
	mounts map[string]map[string]bool // volume name -> mount IDs
}

func newDriver(root string) (*driver, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("creating volume root: %w", err)
	}
	return &driver{root: root, mounts: map[string]map[string]bool{}}, nil
}

// errNotFound is what dockerd shows the user for an unknown volume.
var errNotFound = errors.New("no such volume")

// path returns the directory of volume name, rejecting names that would
// escape root.
func (d *driver) path(name string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("invalid volume name %q", name)
	}
	return filepath.Join(d.root, name), nil
}

// existing returns the directory of an existing volume or errNotFound.
func (d *driver) existing(name string) (string, error) {
	p, err := d.path(name)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) || (err == nil && !fi.IsDir()) {
		return "", fmt.Errorf("volume %s: %w", name, errNotFound)
	}
	if err != nil {
		return "", err
	}
	return p, nil
}

func (d *driver) Create(r *volume.CreateRequest) error {
	for k := range r.Options {
		return fmt.Errorf("unknown option %q: example-volume takes no options", k)
	}
	p, err := d.path(r.Name)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := os.Mkdir(p, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("creating volume %s: %w", r.Name, err)
	}
	log.Printf("created volume %s", r.Name)
	return nil
}

func (d *driver) Remove(r *volume.RemoveRequest) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	p, err := d.existing(r.Name)
	if err != nil {
		return err
	}
	if n := len(d.mounts[r.Name]); n > 0 {
		return fmt.Errorf("volume %s is in use by %d container(s)", r.Name, n)
	}
	if err := os.RemoveAll(p); err != nil {
		return fmt.Errorf("removing volume %s: %w", r.Name, err)
	}
	delete(d.mounts, r.Name)
	log.Printf("removed volume %s", r.Name)
	return nil
}

func (d *driver) Path(r *volume.PathRequest) (*volume.PathResponse, error) {
	p, err := d.existing(r.Name)
	if err != nil {
		return nil, err
	}
	return &volume.PathResponse{Mountpoint: p}, nil
}

func (d *driver) Mount(r *volume.MountRequest) (*volume.MountResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p, err := d.existing(r.Name)
	if err != nil {
		return nil, err
	}
	if d.mounts[r.Name] == nil {
		d.mounts[r.Name] = map[string]bool{}
	}
	d.mounts[r.Name][r.ID] = true
	return &volume.MountResponse{Mountpoint: p}, nil
}

func (d *driver) Unmount(r *volume.UnmountRequest) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.existing(r.Name); err != nil {
		return err
	}
	// An unknown ID is not an error: after a plugin restart dockerd still
	// unmounts what it mounted before, and the counts started from zero.
	delete(d.mounts[r.Name], r.ID)
	return nil
}

func (d *driver) Get(r *volume.GetRequest) (*volume.GetResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p, err := d.existing(r.Name)
	if err != nil {
		return nil, err
	}
	return &volume.GetResponse{Volume: d.describe(r.Name, p)}, nil
}

func (d *driver) List() (*volume.ListResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	entries, err := os.ReadDir(d.root)
	if err != nil {
		return nil, fmt.Errorf("listing volumes: %w", err)
	}
	vols := []*volume.Volume{}
	for _, e := range entries {
		if e.IsDir() {
			vols = append(vols, d.describe(e.Name(), filepath.Join(d.root, e.Name())))
		}
	}
	sort.Slice(vols, func(i, j int) bool { return vols[i].Name < vols[j].Name })
	return &volume.ListResponse{Volumes: vols}, nil
}

// describe reports a volume with its creation time and mount count.
func (d *driver) describe(name, p string) *volume.Volume {
	v := &volume.Volume{Name: name, Mountpoint: p, Status: map[string]interface{}{"mounts": len(d.mounts[name])}}
	if fi, err := os.Stat(p); err == nil {
		v.CreatedAt = fi.ModTime().UTC().Format(time.RFC3339)
	}
	return v
}

func (d *driver) Capabilities() *volume.CapabilitiesResponse {
	return &volume.CapabilitiesResponse{Capabilities: volume.Capability{Scope: "local"}}
}
