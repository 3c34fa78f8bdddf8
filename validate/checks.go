package validate

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/dplug/dplug/plugin"
)

// checkConfig applies the semantic rules to a normalised config.json.
func (v *run) checkConfig(root *node) {
	for _, name := range []string{"Description", "Documentation"} {
		if n := root.get(name); n != nil && n.kind == kNull {
			v.add("DP102", n, posKey, "%s is null: the Docker docs require it (dockerd does not enforce it)", strings.ToLower(name)).
				hint("give the plugin a %s", strings.ToLower(name))
		}
	}
	v.checkInterface(root)
	v.checkProcess(root)
	v.checkMounts(root.get("Mounts"))
	if linux := root.get("Linux"); linux != nil && linux.kind == kObject {
		v.checkDevices(linux.get("Devices"))
		v.checkCapabilities(linux.get("Capabilities"))
	}
	v.checkEnv(root.get("Env"))
	if args := root.get("Args"); args != nil && args.kind == kObject {
		v.checkSettable(args.get("Settable"), "value", "args")
	}
	v.checkSettableNames(root)
	if u := root.get("User"); u != nil && u.kind == kObject {
		for _, id := range []string{"UID", "GID"} {
			// encoding/json parses the literal with strconv.ParseUint(s, 10, 32):
			// 1.0, 1e3 and -0 fail even though they are integers.
			if n := u.get(id); n != nil && n.kind == kNumber {
				if _, err := strconv.ParseUint(n.str, 10, 32); len(n.str) > maxNumberLen || err != nil {
					v.add("DP100", n, posValue, "user.%s %s is not an unsigned 32-bit integer: dockerd fails with \"failed to parse config\"", strings.ToLower(id), shorten(n.str)).
						hint("write a plain integer between 0 and 4294967295, or remove user (dockerd ignores it)")
				}
			}
		}
		for _, id := range []string{"UID", "GID"} {
			if n := u.get(id); n != nil && n.kind == kNumber && strings.Trim(n.str, "0") != "" {
				v.add("DP601", u, posKey, "user is ignored: dockerd parses it but runs every plugin as uid 0").
					hint("drop privileges inside the plugin if it must not run as root")
				break
			}
		}
	}
	if nw := root.get("Network"); nw != nil && nw.kind == kObject {
		if t, ok := nw.get("Type").strVal(); ok && t != "" && t != "host" && t != "none" {
			v.add("DP602", nw.get("Type"), posValue, "network.type %q is not a Docker network mode: every value but \"host\" gives the plugin a fresh, empty network namespace", t).
				hint(`use "host" for host networking, or "none" for an isolated namespace`)
		}
	}
	if n := root.get("rootfs"); !n.isNull() {
		v.add("DP108", n, posKey, "rootfs is filled in by the engine when the plugin is packaged: this value is replaced").
			hint("remove it")
	}
	if s, ok := root.get("DockerVersion").strVal(); ok && s != "" {
		v.add("DP108", root.get("DockerVersion"), posKey, "dockerVersion is set by the engine: this value is replaced").
			hint("remove it")
	}
}

// knownTypes are the interface types moby knows: plugin.KnownTypes, the
// one list.
var knownTypes = plugin.KnownTypes

