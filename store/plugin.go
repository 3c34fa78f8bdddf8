package store

import (
	"path/filepath"

	"github.com/dplug/dplug/plugin"
)

// Plugin is one installed plugin as recorded in the inventory.
type Plugin struct {
	ID      string `json:"Id"`
	Name    string `json:"Name"` // familiar name without the tag, e.g. "vieux/sshfs"
	Tag     string `json:"Tag"`  // "latest" unless the name said otherwise
	Enabled bool   `json:"Enabled"`
	// PluginReference is the registry reference the plugin was installed
	// from; empty for local sources (dirs, OCI layouts).
	PluginReference string          `json:"PluginReference,omitempty"`
	Config          plugin.Config   `json:"Config"`
	Settings        plugin.Settings `json:"Settings"`
	// Dir is ROOT/plugins/<id> on this machine.
	Dir string `json:"-"`
}

// FullName is Name:Tag, the name docker plugin ls shows.
func (p *Plugin) FullName() string { return p.Name + ":" + p.Tag }

// ShortID is the 12-character ID shown by ls.
func (p *Plugin) ShortID() string {
	if len(p.ID) > 12 {
		return p.ID[:12]
	}
	return p.ID
}

// Rootfs is the plugin's extracted root filesystem, Dir/rootfs.
func (p *Plugin) Rootfs() string { return filepath.Join(p.Dir, "rootfs") }

// Privilege is one thing a plugin asks the user to grant at install, as
// dockerd's computePrivileges reports it.
type Privilege struct {
	Name        string   `json:"Name"`
	Description string   `json:"Description"`
	Value       []string `json:"Value"`
}

// Privileges lists what c requests beyond an unprivileged container, in
// dockerd's order: network, host ipc/pid namespaces, mounts, devices,
// allow-all-devices, capabilities.
func Privileges(c *plugin.Config) []Privilege {
	var ps []Privilege
	if t := c.Network.Type; t != "" && t != "null" && t != "bridge" {
		ps = append(ps, Privilege{"network", "permissions to access a network", []string{t}})
	}
	if c.IpcHost {
		ps = append(ps, Privilege{"host ipc namespace", "allow access to host ipc namespace", []string{"true"}})
	}
	if c.PidHost {
		ps = append(ps, Privilege{"host pid namespace", "allow access to host pid namespace", []string{"true"}})
	}
	for _, m := range c.Mounts {
		if m.Source != nil {
			ps = append(ps, Privilege{"mount", "host path to mount", []string{*m.Source}})
		}
	}
	for _, d := range c.Linux.Devices {
		if d.Path != nil {
			ps = append(ps, Privilege{"device", "host device to access", []string{*d.Path}})
		}
	}
	if c.Linux.AllowAllDevices {
		ps = append(ps, Privilege{"allow-all-devices", "allow 'rwm' access to all devices", []string{"true"}})
	}
	if len(c.Linux.Capabilities) > 0 {
		ps = append(ps, Privilege{"capabilities", "list of additional capabilities required", append([]string(nil), c.Linux.Capabilities...)})
	}
	return ps
}
