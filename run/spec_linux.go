package run

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// runtimeDir (paths.go) is where the plugin finds its socket directory.

// defaultPathEnv is the PATH dockerd gives every plugin.
const defaultPathEnv = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// defaultCaps are Docker's 14 default capabilities, in moby's order.
var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// hostPaths are the host-side paths of one run that end up in the spec.
type hostPaths struct {
	rootfs     string // the plugin's rootfs
	sockDir    string // bind-mounted at /run/docker/plugins
	propagated string // bind-mounted at Config.PropagatedMount
	cgroup     string // cgroupsPath, e.g. /dplug/<id>
	// bundle is the run's own empty directory that a bind mount with an
	// empty source gets, as runc under dockerd binds its bundle dir (its
	// working directory) there. Never the caller's working directory.
	bundle string
	// stat reads a device node's metadata (nil: the host's, unix.Stat);
	// tests give a fake one, so that the spec needs no host device.
	stat func(path string, st *unix.Stat_t) error
}

// isBind reports whether runc treats the mount as a bind mount.
func isBind(typ string, opts []string) bool {
	return typ == "bind" || slices.Contains(opts, "bind") || slices.Contains(opts, "rbind")
}

// bindSource is the host path a declared bind mount's source names. runc
// resolves a relative source against its working directory, which under
// dockerd is the bundle dir and under dplug would be the caller's: an empty
// source gets the run's own empty dir, a relative one is refused.
func bindSource(hp hostPaths, m mnt) (string, error) {
	src := *m.src
	switch {
	case filepath.IsAbs(src) || !isBind(m.typ, m.opts):
		return src, nil
	case src == "" && hp.bundle != "":
		return hp.bundle, nil
	case src == "":
		return "", fmt.Errorf("mount %s: the source is empty and this run has no dir to mount there", m.dest)
	default:
		return "", fmt.Errorf("mount %s: source %q is relative: give an absolute host path (dockerd would look for it in its own bundle dir)", m.dest, src)
	}
}

// mnt is a mount of the spec before its source is checked.
type mnt struct {
	src       *string
	dest, typ string
	opts      []string
}

func ptr[T any](v T) *T { return &v }

// defaultSpec is moby's oci.DefaultSpec (as of 20.10, which every later
// version keeps for plugins) for Linux.
func defaultSpec() specs.Spec {
	return specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			User: specs.User{UID: 0, GID: 0},
			Cwd:  "/",
			Capabilities: &specs.LinuxCapabilities{
				Bounding:  slices.Clone(defaultCaps),
				Permitted: slices.Clone(defaultCaps),
				Effective: slices.Clone(defaultCaps),
			},
		},
		Root: &specs.Root{},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid", "noexec", "nodev"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777"}},
		},
		Linux: &specs.Linux{
			MaskedPaths: []string{
				"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
				"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
			},
			ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.MountNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.UTSNamespace},
				{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace},
			},
			Resources: &specs.LinuxResources{
				Devices: []specs.LinuxDeviceCgroup{
					{Allow: false, Access: "rwm"},
					{Allow: true, Type: "c", Major: ptr[int64](1), Minor: ptr[int64](5), Access: "rwm"},
					{Allow: true, Type: "c", Major: ptr[int64](1), Minor: ptr[int64](3), Access: "rwm"},
					{Allow: true, Type: "c", Major: ptr[int64](1), Minor: ptr[int64](9), Access: "rwm"},
					{Allow: true, Type: "c", Major: ptr[int64](1), Minor: ptr[int64](8), Access: "rwm"},
					{Allow: true, Type: "c", Major: ptr[int64](5), Minor: ptr[int64](0), Access: "rwm"},
					{Allow: true, Type: "c", Major: ptr[int64](5), Minor: ptr[int64](1), Access: "rwm"},
					// /dev/fuse is denied unless the plugin asks for it.
					{Allow: false, Type: "c", Major: ptr[int64](10), Minor: ptr[int64](229), Access: "rwm"},
				},
			},
		},
	}
}