func (v *run) checkInterface(root *node) {
	iface := root.get("Interface")
	if iface.isNull() {
		v.missing("DP101", root, "Interface", "interface is missing: dockerd cannot enable a plugin without types and a socket").
			hint(`add "interface": {"types": ["docker.volumedriver/1.0"], "socket": "plugin.sock"}`)
		return
	}
	if iface.kind != kObject {
		return // the schema reports the type
	}
	types := iface.get("Types")
	switch {
	case types.isNull():
		v.missing("DP101", iface, "Types", "interface.types is missing: the plugin would serve nothing").
			hint(`add "types": ["docker.volumedriver/1.0"] (or the type it implements)`)
	case types.kind == kArray && len(types.elems) == 0:
		v.add("DP204", types, posValue, "interface.types is empty: the plugin would serve nothing").
			hint("list the interface types the plugin implements, e.g. docker.volumedriver/1.0")
	case types.kind == kArray:
		seen := map[string]bool{}
		usable := 0
		for _, t := range types.stringElems() {
			prefix, capability, version := dockerdType(t.str)
			ok := prefix == "docker" && knownCapability(capability)
			if ok {
				usable++
			}
			_, err := plugin.ParseInterfaceType(t.str)
			switch {
			case err != nil && ok:
				v.add("DP209", t, posValue, "interface type %q has no version: dockerd ignores the version and uses it as docker.%s", t.str, capability).
					hint("write %q", "docker."+capability+"/1.0")
			case err != nil:
				v.add("DP201", t, posValue, "%v: dockerd stores it as garbage and never dispatches to it", err).
					hint("write it like docker.volumedriver/1.0")
			case prefix != "docker":
				v.add("DP202", t, posValue, "interface type %q has prefix %q: dockerd only dispatches on prefix \"docker\", so it never uses this type", t.str, prefix).
					hint("did you mean %q?", closestType(t.str))
			case !ok:
				v.add("DP203", t, posValue, "interface type %q: dockerd has no %q capability, so it never uses this type", t.str, capability).
					hint("known types: %s", strings.Join(knownTypes, ", "))
			case version != "1.0":
				v.add("DP209", t, posValue, "interface type %q: dockerd ignores the version and uses it as docker.%s (network and IPAM drivers are registered at enable only for /1.0)", t.str, capability).
					hint("write %q", "docker."+capability+"/1.0")
			}
			if seen[t.str] {
				v.add("DP208", t, posValue, "interface type %q is listed twice", t.str).hint("remove the duplicate")
			}
			seen[t.str] = true
		}
		if usable == 0 && len(types.stringElems()) > 0 {
			v.add("DP204", types, posValue, "no usable interface type: dockerd enables the plugin, but every use fails with \"plugin does not provide ... capability\"").
				hint("list the interface types the plugin implements, e.g. docker.volumedriver/1.0")
		}
	}
	sock := iface.get("Socket")
	if sock.isNull() {
		v.missing("DP101", iface, "Socket", "interface.socket is missing: dockerd has nothing to dial and enable fails").
			hint(`add "socket": "plugin.sock" and have the plugin listen on /run/docker/plugins/plugin.sock`)
	} else if s, ok := sock.strVal(); ok {
		switch {
		case s == "":
			v.add("DP101", sock, posValue, "interface.socket is empty: dockerd has nothing to dial and enable fails").
				hint(`name the socket, e.g. "plugin.sock", and listen on /run/docker/plugins/plugin.sock`)
		case slices.Contains(strings.Split(s, "/"), ".."):
			v.add("DP206", sock, posValue, "interface.socket %q leaves the plugin's socket directory: dockerd dials /run/docker/plugins/<id>/%s, which the plugin cannot listen on", s, s).
				hint("use a file name such as %q and listen on /run/docker/plugins/%s", path.Base(s), path.Base(s))
		case strings.HasPrefix(path.Clean(s), "/run/docker/plugins/"):
			v.add("DP206", sock, posValue, "interface.socket %q is the full path as seen by the plugin: dockerd dials /run/docker/plugins/<id>%s instead", s, s).
				hint("write just the file name, %q", path.Base(s))
		case strings.Contains(s, "/"):
			rel := strings.TrimLeft(s, "/")
			v.add("DP207", sock, posValue, "interface.socket %q is a path: dockerd dials /run/docker/plugins/<id>/%s, so the plugin must listen on /run/docker/plugins/%s", s, rel, rel).
				hint("use a plain file name such as %q", path.Base(s))
		}
	}
	if ps, ok := iface.get("ProtocolScheme").strVal(); ok && ps != "" && ps != plugin.ProtocolSchemeHTTP1 {
		v.add("DP205", iface.get("ProtocolScheme"), posValue, "interface.protocolscheme %q is unknown: dockerd's volume, network and log adapters refuse the plugin", ps).
			hint("remove it, or use %q", plugin.ProtocolSchemeHTTP1)
	}
}

// knownCapability reports whether c is the capability of one of
// knownTypes.
func knownCapability(c string) bool {
	for _, k := range knownTypes {
		if _, kc, _ := dockerdType(k); kc == c {
			return true
		}
	}
	return false
}

// dockerdType splits an interface type the way moby's
// PluginInterfaceType.UnmarshalJSON does: the version follows the first '/',
// the prefix ends at the last '.' before it. dockerd dispatches on prefix
// and capability only.
func dockerdType(s string) (prefix, capability, version string) {
	vi, pi := len(s), 0
loop:
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '.':
			pi = i
		case '/':
			vi = i
			break loop
		}
	}
	prefix = s[:pi]
	if pi+1 <= vi {
		capability = s[pi+1 : vi]
	}
	if vi < len(s) {
		version = s[vi+1:]
	}
	return prefix, capability, version
}

