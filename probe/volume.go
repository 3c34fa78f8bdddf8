package probe

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
)

type volumeInfo struct {
	Name       string
	Mountpoint string
	CreatedAt  string `json:",omitempty"`
	Status     map[string]any
}

// volume probes a volume driver with the requests dockerd sends for
// `docker volume create -o`, `docker run -v`, `docker volume ls` and
// `docker volume rm`, in that order. dockerd only sends Mount, Path,
// Unmount and Remove for volumes the driver reported, so there are no
// probes of those on a volume the driver never created (a driver whose
// Remove of an unknown name succeeds is behaving legitimately).
func (p *prober) volume() {
	p.enter("VolumeDriver", "VolumeDriver.", "Err")
	create := p.volumeCreate()
	p.volumeUse(create)
	p.volumeRemove(create)
	p.malformed("Create")
}

// volumeCreate is `docker volume create -o`: Capabilities, Get, Create.
func (p *prober) volumeCreate() (create *step) {
	name := p.name
	opts := p.o.driverOpts
	if opts == nil {
		opts = map[string]string{}
	}

	// Advisory: an error or a missing scope means "local", an unknown one
	// is logged and replaced by "local" (volume/drivers/adapter.go
	// getCapabilities).
	var caps struct{ Capabilities struct{ Scope string } }
	p.call(probeCall{name: "Capabilities answers a valid scope", method: "Capabilities", kind: Advisory,
		expect: optional, out: &caps, check: func(*step) error {
			if s := strings.ToLower(caps.Capabilities.Scope); s != "" && s != "local" && s != "global" {
				return fmt.Errorf("scope %q: want local or global (dockerd uses local)", caps.Capabilities.Scope)
			}
			return nil
		}})

	// Required: before Create dockerd asks the driver whether the volume
	// exists and skips Create when Get returns one (volume/service/store.go
	// create: `if v, _ = vd.Get(name); v == nil { vd.Create(...) }`). An
	// error or an answer without a Volume both mean "no such volume".
	p.call(probeCall{name: "Get of a volume not yet created returns no volume", method: "Get", kind: Required,
		req: map[string]string{"Name": name}, expect: wantAnswer,
		check: noVolume("answered Volume %+v for a name never created: dockerd would skip Create")})

	// Required: `docker volume create` fails with Create's error
	// (volume/drivers/adapter.go Create, proxy.go Create).
	create = p.call(probeCall{name: "Create succeeds", method: "Create", kind: Required,
		req: map[string]any{"Name": name, "Opts": opts}, expect: wantOK})
	if len(p.o.driverOpts) == 0 && !create.ok && create.errMsg != "" {
		p.rep.Checks[len(p.rep.Checks)-1].Reason += " (if the driver needs options, pass them with --opt KEY=VALUE, as to docker volume create -o)"
	}
	return create
}

// volumeUse is `docker volume ls` and `docker run -v` on the created
// volume: List, Get, Mount, Path, Unmount.
func (p *prober) volumeUse(create *step) {
	name := p.name
	// Required: `docker volume ls` shows what List returns and turns an
	// error into a warning (volume/service/store.go list).
	var list struct{ Volumes []volumeInfo }
	p.call(probeCall{name: "List includes the new volume", method: "List", kind: Required,
		expect: wantOK, out: &list, needs: []*step{create}, check: func(*step) error {
			if !slices.ContainsFunc(list.Volumes, func(v volumeInfo) bool { return v.Name == name }) {
				return fmt.Errorf("volume %s not in %+v", name, list.Volumes)
			}
			return nil
		}})

	// Required: a Get that returns no volume for an existing one makes
	// dockerd purge it (volume/service/store.go getVolume/lookupVolume).
	var get struct{ Volume *volumeInfo }
	p.call(probeCall{name: "Get returns the volume", method: "Get", kind: Required,
		req: map[string]string{"Name": name}, expect: wantOK, out: &get, needs: []*step{create}, check: func(*step) error {
			if get.Volume == nil || get.Volume.Name != name {
				return fmt.Errorf("answered Volume = %+v, want name %s", get.Volume, name)
			}
			return nil
		}})

	// Required: `docker run -v` binds what Mount returns and fails with its
	// error (volume/drivers/adapter.go volumeAdapter.Mount).
	var m struct{ Mountpoint string }
	mount := p.call(probeCall{name: "Mount returns an absolute mountpoint", method: "Mount", kind: Required,
		req: map[string]string{"Name": name, "ID": p.name + "-c"}, expect: wantOK, out: &m, needs: []*step{create},
		check: func(*step) error {
			if !path.IsAbs(m.Mountpoint) {
				return fmt.Errorf("mountpoint %q is not an absolute path", m.Mountpoint)
			}
			return nil
		}})

	// Advisory: dockerd calls Path for `docker volume inspect` when it has
	// no cached mountpoint and ignores its error (volumeAdapter.Path).
	var pth struct{ Mountpoint string }
	p.call(probeCall{name: "Path of a mounted volume is its mountpoint", method: "Path", kind: Advisory,
		req: map[string]string{"Name": name}, expect: wantOK, out: &pth, needs: []*step{mount}, check: func(*step) error {
			if pth.Mountpoint != m.Mountpoint {
				return fmt.Errorf("answered Path = %q, Mount said %q", pth.Mountpoint, m.Mountpoint)
			}
			return nil
		}})

	// Required: a container's volumes are unmounted at its stop, an error
	// keeps the reference (volumeAdapter.Unmount).
	p.call(probeCall{name: "Unmount succeeds", method: "Unmount", kind: Required,
		req: map[string]string{"Name": name, "ID": p.name + "-c"}, expect: wantOK, needs: []*step{mount}})
}

// volumeRemove is `docker volume rm`: Remove, then Get and List, which
// should no longer know the volume.
func (p *prober) volumeRemove(create *step) {
	name := p.name
	// Required: `docker volume rm` fails with Remove's error
	// (volume/service/store.go Remove).
	remove := p.call(probeCall{name: "Remove succeeds", method: "Remove", kind: Required,
		req: map[string]string{"Name": name}, expect: wantOK, needs: []*step{create}})

	// Advisory: dockerd purges its own record after Remove whatever the
	// driver says next; a driver that still reports the volume only shows
	// it again in `docker volume ls`.
	p.call(probeCall{name: "Get of the removed volume returns no volume", method: "Get", kind: Advisory,
		req: map[string]string{"Name": name}, expect: wantAnswer, needs: []*step{remove},
		check: noVolume("still answers Volume %+v")})
	var after struct{ Volumes []volumeInfo }
	p.call(probeCall{name: "List no longer includes it", method: "List", kind: Advisory,
		expect: wantOK, out: &after, needs: []*step{remove}, check: func(*step) error {
			if slices.ContainsFunc(after.Volumes, func(v volumeInfo) bool { return v.Name == name }) {
				return fmt.Errorf("volume %s still listed", name)
			}
			return nil
		}})
}

// noVolume checks that a Get answered no volume: an error or an answer
// without a Volume. format gets the volume it answered.
func noVolume(format string) func(*step) error {
	return func(st *step) error {
		if st.resp.Status != 200 || st.errMsg != "" {
			return nil
		}
		var g struct{ Volume *volumeInfo }
		if json.Unmarshal(st.resp.Body, &g) == nil && g.Volume != nil {
			return fmt.Errorf(format, *g.Volume)
		}
		return nil
	}
}