func removeNamespace(s *specs.Spec, t specs.LinuxNamespaceType) {
	s.Linux.Namespaces = slices.DeleteFunc(s.Linux.Namespaces, func(n specs.LinuxNamespace) bool { return n.Type == t })
}

// buildSpec is moby's v2 Plugin.InitSpec: the OCI runtime spec dockerd runs
// the plugin with, given where this run keeps its host-side paths.
func buildSpec(p Plugin, hp hostPaths) (*specs.Spec, error) {
	s := defaultSpec()
	s.Root = &specs.Root{Path: hp.rootfs}
	s.Linux.CgroupsPath = hp.cgroup
	if err := addMounts(&s, p, hp); err != nil {
		return nil, err
	}
	if err := addDevices(&s, p, hp); err != nil {
		return nil, err
	}
	setProcess(&s, p)
	return &s, nil
}

// addMounts adds the user's mounts (settings, else config), the propagated
// mount, the socket dir and, with a network type, /etc/hosts and
// /etc/resolv.conf; it drops the namespaces the config shares with the
// host.
func addMounts(s *specs.Spec, p Plugin, hp hostPaths) error {
	c := &p.Config
	mounts := p.Settings.Mounts
	if mounts == nil {
		mounts = c.Mounts
	}
	userMounts := make(map[string]bool, len(mounts))
	for _, m := range mounts {
		userMounts[m.Destination] = true
	}

	// A user mount on a /dev/ path replaces the default mount there.
	s.Mounts = slices.DeleteFunc(s.Mounts, func(m specs.Mount) bool {
		return strings.HasPrefix(m.Destination, "/dev/") && userMounts[m.Destination]
	})

	if c.PropagatedMount != "" {
		s.Mounts = append(s.Mounts, specs.Mount{
			Source: hp.propagated, Destination: c.PropagatedMount, Type: "bind",
			Options: []string{"rbind", "rw", "rshared"},
		})
		s.Linux.RootfsPropagation = "rshared"
	}

	all := make([]mnt, 0, len(mounts)+3)
	for _, m := range mounts {
		all = append(all, mnt{m.Source, m.Destination, m.Type, m.Options})
	}
	all = append(all, mnt{ptr(hp.sockDir), runtimeDir, "bind", []string{"rbind", "rshared"}})
	if c.Network.Type != "" {
		// dockerd does this for every non-empty type, host included.
		if c.Network.Type == "host" {
			removeNamespace(s, specs.NetworkNamespace)
		}
		all = append(all,
			mnt{ptr("/etc/hosts"), "/etc/hosts", "bind", []string{"rbind", "ro"}},
			mnt{ptr("/etc/resolv.conf"), "/etc/resolv.conf", "bind", []string{"rbind", "ro"}})
	}
	if c.PidHost {
		removeNamespace(s, specs.PIDNamespace)
	}
	if c.IpcHost {
		removeNamespace(s, specs.IPCNamespace)
	}
	for _, m := range all {
		if m.src == nil {
			return fmt.Errorf("mount %s: mount source is not specified", m.dest)
		}
		src, err := bindSource(hp, m)
		if err != nil {
			return err
		}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: m.dest, Type: m.typ, Source: src, Options: m.opts})
	}
	return nil
}

// addDevices adds the device nodes (settings, else config) and their
// cgroup rules, or allows every device.
func addDevices(s *specs.Spec, p Plugin, hp hostPaths) error {
	c := &p.Config
	if c.Linux.AllowAllDevices {
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
	}
	devs := p.Settings.Devices
	if devs == nil {
		devs = c.Linux.Devices
	}
	for _, d := range devs {
		if d.Path == nil {
			return fmt.Errorf("device %s: device path is not specified", d.Name)
		}
		if !filepath.IsAbs(*d.Path) {
			// dockerd would resolve it against its own working directory;
			// dplug's is the caller's, which the config did not name.
			return fmt.Errorf("device %s: path %q is relative: give the device's absolute host path, such as /dev/fuse", d.Name, *d.Path)
		}
		nodes, rules, err := devicesFromPath(*d.Path, hp.stat)
		if err != nil {
			return err
		}
		s.Linux.Devices = append(s.Linux.Devices, nodes...)
		s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, rules...)
	}
	return nil
}