// closestType returns the known type nearest to s.
func closestType(s string) string {
	best, bestD := knownTypes[0], 1<<30
	for _, k := range knownTypes {
		if d := levenshtein(strings.ToLower(s), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func (v *run) checkProcess(root *node) {
	ep := root.get("Entrypoint")
	args := root.get("Args")
	var argv []*node
	if ep != nil && ep.kind == kArray {
		argv = ep.stringElems()
	}
	if len(argv) == 0 {
		hasArgs := false
		if args != nil && args.kind == kObject {
			hasArgs = len(args.get("Value").stringElems()) > 0
		}
		if !hasArgs && (ep.isNull() || ep.kind == kArray) {
			if ep.isNull() {
				v.missing("DP301", root, "Entrypoint", "entrypoint is missing: the plugin has nothing to run and fails at enable").
					hint(`add "entrypoint": ["/path/to/plugin-binary"]`)
			} else {
				v.add("DP301", ep, posValue, "entrypoint is empty: the plugin has nothing to run and fails at enable").
					hint(`add the plugin's binary, e.g. ["/path/to/plugin-binary"]`)
			}
		}
	} else if a0 := argv[0]; a0.str == "" {
		v.add("DP301", a0, posValue, "entrypoint[0] is empty: there is no program to run").
			hint("put the absolute path of the plugin binary first")
	} else if strings.Contains(a0.str, "/") && !path.IsAbs(a0.str) {
		v.add("DP302", a0, posValue, "entrypoint[0] %q is a relative path: it is resolved against workdir, not looked up in PATH", a0.str).
			hint("use an absolute path")
	}
	if wd, ok := root.get("WorkDir").strVal(); ok && wd != "" && !path.IsAbs(wd) {
		v.add("DP303", root.get("WorkDir"), posValue, "workdir %q is not an absolute path: runc refuses to start the plugin", wd).
			hint("use %q", "/"+wd)
	}
	if pm, ok := root.get("PropagatedMount").strVal(); ok && pm != "" && !path.IsAbs(pm) {
		v.add("DP304", root.get("PropagatedMount"), posValue, "propagatedMount %q is not an absolute path: dockerd enables the plugin, but volumes it serves then fail to mount (dockerd looks for them inside the rootfs)", pm).
			hint("use %q", "/"+pm)
	}
}

// checkMounts applies the mount rules to config or settings mounts.
func (v *run) checkMounts(mounts *node) {
	for _, m := range mounts.objElems() {
		dest := m.get("Destination")
		if d, ok := dest.strVal(); dest.isNull() || (ok && d == "") {
			v.missingOr("DP305", m, dest, "Destination", "mount has no destination: runc cannot mount it").
				hint("set an absolute destination inside the plugin, e.g. /mnt/state")
		} else if ok && !path.IsAbs(d) {
			v.add("DP311", dest, posValue, "mount destination %q is not an absolute path: runc mounts it at %q and warns that relative destinations will stop working", d, "/"+d).
				hint("use %q", "/"+d)
		}
		src := m.get("Source")
		if src.isNull() {
			d := v.missingOr("DP306", m, src, "Source", "mount has no source: dockerd fails at enable with \"mount source is not specified\"")
			if settableHas(m.get("Settable"), "source") {
				d.hint("set a default source: users can then change it with `docker plugin set PLUGIN %s.source=/path` (dockerd refuses to set a null source: \"Plugin config has no mount source\")", mountName(m))
			} else {
				d.hint("set \"source\" to the host path to mount")
			}
		}
		typ, _ := m.get("Type").strVal()
		bind := typ == "bind"
		for _, o := range m.get("Options").stringElems() {
			if o.str == "bind" || o.str == "rbind" {
				bind = true
			}
		}
		if s, ok := src.strVal(); ok && bind {
			settable := settableHas(m.get("Settable"), "source")
			at, _ := dest.strVal()
			switch {
			case s == "" && settable:
				v.add("DP313", src, posValue, "settable bind mount %q has an empty source: set it at install; left unset, dockerd binds runc's bundle directory at %s", mountName(m), at).
					hint("`docker plugin set PLUGIN %[1]s.source=/host/path` or `dplug install REF %[1]s.source=/host/path`", mountName(m))
			case s == "":
				v.add("DP314", src, posValue, "bind mount at %s has an empty source that cannot be set: dockerd binds runc's bundle directory there", at).
					hint(`set "source" to the host path to mount, or make it settable with "settable": ["source"]`)
			case !path.IsAbs(s):
				how := ""
				if src.set {
					how = " (set at install)"
				}
				v.add("DP312", src, posValue, "bind mount source %q%s is not an absolute path: runc resolves it against its bundle directory, so the mount fails or binds the wrong thing", s, how).
					hint("use the absolute host path")
			}
		}
		if typ == "" {
			if !bind {
				at := m.get("Type")
				if at == nil {
					at = m
				}
				v.add("DP307", at, posKey, "mount has no type and no bind or rbind option: mount(2) fails when the plugin starts").
					hint(`set "type": "bind" and "options": ["rbind"] for a bind mount`)
			}
		}
		v.checkSettable(m.get("Settable"), "source", "mount")
	}
}

// mountName is the name `docker plugin set` addresses entry m (a mount or a
// device) by.
func mountName(m *node) string {
	if n, ok := m.get("Name").strVal(); ok && n != "" {
		return n
	}
	return "NAME"
}

// missingOr reports at n when the field is present (null), else as missing
// from parent.
func (v *run) missingOr(rule string, parent, n *node, name, msg string) dref {
	if n != nil {
		return v.add(rule, n, posKey, "%s", msg)
	}
	return v.missing(rule, parent, name, "%s", msg)
}

func settableHas(s *node, field string) bool {
	for _, e := range s.stringElems() {
		if e.str == field {
			return true
		}
	}
	return false
}

// checkSettable: dockerd's `set` compares field names exactly, and each
// kind of entry has exactly one settable field.
func (v *run) checkSettable(s *node, allowed, what string) {
	seen := false
	for _, e := range s.stringElems() {
		switch {
		case e.str == allowed && seen:
			v.add("DP402", e, posValue, "%q is listed twice in settable: `docker plugin set NAME=V` then fails with \"multiple fields are settable, one must be specified\"", e.str).
				hint("list it once")
		case e.str == allowed:
			seen = true
		case strings.EqualFold(e.str, allowed):
			v.add("DP401", e, posValue, "settable field %q must be lowercase %q: dockerd compares it exactly, so `docker plugin set` answers \"is not settable\"", e.str, allowed).
				hint("write %q", allowed)
		default:
			v.add("DP401", e, posValue, "%q cannot be settable on %s: only %q can", e.str, what, allowed).
				hint(`the settable fields are env and args "value", mounts "source", devices "path"`)
		}
	}
}

// checkSettableNames finds settable entries `docker plugin set NAME=V`
// cannot reach: set looks NAME up in env, then mounts, then devices, then
// args, and stops at the first entry of that name.
func (v *run) checkSettableNames(root *node) {
	type entry struct {
		n        *node
		kind     string
		name     string
		settable bool
	}
	var entries []entry
	add := func(n *node, kind string) {
		name, _ := n.get("Name").strVal()
		s := n.get("Settable")
		entries = append(entries, entry{n, kind, name, s != nil && len(s.stringElems()) > 0})
	}
	for _, e := range root.get("Env").objElems() {
		add(e, "env")
	}
	for _, m := range root.get("Mounts").objElems() {
		add(m, "mount")
	}
	if linux := root.get("Linux"); linux != nil {
		for _, d := range linux.get("Devices").objElems() {
			add(d, "device")
		}
	}
	if args := root.get("Args"); args != nil && args.kind == kObject {
		add(args, "args")
	}
	first := map[string]entry{}
	for _, e := range entries {
		prev, seen := first[e.name]
		switch {
		case !e.settable:
		case e.name == "":
			v.add("DP406", e.n, posKey, "settable %s has no name: `docker plugin set` cannot address it", e.kind).
				hint(`give it a "name"`)
		case seen && !(prev.kind == "env" && e.kind == "env"):
			v.add("DP406", e.n, posKey, "settable %s %q cannot be set: `docker plugin set %s=...` finds the %s of that name first", e.kind, e.name, e.name, prev.kind).
				hint("give it a unique name")
		}
		if !seen {
			first[e.name] = e
		}
	}
}

func (v *run) checkDevices(devs *node) {
	for _, d := range devs.objElems() {
		p := d.get("Path")
		if s, ok := p.strVal(); ok && s == "" && settableHas(d.get("Settable"), "path") {
			v.add("DP313", p, posValue, "settable device %q has an empty path: set it at install, or enabling the plugin fails", mountName(d)).
				hint("`docker plugin set PLUGIN %[1]s.path=/dev/NODE` or `dplug install REF %[1]s.path=/dev/NODE`", mountName(d))
		} else if p.isNull() || (ok && s == "") {
			v.missingOr("DP309", d, p, "Path", "device has no path: dockerd cannot create it when it enables the plugin").
				hint(`set "path", e.g. "/dev/fuse"`)
		} else if ok && !path.IsAbs(s) {
			v.add("DP310", p, posValue, "device path %q is not an absolute path: dockerd resolves it against its own working directory, so enable fails unless that is /", s).
				hint("use the host path of the device node, e.g. %q", "/dev/"+path.Base(s))
		}
		v.checkSettable(d.get("Settable"), "path", "a device")
	}
}

func (v *run) checkEnv(env *node) {
	names := map[string]*node{}
	for _, e := range env.objElems() {
		nameNode := e.get("Name")
		name, ok := nameNode.strVal()
		switch {
		case !nameNode.isNull() && !ok:
			// a wrong type: the schema reports it
		case (!ok || name == "") && !e.get("Value").isNull():
			at := nameNode
			if at == nil {
				at = e
			}
			v.add("DP407", at, posKey, "env entry has a value but no name: runc refuses the environment entry \"=value\" and the plugin cannot be enabled").
				hint(`give it a "name"`)
		case !ok || name == "":
			at := nameNode
			if at == nil {
				at = e
			}
			v.add("DP404", at, posKey, "env entry has no name and no value: it never reaches the plugin").
				hint(`give it a "name" and a "value", or remove it`)
		case strings.Contains(name, "="):
			v.add("DP405", nameNode, posValue, "env name %q contains '=': the plugin sees another variable than written (runc splits NAME=value at the first '=')", name).
				hint("use a plain variable name")
		case strings.ContainsAny(name, " \t\n\r"):
			v.add("DP408", nameNode, posValue, "env name %q contains whitespace: the plugin gets it, but shells and most programs cannot read such a variable", name).
				hint("use a plain variable name")
		}
		if ok && name != "" {
			if prev := names[name]; prev != nil {
				v.add("DP403", nameNode, posValue, "env %q is declared twice (first at %s): the plugin sees only the last value", name, v.where(prev.off)).
					hint("remove one")
			} else {
				names[name] = nameNode
			}
		}
		if ok && name != "" && e.get("Value").isNull() && !settableHas(e.get("Settable"), "value") {
			at := nameNode
			if at == nil {
				at = e
			}
			v.add("DP404", at, posValue, "env %q has no value and is not settable: it never reaches the plugin", name).
				hint(`give it a "value", or make it settable with "settable": ["value"]`)
		}
		v.checkSettable(e.get("Settable"), "value", "env")
	}
}

func (v *run) checkCapabilities(caps *node) {
	seen := map[string]bool{}
	for _, c := range caps.stringElems() {
		norm := strings.ToUpper(strings.TrimSpace(c.str))
		if !strings.HasPrefix(norm, "CAP_") {
			norm = "CAP_" + norm
		}
		known := slices.Contains(capabilities, norm)
		switch {
		case !known:
			d := v.add("DP501", c, posValue, "%q is not a Linux capability: runc before 1.0 refuses to start the plugin, later runc silently drops it", c.str)
			if s := closestCap(norm); s != "" {
				d.hint("did you mean %q?", s)
			} else {
				d.hint("see capabilities(7)")
			}
		case c.str != norm:
			v.add("DP502", c, posValue, "capability %q is not in CAP_NAME form: runc does not recognise it (it drops it, or before 1.0 refuses it), so the plugin does not get it", c.str).
				hint("write %q", norm)
		}
		if seen[norm] {
			v.add("DP503", c, posValue, "capability %q is listed twice", c.str).hint("remove the duplicate")
		}
		seen[norm] = true
	}
}

func closestCap(s string) string {
	best, bestD := "", 3
	for _, c := range capabilities {
		if d := levenshtein(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// capabilities is every Linux capability (capabilities(7), up to
// CAP_CHECKPOINT_RESTORE, Linux 5.9), as runc names them.
var capabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// shorten abbreviates a long literal for a message.
func shorten(s string) string {
	if len(s) <= maxNumberLen {
		return s
	}
	return fmt.Sprintf("%s... (%d characters)", s[:16], len(s))
}

// checkSettings applies the rules that make sense to plugin-settings.json.
func (v *run) checkSettings(root *node) {
	for _, e := range root.get("Env").stringElems() {
		if i := strings.IndexByte(e.str, '='); i <= 0 {
			v.add("DP701", e, posValue, "settings env entry %q is not NAME=value", e.str).
				hint("write it as NAME=value")
		}
	}
	v.checkMounts(root.get("Mounts"))
	v.checkDevices(root.get("Devices"))
}
