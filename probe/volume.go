package probe

import (
	"fmt"
	"path"
	"slices"
)

type volumeInfo struct {
	Name       string
	Mountpoint string
	CreatedAt  string `json:",omitempty"`
	Status     map[string]any
}

func (p *prober) volume() {
	const iface = "VolumeDriver"
	name := p.name
	missing := name + "-missing"
	call := func(what, method string, req any, exp expect, out any, check func() error) *outcome {
		return p.call(iface, what, "VolumeDriver."+method, req, "Err", exp, out, check)
	}
	var caps struct{ Capabilities struct{ Scope string } }
	call("Capabilities answers a valid scope", "Capabilities", nil, optional, &caps, func() error {
		if s := caps.Capabilities.Scope; s != "" && s != "local" && s != "global" {
			return fmt.Errorf("scope %q: want local or global", s)
		}
		return nil
	})
	call("Get of a missing volume fails in Err", "Get", map[string]string{"Name": missing}, wantErr, nil, nil)
	call("Create succeeds", "Create", map[string]any{"Name": name, "Opts": map[string]string{}}, wantOK, nil, nil)
	var list struct{ Volumes []volumeInfo }
	call("List includes the new volume", "List", nil, wantOK, &list, func() error {
		if !slices.ContainsFunc(list.Volumes, func(v volumeInfo) bool { return v.Name == name }) {
			return fmt.Errorf("volume %s not in %+v", name, list.Volumes)
		}
		return nil
	})
	var get struct{ Volume *volumeInfo }
	call("Get returns the volume", "Get", map[string]string{"Name": name}, wantOK, &get, func() error {
		if get.Volume == nil || get.Volume.Name != name {
			return fmt.Errorf("Volume = %+v, want name %s", get.Volume, name)
		}
		return nil
	})
	call("Path answers", "Path", map[string]string{"Name": name}, wantOK, nil, nil)
	var m struct{ Mountpoint string }
	call("Mount returns an absolute mountpoint", "Mount", map[string]string{"Name": name, "ID": p.name + "-c"}, wantOK, &m, func() error {
		if !path.IsAbs(m.Mountpoint) {
			return fmt.Errorf("Mountpoint %q is not an absolute path", m.Mountpoint)
		}
		return nil
	})
	var pth struct{ Mountpoint string }
	call("Path of a mounted volume is its mountpoint", "Path", map[string]string{"Name": name}, wantOK, &pth, func() error {
		if pth.Mountpoint != m.Mountpoint {
			return fmt.Errorf("Path = %q, Mount said %q", pth.Mountpoint, m.Mountpoint)
		}
		return nil
	})
	call("Unmount succeeds", "Unmount", map[string]string{"Name": name, "ID": p.name + "-c"}, wantOK, nil, nil)
	call("Remove succeeds", "Remove", map[string]string{"Name": name}, wantOK, nil, nil)
	call("Get of the removed volume fails in Err", "Get", map[string]string{"Name": name}, wantErr, nil, nil)
	var after struct{ Volumes []volumeInfo }
	call("List no longer includes it", "List", nil, wantOK, &after, func() error {
		if slices.ContainsFunc(after.Volumes, func(v volumeInfo) bool { return v.Name == name }) {
			return fmt.Errorf("volume %s still listed", name)
		}
		return nil
	})
	call("Mount of a missing volume fails in Err", "Mount", map[string]string{"Name": missing, "ID": p.name + "-c"}, wantErr, nil, nil)
	call("Remove of a missing volume fails in Err", "Remove", map[string]string{"Name": missing}, wantErr, nil, nil)
	call("a malformed request is refused", "Create", []byte("{not json\n"), wantRefused, nil, nil)
}