// setProcess sets the plugin's command line, environment, working dir and
// capabilities.
func setProcess(s *specs.Spec, p Plugin) {
	c := &p.Config
	s.Process.Env = append([]string{"PATH=" + defaultPathEnv}, p.Settings.Env...)
	s.Process.Args = append(slices.Clone(c.Entrypoint), p.Settings.Args...)
	s.Process.Cwd = c.WorkDir
	if s.Process.Cwd == "" {
		s.Process.Cwd = "/"
	}
	caps := s.Process.Capabilities
	caps.Bounding = append(caps.Bounding, c.Linux.Capabilities...)
	caps.Permitted = append(caps.Permitted, c.Linux.Capabilities...)
	caps.Inheritable = append(caps.Inheritable, c.Linux.Capabilities...)
	caps.Effective = append(caps.Effective, c.Linux.Capabilities...)
}

// devicesFromPath is moby's oci.DevicesFromPath(path, path, "rwm"): the
// device node at path (or every node below a directory) and a cgroup rule
// allowing it.
func devicesFromPath(path string, stat func(string, *unix.Stat_t) error) ([]specs.LinuxDevice, []specs.LinuxDeviceCgroup, error) {
	if stat == nil {
		stat = unix.Stat
	}
	d, err := deviceAt(path, stat)
	if err != nil {
		return nil, nil, fmt.Errorf("adding device %s: %w", path, err)
	}
	if d != nil {
		return []specs.LinuxDevice{*d}, []specs.LinuxDeviceCgroup{deviceRule(d)}, nil
	}
	fi, err := os.Stat(path)
	if err != nil || !fi.IsDir() {
		return nil, nil, fmt.Errorf("adding device %s: not a device node or directory", path)
	}
	var nodes []specs.LinuxDevice
	var rules []specs.LinuxDeviceCgroup
	err = filepath.WalkDir(path, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		d, err := deviceAt(p, stat)
		if err != nil || d == nil {
			return err
		}
		nodes = append(nodes, *d)
		rules = append(rules, deviceRule(d))
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("adding devices under %s: %w", path, err)
	}
	if len(nodes) == 0 {
		return nil, nil, errors.New("adding devices under " + path + ": no device nodes found")
	}
	return nodes, rules, nil
}

// deviceAt is the device node at p; nil (no error) when p is not one.
func deviceAt(p string, stat func(string, *unix.Stat_t) error) (*specs.LinuxDevice, error) {
	var st unix.Stat_t
	if err := stat(p, &st); err != nil {
		return nil, &os.PathError{Op: "stat", Path: p, Err: err}
	}
	var typ string
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		typ = "c"
	case unix.S_IFBLK:
		typ = "b"
	default:
		return nil, nil
	}
	mode := fs.FileMode(st.Mode &^ unix.S_IFMT)
	return &specs.LinuxDevice{
		Path: p, Type: typ,
		Major: int64(unix.Major(uint64(st.Rdev))), Minor: int64(unix.Minor(uint64(st.Rdev))),
		FileMode: &mode, UID: ptr(st.Uid), GID: ptr(st.Gid),
	}, nil
}

// deviceRule is the cgroup rule allowing d.
func deviceRule(d *specs.LinuxDevice) specs.LinuxDeviceCgroup {
	return specs.LinuxDeviceCgroup{Allow: true, Type: d.Type, Major: ptr(d.Major), Minor: ptr(d.Minor), Access: "rwm"}
}
