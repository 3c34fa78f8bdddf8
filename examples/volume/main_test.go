package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/docker/go-plugins-helpers/volume"
)

func TestDriver(t *testing.T) {
	d, err := newDriver(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(d.Create(&volume.CreateRequest{Name: "b"}))
	must(d.Create(&volume.CreateRequest{Name: "a"}))
	must(d.Create(&volume.CreateRequest{Name: "a"})) // dockerd may create twice

	for _, bad := range []string{"", ".", "..", "x/y", `x\y`} {
		if err := d.Create(&volume.CreateRequest{Name: bad}); err == nil {
			t.Errorf("Create(%q) succeeded", bad)
		}
	}
	if err := d.Create(&volume.CreateRequest{Name: "c", Options: map[string]string{"size": "1G"}}); err == nil {
		t.Errorf("Create with an unknown option succeeded")
	}
	if _, err := d.Get(&volume.GetRequest{Name: "missing"}); !errors.Is(err, errNotFound) {
		t.Errorf("Get(missing) = %v, want no such volume", err)
	}
	if _, err := d.Path(&volume.PathRequest{Name: "missing"}); !errors.Is(err, errNotFound) {
		t.Errorf("Path(missing) = %v, want no such volume", err)
	}

	m, err := d.Mount(&volume.MountRequest{Name: "a", ID: "c1"})
	must(err)
	p, err := d.Path(&volume.PathRequest{Name: "a"})
	must(err)
	if m.Mountpoint != p.Mountpoint {
		t.Errorf("Mount gave %s, Path gives %s", m.Mountpoint, p.Mountpoint)
	}
	if err := d.Remove(&volume.RemoveRequest{Name: "a"}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("Remove of a mounted volume = %v, want in use", err)
	}
	g, err := d.Get(&volume.GetRequest{Name: "a"})
	must(err)
	if g.Volume.Status["mounts"] != 1 || g.Volume.CreatedAt == "" {
		t.Errorf("Get(a) = %+v, want 1 mount and a creation time", g.Volume)
	}
	must(d.Unmount(&volume.UnmountRequest{Name: "a", ID: "c1"}))
	must(d.Remove(&volume.RemoveRequest{Name: "a"}))
	if err := d.Remove(&volume.RemoveRequest{Name: "a"}); !errors.Is(err, errNotFound) {
		t.Errorf("second Remove = %v, want no such volume", err)
	}

	l, err := d.List()
	must(err)
	if len(l.Volumes) != 1 || l.Volumes[0].Name != "b" {
		t.Errorf("List = %+v, want just b", l.Volumes)
	}
	if s := d.Capabilities().Capabilities.Scope; s != "local" {
		t.Errorf("scope = %q, want local", s)
	}
}
