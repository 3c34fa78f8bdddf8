package validate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dplug/dplug/plugin"
)

// marker marks, in a test input, where each expected diagnostic is located;
// markers are removed before validation.
const marker = "▶"

// cfg is a minimal valid config with extra members appended.
func cfg(extra string) string {
	return `{"description": "d", "documentation": "https://d", "entrypoint": ["/p"], ` +
		`"interface": {"types": ["docker.volumedriver/1.0"], "socket": "p.sock"}` + extra + `}`
}

// noEP is a minimal valid config without an entrypoint, plus extra members.
func noEP(extra string) string {
	return `{"description": "d", "documentation": "https://d", ` +
		`"interface": {"types": ["docker.volumedriver/1.0"], "socket": "p.sock"}` + extra + `}`
}

// iface is a config with the given interface body.
func iface(body string) string {
	return `{"description": "d", "documentation": "https://d", "entrypoint": ["/p"], "interface": {` + body + `}}`
}

type tcase struct {
	name  string
	file  string // default config.json
	in    string
	opts  []Option
	rules []string // expected rule IDs, in position order
	at    []string // explicit positions ("line:col"), when the input has no markers
}

// cases are the table tests: each asserts the exact rules and where they
// are reported. Every rule in Rules is triggered by at least one of them
// (TestEveryRuleTested).
var cases = []tcase{
	// Valid configs.
	{name: "minimal", in: cfg("")},
	{name: "canonical case", in: `{"Description": "d", "Documentation": "https://d", "Entrypoint": ["/p"], ` +
		`"Interface": {"Types": ["docker.volumedriver/1.0"], "Socket": "p.sock", "ProtocolScheme": "moby.plugins.http/v1"}, ` +
		`"PropagatedMount": "/mnt/volumes", "WorkDir": "/", "IpcHost": false, "PidHost": false, "User": {}, ` +
		`"Network": {"Type": "host"}, "Linux": {"Capabilities": ["CAP_SYS_ADMIN"], "AllowAllDevices": false, "Devices": null}}`},
	{name: "lower camel case as in the docs", in: cfg(`, "propagatedMount": "/mnt/v", "workDir": "/", "ipcHost": true, "pidHost": true, "linux": {"allowAllDevices": true}`)},
	{name: "all lowercase", in: cfg(`, "propagatedmount": "/mnt/v", "workdir": "/srv", "ipchost": true, "pidhost": true, "linux": {"allowalldevices": true}`)},
	{name: "nulls everywhere dockerd accepts them", in: cfg(`, "args": {"name": null, "description": null, "settable": null, "value": null}, ` +
		`"linux": {"capabilities": null, "devices": null, "allowAllDevices": null}, "mounts": null, "env": null, "user": null, "network": null, "workdir": null`)},
	{name: "settable env without value", in: cfg(`, "env": [{"name": "TOKEN", "settable": ["value"]}]`)},
	{name: "network none", in: cfg(`, "network": {"type": "none"}`)},
	{name: "network empty", in: cfg(`, "network": {"type": ""}`)},
	{name: "$schema key for editors", in: `{"$schema": "https://github.com/dplug/dplug/schemas/plugin-config.schema.json", ` + cfg("")[1:]},
	{name: "all known interface types", in: iface(`"socket": "p.sock", "types": ["docker.volumedriver/1.0", "docker.networkdriver/1.0", "docker.ipamdriver/1.0", ` +
		`"docker.authz/1.0", "docker.logdriver/1.0", "docker.metricscollector/1.0", "docker.csicontroller/1.0", "docker.csinode/1.0", "docker.secretprovider/1.0"]`)},
	{name: "bind mount with settable source", in: cfg(`, "mounts": [{"name": "state", "source": "/var/lib/x", "destination": "/state", "type": "bind", "options": ["rbind"], "settable": ["source"]}]`)},
	{name: "type none mount with bind option", in: cfg(`, "mounts": [{"source": "/etc", "destination": "/etc", "type": "none", "options": ["bind", "ro"]}]`)},
	{name: "tmpfs mount with relative source", in: cfg(`, "mounts": [{"source": "tmpfs", "destination": "/tmp", "type": "tmpfs"}]`)},
	{name: "entrypoint looked up in PATH", in: `{"description": "d", "documentation": "d", "entrypoint": ["python", "-m", "x"], "interface": {"types": ["docker.authz/1.0"], "socket": "a.sock"}}`},
	{name: "args instead of entrypoint", in: `{"description": "d", "documentation": "d", "args": {"value": ["/p", "-v"]}, "interface": {"types": ["docker.authz/1.0"], "socket": "a.sock"}}`},
	{name: "user zero", in: cfg(`, "user": {"uid": 0, "gid": 0}`)},
	{name: "escaped key decodes to a known field", in: cfg(`, "\u0077orkdir": "/srv"`)},
	{name: "valid settings", file: "plugin-settings.json", in: `{"Env": ["DEBUG=1", "EMPTY="], "Args": ["-v"], "Mounts": [{"Source": "/data", "Destination": "/data", "Type": "bind", "Options": ["rbind"]}], "Devices": [{"Path": "/dev/fuse"}]}`},
	{name: "settings forced by kind", file: "whatever.json", opts: []Option{WithKind(KindSettings)}, in: `{"Env": ["A=1"]}`},

	// Malformed JSON and the file itself.
	{name: "trailing comma in object", in: `{"description": "d"` + "\n" + `, "documentation": "x",` + "\n" + marker + `}`, rules: []string{"DP001"}},
	{name: "trailing comma in array", in: cfg(`, "entrypoint": ["/p", ` + marker + `]`), rules: []string{"DP001"}},
	{name: "truncated", in: `{"description": "d",` + "\n" + `  "interface": {"types": [` + marker, rules: []string{"DP001"}},
	{name: "truncated string", in: `{"description": "d` + marker, rules: []string{"DP001"}},
	{name: "garbage after value", in: cfg("") + "\n" + marker + "x", rules: []string{"DP001"}},
	{name: "binary garbage", in: marker + "\x00\x01\x02\xff", rules: []string{"DP001"}},
	{name: "empty file", in: marker, rules: []string{"DP001"}},
	{name: "comment line", in: "{\n  " + marker + "# comment\n}", rules: []string{"DP001"}},
	{name: "single quotes", in: "{" + marker + "'a': 1}", rules: []string{"DP001"}},
	{name: "control character in string", in: `{"description": "a` + marker + "\t" + `"}`, rules: []string{"DP001"}},
	{name: "bad escape", in: `{"description": "a\` + marker + `x"}`, rules: []string{"DP001"}},
	{name: "leading zero", in: `{"user": {"uid": 0` + marker + `1}}`, rules: []string{"DP001"}},
	{name: "BOM", in: marker + "\uFEFF" + cfg(""), rules: []string{"DP002"}},
	{name: "too large", in: cfg(""), opts: []Option{WithMaxSize(16)}, rules: []string{"DP003"}, at: []string{"0:0"}},
	{name: "deeply nested", in: cfg(`, "x": ` + strings.Repeat("[", maxDepth-1) + marker + strings.Repeat("[", 5)), rules: []string{"DP005"}},
	{name: "duplicate key", in: `{` + marker + `"description": "a", "Description": "b", "documentation": "d", "entrypoint": ["/p"], "interface": {"types": ["docker.volumedriver/1.0"], "socket": "p.sock"}}`, rules: []string{"DP004"}},

	// Keys and schema.
	{name: "wrong type bool", in: cfg(`, "ipchost": ` + marker + `"yes"`), rules: []string{"DP100"}},
	{name: "wrong type array", in: noEP(`, "entrypoint": ` + marker + `"/p"`), rules: []string{"DP100"}},
	{name: "wrong type in env value", in: cfg(`, "env": [{"name": "A", "value": ` + marker + `1}]`), rules: []string{"DP100"}},
	{name: "uid out of range", in: cfg(`, ` + marker + `"user": {"uid": ` + marker + `-1}`), rules: []string{"DP601", "DP100"}},
	{name: "document is an array", in: marker + `[]`, rules: []string{"DP100"}},
	{name: "document is a string", in: marker + `"config"`, rules: []string{"DP100"}},
	{name: "document is null", in: marker + `null`, rules: []string{"DP007"}},
	{name: "document is an empty object", in: marker + `{}`, rules: []string{"DP007"}},
	{name: "document has only unknown keys", in: marker + `{"name": "x", "version": 1}`, rules: []string{"DP007"}},
	{name: "image config", in: marker + `{"architecture": "amd64", "os": "linux", "config": {"Entrypoint": ["/p"]}, "rootfs": {"type": "layers", "diff_ids": ["sha256:0"]}}`, rules: []string{"DP007"}},
	{name: "image config with a type error keeps DP100", in: marker + `{"architecture": "amd64", "rootfs": {"type": "layers", "diff_ids": ` + marker + `"x"}}`, rules: []string{"DP007", "DP100"}},
	{name: "settings null is fine", file: "plugin-settings.json", in: `null`},
	{name: "settings empty object is fine", file: "plugin-settings.json", in: `{}`},
	{name: "interface type not a string", in: iface(`"socket": "p.sock", "types": [` + marker + `null]`), rules: []string{"DP100"}},
	{name: "missing interface", in: marker + `{"description": "d", "documentation": "d", "entrypoint": ["/p"]}`, rules: []string{"DP101"}},
	{name: "missing socket", in: `{"description": "d", "documentation": "d", "entrypoint": ["/p"], ` + marker + `"interface": {"types": ["docker.authz/1.0"]}}`, rules: []string{"DP101"}},
	{name: "empty socket", in: iface(`"types": ["docker.authz/1.0"], "socket": ` + marker + `""`), rules: []string{"DP101"}},
	{name: "missing types", in: `{"description": "d", "documentation": "d", "entrypoint": ["/p"], ` + marker + `"interface": {"socket": "a.sock"}}`, rules: []string{"DP101"}},
	{name: "missing description and documentation", in: marker + marker + `{"entrypoint": ["/p"], "interface": {"types": ["docker.authz/1.0"], "socket": "a.sock"}}`, rules: []string{"DP102", "DP102"}},
	{name: "null description", in: `{` + marker + `"description": null, "documentation": "d", "entrypoint": ["/p"], "interface": {"types": ["docker.authz/1.0"], "socket": "a.sock"}}`, rules: []string{"DP102"}},
	{name: "unknown key with suggestion", in: cfg(`, ` + marker + `"entrypiont": ["/p"]`), rules: []string{"DP103"}},
	{name: "unknown nested key", in: cfg(`, "linux": {` + marker + `"namespaces": []}`), rules: []string{"DP103"}},
	{name: "socket at top level", in: cfg(`, ` + marker + `"socket": "x.sock"`), rules: []string{"DP103"}},
	{name: "manifestVersion", in: cfg(`, ` + marker + `"manifestVersion": "v0"`), rules: []string{"DP103"}},
	{name: "shouting key", in: cfg(`, ` + marker + `"WORKDIR": "/"`), rules: []string{"DP104"}},
	{name: "odd camel key", in: cfg(`, ` + marker + `"Propagatedmount": "/mnt"`), rules: []string{"DP104"}},
	{name: "settable null element", in: cfg(`, "env": [{"name": "A", "value": "1", "settable": [` + marker + `null]}]`), rules: []string{"DP105"}},
	{name: "1.12 capabilities", in: cfg(`, ` + marker + `"capabilities": ["CAP_SYS_ADMIN"]`), rules: []string{"DP106"}},
	{name: "1.12 devices", in: cfg(`, ` + marker + `"Devices": [{"path": "/dev/fuse"}]`), rules: []string{"DP107"}},
	{name: "engine fields", in: cfg(`, ` + marker + `"DockerVersion": "20.10.24", ` + marker + `"rootfs": {"type": "layers", "diff_ids": []}`), rules: []string{"DP108", "DP108"}},

	// Interface.
	{name: "malformed type alone", in: iface(`"socket": "p.sock", "types": ` + marker + `[` + marker + `"weird"]`), rules: []string{"DP204", "DP201"}},
	{name: "malformed type beside a valid one", in: iface(`"socket": "p.sock", "types": [` + marker + `"weird", "docker.volumedriver/1.0"]`), rules: []string{"DP201"}},
	{name: "type with an empty version works", in: iface(`"socket": "p.sock", "types": [` + marker + `"docker.volumedriver/"]`), rules: []string{"DP209"}},
	{name: "type without a slash works", in: iface(`"socket": "p.sock", "types": [` + marker + `"docker.volumedriver"]`), rules: []string{"DP209"}},
	{name: "type with another version works", in: iface(`"socket": "p.sock", "types": [` + marker + `"docker.volumedriver/2.0"]`), rules: []string{"DP209"}},
	{name: "foreign prefix alone", in: iface(`"socket": "p.sock", "types": ` + marker + `[` + marker + `"acme.volumedriver/1.0"]`), rules: []string{"DP204", "DP202"}},
	{name: "foreign prefix beside a valid type", in: iface(`"socket": "p.sock", "types": ["docker.authz/1.0", ` + marker + `"acme.volumedriver/1.0"]`), rules: []string{"DP202"}},
	{name: "unknown docker capability alone", in: iface(`"socket": "p.sock", "types": ` + marker + `[` + marker + `"docker.storage/1.0"]`), rules: []string{"DP204", "DP203"}},
	{name: "unknown docker capability beside a valid type", in: iface(`"socket": "p.sock", "types": [` + marker + `"docker.storage/1.0", "docker.volumedriver/2.0"]`), rules: []string{"DP203", "DP209"}, at: []string{"1:118", "1:140"}},
	{name: "empty types", in: iface(`"socket": "p.sock", "types": ` + marker + `[]`), rules: []string{"DP204"}},
	{name: "unknown protocol scheme", in: iface(`"socket": "p.sock", "types": ["docker.authz/1.0"], "protocolscheme": ` + marker + `"grpc"`), rules: []string{"DP205"}},
	{name: "socket is an absolute path", in: iface(`"types": ["docker.authz/1.0"], "socket": ` + marker + `"/run/docker/plugins/a.sock"`), rules: []string{"DP206"}},
	{name: "socket escapes", in: iface(`"types": ["docker.authz/1.0"], "socket": ` + marker + `"../a.sock"`), rules: []string{"DP206"}},
	{name: "socket with a leading slash", in: iface(`"types": ["docker.authz/1.0"], "socket": ` + marker + `"/a.sock"`), rules: []string{"DP207"}},
	{name: "socket in subdirectory", in: iface(`"types": ["docker.authz/1.0"], "socket": ` + marker + `"sub/a.sock"`), rules: []string{"DP207"}},
	{name: "duplicate type", in: iface(`"socket": "p.sock", "types": ["docker.authz/1.0", ` + marker + `"docker.authz/1.0"]`), rules: []string{"DP208"}},

	// Process, paths, mounts, devices.
	{name: "no entrypoint", in: marker + `{"description": "d", "documentation": "d", "interface": {"types": ["docker.authz/1.0"], "socket": "a.sock"}}`, rules: []string{"DP301"}},
	{name: "empty entrypoint", in: noEP(`, "entrypoint": ` + marker + `[]`), rules: []string{"DP301"}},
	{name: "empty program", in: noEP(`, "entrypoint": [` + marker + `""]`), rules: []string{"DP301"}},
	{name: "relative entrypoint", in: noEP(`, "entrypoint": [` + marker + `"./plugin"]`), rules: []string{"DP302"}},
	{name: "relative workdir", in: cfg(`, "workdir": ` + marker + `"srv"`), rules: []string{"DP303"}},
	{name: "relative propagatedMount", in: cfg(`, "propagatedMount": ` + marker + `"mnt/volumes"`), rules: []string{"DP304"}},
	{name: "mount without destination", in: cfg(`, "mounts": [` + marker + `{"source": "/a", "type": "bind", "options": ["rbind"]}]`), rules: []string{"DP305"}},
	{name: "mount without source", in: cfg(`, "mounts": [` + marker + `{"destination": "/a", "type": "bind", "options": ["rbind"]}]`), rules: []string{"DP306"}},
	{name: "settable mount with null source", in: cfg(`, "mounts": [{"name": "state", ` + marker + `"source": null, "destination": "/a", "type": "bind", "settable": ["source"]}]`), rules: []string{"DP306"}},
	{name: "mount without type or bind", in: cfg(`, "mounts": [` + marker + `{"source": "/a", "destination": "/a", "options": ["ro"]}]`), rules: []string{"DP307"}},
	{name: "device without path", in: cfg(`, "linux": {"devices": [` + marker + `{"name": "fuse"}]}`), rules: []string{"DP309"}},
	{name: "relative device path", in: cfg(`, "linux": {"devices": [{"path": ` + marker + `"dev/fuse"}]}`), rules: []string{"DP310"}},
	{name: "relative mount destination", in: cfg(`, "mounts": [{"source": "/a", "destination": ` + marker + `"a", "type": "bind"}]`), rules: []string{"DP311"}},
	{name: "relative bind source", in: cfg(`, "mounts": [{"source": ` + marker + `"data", "destination": "/data", "type": "bind"}]`), rules: []string{"DP312"}},
	{name: "relative source with rbind and no type", in: cfg(`, "mounts": [{"source": ` + marker + `"data", "destination": "/data", "options": ["rbind"]}]`), rules: []string{"DP312"}},
	{name: "relative source with bind and type none", in: cfg(`, "mounts": [{"source": ` + marker + `"data", "destination": "/data", "type": "none", "options": ["ro", "bind"]}]`), rules: []string{"DP312"}},
	{name: "settable empty bind source (sshfs sshkey)", in: cfg(`, "mounts": [{"name": "sshkey", "source": ` + marker + `"", "destination": "/root/.ssh", "type": "bind", "options": ["rbind"], "settable": ["source"]}]`), rules: []string{"DP313"}},
	{name: "empty bind source not settable", in: cfg(`, "mounts": [{"source": ` + marker + `"", "destination": "/x", "options": ["rbind"]}]`), rules: []string{"DP314"}},
	{name: "empty source of a tmpfs is fine", in: cfg(`, "mounts": [{"source": "", "destination": "/x", "type": "tmpfs"}]`)},
	{name: "relative device path", in: cfg(`, "linux": {"devices": [{"path": ` + marker + `"fuse"}]}`), rules: []string{"DP310"}},

	// Settable and env.
	{name: "env settable source", in: cfg(`, "env": [{"name": "A", "value": "1", "settable": [` + marker + `"source"]}]`), rules: []string{"DP401"}},
	{name: "settable Value capitalised", in: cfg(`, "env": [{"name": "A", "value": "1", "settable": [` + marker + `"Value"]}]`), rules: []string{"DP401"}},
	{name: "mount settable destination", in: cfg(`, "mounts": [{"name": "m", "source": "/a", "destination": "/a", "type": "bind", "settable": [` + marker + `"destination"]}]`), rules: []string{"DP401"}},
	{name: "device settable name", in: cfg(`, "linux": {"devices": [{"name": "fuse", "path": "/dev/fuse", "settable": [` + marker + `"name"]}]}`), rules: []string{"DP401"}},
	{name: "args settable name", in: cfg(`, "args": {"name": "args", "value": [], "settable": [` + marker + `"name"]}`), rules: []string{"DP401"}},
	{name: "settable twice", in: cfg(`, "env": [{"name": "A", "value": "1", "settable": ["value", ` + marker + `"value"]}]`), rules: []string{"DP402"}},
	{name: "duplicate env", in: cfg(`, "env": [{"name": "A", "value": "1"}, {"name": ` + marker + `"A", "value": "2"}]`), rules: []string{"DP403"}},
	{name: "env never set", in: cfg(`, "env": [{"name": ` + marker + `"A"}]`), rules: []string{"DP404"}},
	{name: "env without name", in: cfg(`, "env": [` + marker + `{"value": "1"}]`), rules: []string{"DP407"}},
	{name: "env with an empty name", in: cfg(`, "env": [{` + marker + `"name": "", "value": "1"}]`), rules: []string{"DP407"}},
	{name: "env without name nor value", in: cfg(`, "env": [` + marker + `{"description": "x"}]`), rules: []string{"DP404"}},
	{name: "duplicate settable env is not DP406", in: cfg(`, "env": [{"name": "A", "value": "1", "settable": ["value"]}, {"name": ` + marker + `"A", "value": "2", "settable": ["value"]}]`), rules: []string{"DP403"}},
	{name: "env name with =", in: cfg(`, "env": [{"name": ` + marker + `"A=B", "value": "1"}]`), rules: []string{"DP405"}},
	{name: "env name with a space", in: cfg(`, "env": [{"name": ` + marker + `"A B", "value": "1"}]`), rules: []string{"DP408"}},

	{name: "settable mount without name", in: cfg(`, "mounts": [` + marker + `{"source": "/a", "destination": "/a", "type": "bind", "settable": ["source"]}]`), rules: []string{"DP406"}},
	{name: "settable mount shadowed by env", in: cfg(`, "env": [{"name": "data", "value": "1"}], "mounts": [` + marker + `{"name": "data", "source": "/a", "destination": "/a", "type": "bind", "settable": ["source"]}]`), rules: []string{"DP406"}},
	{name: "settable args shadowed by device", in: cfg(`, "linux": {"devices": [{"name": "x", "path": "/dev/fuse"}]}, ` + marker + `"args": {"name": "x", "value": [], "settable": ["value"]}`), rules: []string{"DP406"}},

	// Capabilities.
	{name: "unknown capability", in: cfg(`, "linux": {"capabilities": [` + marker + `"CAP_SYS_ADMN"]}`), rules: []string{"DP501"}},
	{name: "capability without prefix", in: cfg(`, "linux": {"capabilities": [` + marker + `"NET_ADMIN", ` + marker + `"cap_net_raw"]}`), rules: []string{"DP502", "DP502"}},
	{name: "capability twice", in: cfg(`, "linux": {"capabilities": ["CAP_NET_ADMIN", ` + marker + `"CAP_NET_ADMIN"]}`), rules: []string{"DP503"}},
	{name: "capability twice in different spellings", in: cfg(`, "linux": {"capabilities": ["CAP_NET_ADMIN", ` + marker + marker + `"net_admin"]}`), rules: []string{"DP502", "DP503"}},

	// Ignored things.
	{name: "user", in: cfg(`, ` + marker + `"user": {"uid": 1000, "gid": 1000}`), rules: []string{"DP601"}},
	{name: "network bridge", in: cfg(`, "network": {"type": ` + marker + `"bridge"}`), rules: []string{"DP602"}},

	// Settings.
	{name: "settings env without =", file: "plugin-settings.json", in: `{"Env": [` + marker + `"DEBUG"]}`, rules: []string{"DP701"}},
	{name: "settings env without name", file: "plugin-settings.json", in: `{"Env": [` + marker + `"=x"]}`, rules: []string{"DP701"}},
	{name: "settings mount without source", file: "plugin-settings.json", in: `{"Mounts": [` + marker + `{"Destination": "/a", "Type": "bind"}]}`, rules: []string{"DP306"}},
	{name: "settings device without path", file: "plugin-settings.json", in: `{"Devices": [{` + marker + `"Path": null}]}`, rules: []string{"DP309"}},
	{name: "settings wrong type", file: "plugin-settings.json", in: `{"Args": ` + marker + `"-v"}`, rules: []string{"DP100"}},
	{name: "settings unknown key", file: "plugin-settings.json", in: `{` + marker + `"Enabled": true}`, rules: []string{"DP103"}},
}

// prepare removes the markers and returns the input and their positions.
func (tc tcase) prepare() (string, []string) {
	var pos []string
	line, col := 1, 1
	var b strings.Builder
	in := tc.in
	for len(in) > 0 {
		if strings.HasPrefix(in, marker) {
			pos = append(pos, fmt.Sprintf("%d:%d", line, col))
			in = in[len(marker):]
			continue
		}
		c := in[0]
		b.WriteByte(c)
		in = in[1:]
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	if tc.at != nil {
		pos = tc.at
	}
	return b.String(), pos
}

func (tc tcase) fileName() string {
	if tc.file == "" {
		return "config.json"
	}
	return tc.file
}

func TestTable(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, pos := tc.prepare()
			if len(pos) != len(tc.rules) {
				t.Fatalf("test case has %d markers for %d rules", len(pos), len(tc.rules))
			}
			var want []string
			for i, r := range tc.rules {
				want = append(want, r+"@"+pos[i])
			}
			diags := Bytes(tc.fileName(), []byte(in), tc.opts...)
			var got []string
			for _, d := range diags {
				got = append(got, fmt.Sprintf("%s@%d:%d", d.Rule, d.Line, d.Column))
				if d.File != tc.fileName() || d.Message == "" || d.Severity != severityOf(d.Rule, makeOptions(tc.opts).aud) {
					t.Errorf("malformed diagnostic %+v", d)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				for _, d := range diags {
					t.Log(d)
				}
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEveryRuleTested fails when a rule is never triggered by a test, so
// removing a rule's code (or adding a rule without a test) is caught.
func TestEveryRuleTested(t *testing.T) {
	tested := map[string]bool{"DP006": len(unreadableDiags(t)) > 0}
	for _, tc := range cases {
		for _, r := range tc.rules {
			tested[r] = true
		}
	}
	for _, r := range Rules {
		if !tested[r.ID] {
			t.Errorf("rule %s (%s) has no test case", r.ID, r.Summary)
		}
	}
	for id := range tested {
		if !slices.ContainsFunc(Rules, func(r Rule) bool { return r.ID == id }) {
			t.Errorf("tests expect rule %s, which is not in Rules", id)
		}
	}
}

func TestRulesSortedAndUnique(t *testing.T) {
	for i := 1; i < len(Rules); i++ {
		if Rules[i-1].ID >= Rules[i].ID {
			t.Errorf("Rules not sorted/unique at %s, %s", Rules[i-1].ID, Rules[i].ID)
		}
	}
	for _, r := range Rules {
		if r.Summary == "" || r.Engine == "" || (r.Class != Refused && r.Class != Misleading && r.Class != Advice) {
			t.Errorf("rule %+v incomplete", r)
		}
	}
}

func TestHints(t *testing.T) {
	tests := []struct {
		in   string
		rule string
		hint string
	}{
		{cfg(`, "entrypiont": ["/p"]`), "DP103", `did you mean "Entrypoint"?`},
		{cfg(`, "socket": "x.sock"`), "DP103", `did you mean interface.socket?`},
		{cfg(`, "capabilities": []`), "DP106", `move it into "linux": {"capabilities": [...]}`},
		{cfg(`, "linux": {"capabilities": ["CAP_SYS_ADMN"]}`), "DP501", `did you mean "CAP_SYS_ADMIN"?`},
		{cfg(`, "linux": {"capabilities": ["sys_admin"]}`), "DP502", `write "CAP_SYS_ADMIN"`},
		{cfg(`, "mounts": [{"name": "state", "destination": "/a", "type": "bind", "settable": ["source"]}]`), "DP306",
			"set a default source: users can then change it with `docker plugin set PLUGIN state.source=/path` (dockerd refuses to set a null source: \"Plugin config has no mount source\")"},
		{iface(`"socket": "p.sock", "types": ["docker.authz/1.0", "acme.volumedriver/1.0"]`), "DP202", `did you mean "docker.volumedriver/1.0"?`},
		{`{"a": 1,}`, "DP001", "remove the comma before it"},
		{"{\n  # comment\n}", "DP001", "JSON has no comments: remove them"},
		{`{"a": 1 "b": 2}`, "DP001", "a comma is probably missing before this"},
		{`{"a": [1,`, "DP001", "the file ends too early: complete it"},
		{`{'a': 1}`, "DP001", "JSON strings and keys use double quotes"},
	}
	for _, tt := range tests {
		diags := Bytes("config.json", []byte(tt.in))
		if len(diags) != 1 || diags[0].Rule != tt.rule || diags[0].Hint != tt.hint {
			t.Errorf("Bytes(%s) = %v, want one %s with hint %q", tt.in, diags, tt.rule, tt.hint)
		}
	}
}

func TestPointers(t *testing.T) {
	in := cfg(`, "Env": [{"name": "A", "value": "1"}, {"name": "B", "value": 2}], "mounts": [{"destination": "/a", "type": "bind"}]`)
	diags := Bytes("config.json", []byte(in))
	var got []string
	for _, d := range diags {
		got = append(got, d.Rule+" "+d.Pointer)
	}
	// The pointers spell keys as the file does, so that they resolve in it;
	// a missing member is spelled like its siblings.
	want := []string{"DP100 /Env/1/value", "DP306 /mounts/0/source"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pointers (-want +got):\n%s", diff)
	}
}

// TestPointersResolve: every pointer of every corpus file resolves in the
// file itself (as decoded by encoding/json, keys as written), whatever the
// file's key case (lowercase, lower camel, canonical or mixed).
func TestPointersResolve(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "corpus", "*.json"))
	mixed := []byte(`{"Description": "d", "documentation": "d", "entrypoint": ["/p"], "Interface": {"Types": ["acme.x/1.0", "docker.authz/1.0"], "socket": "a.sock"},` +
		` "Mounts": [{"Name": "m", "source": "rel", "Destination": "/m", "type": "bind"}], "linux": {"Capabilities": ["CAP_SYS_ADMN"], "devices": [{"Path": "dev/fuse"}]},` +
		` "propagatedMount": "rel", "User": {"UID": 1000}, "network": {"Type": "bridge"}}`)
	docs := map[string][]byte{"mixed": mixed}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs[f] = data
	}
	checked := 0
	for name, data := range docs {
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, d := range Bytes("config.json", data) {
			if strings.Contains(d.Message, "missing") || strings.Contains(d.Message, "has no") {
				continue // a pointer to what is absent does not resolve
			}
			if !resolves(doc, d.Pointer) {
				t.Errorf("%s: %s: pointer %q does not resolve in the file", name, d.Rule, d.Pointer)
			}
			checked++
		}
	}
	if checked < 10 {
		t.Errorf("only %d pointers checked", checked)
	}
	got := map[string]string{}
	for _, d := range Bytes("config.json", mixed) {
		got[d.Rule] = d.Pointer
	}
	want := map[string]string{"DP202": "/Interface/Types/0", "DP312": "/Mounts/0/source", "DP501": "/linux/Capabilities/0",
		"DP310": "/linux/devices/0/Path", "DP304": "/propagatedMount", "DP601": "/User", "DP602": "/network/Type"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pointers of the mixed-case file (-want +got):\n%s", diff)
	}
}

// resolves reports whether RFC 6901 pointer p names a value of doc.
func resolves(doc any, p string) bool {
	if p == "" {
		return true
	}
	for _, tok := range strings.Split(p[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch v := doc.(type) {
		case map[string]any:
			next, ok := v[tok]
			if !ok {
				return false
			}
			doc = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v) {
				return false
			}
			doc = v[i]
		default:
			return false
		}
	}
	return true
}

// TestAcceptedCase documents the key case rule: canonical, all lowercase or
// lower camel case pass; anything else draws DP104.
func TestAcceptedCase(t *testing.T) {
	tests := []struct {
		key, canonical string
		want           bool
	}{
		{"PropagatedMount", "PropagatedMount", true},
		{"propagatedmount", "PropagatedMount", true},
		{"propagatedMount", "PropagatedMount", true},
		{"PROPAGATEDMOUNT", "PropagatedMount", false},
		{"Propagatedmount", "PropagatedMount", false},
		{"propagatedMOUNT", "PropagatedMount", false},
		{"uid", "UID", true},
		{"uID", "UID", true},
		{"Uid", "UID", false},
		{"rootfs", "rootfs", true},
		{"Rootfs", "rootfs", false},
		{"diff_ids", "diff_ids", true},
		{"DIFF_IDS", "diff_ids", false},
		{"deſcription", "Description", false}, // long s: encoding/json folds it to s
		// the ends of the A-Z range: lowered like any other capital
		{"zz", "ZZ", true},
		{"zZ", "ZZ", true},
		{"aa", "AA", true},
		{"aA", "AA", true},
		{"Zz", "ZZ", false},
	}
	for _, tt := range tests {
		if got := acceptedCase(tt.key, tt.canonical); got != tt.want {
			t.Errorf("acceptedCase(%q, %q) = %v, want %v", tt.key, tt.canonical, got, tt.want)
		}
	}
	// And the long s really is read as Description, like encoding/json does.
	diags := Bytes("config.json", []byte(`{"deſcription": "d", "documentation": "d", "entrypoint": ["/p"], "interface": {"types": ["docker.authz/1.0"], "socket": "a.sock"}}`))
	if len(diags) != 1 || diags[0].Rule != "DP104" {
		t.Errorf("long-s key: %v, want one DP104", diags)
	}
}

// TestKnownTypes: a config declaring any type of plugin.KnownTypes (the
// one list) gets no unknown-type finding.
func TestKnownTypes(t *testing.T) {
	for _, k := range plugin.KnownTypes {
		cfg := `{"description": "x", "documentation": "https://example.invalid", "entrypoint": ["/p"],
 "interface": {"types": ["` + k + `"], "socket": "p.sock"}}`
		for _, d := range Bytes("config.json", []byte(cfg), WithKind(KindConfig)) {
			if strings.Contains(d.Message, k) {
				t.Errorf("%s: %v", k, d)
			}
		}
	}
}

// TestStyledKey: an absent member is spelled like its known siblings:
// canonical when they are, lowercase when they are (or there are none),
// lower camel case when they start lowercase. Unknown keys and members
// with no spelling of their own (from settings) do not count.
func TestStyledKey(t *testing.T) {
	obj := func(keys ...string) *node {
		n := &node{kind: kObject}
		for _, k := range keys {
			m := &node{rawKey: strings.TrimPrefix(k, "?"), unknown: strings.HasPrefix(k, "?")}
			n.members = append(n.members, m)
		}
		return n
	}
	tests := []struct {
		siblings []string
		name     string
		want     string
	}{
		{nil, "PropagatedMount", "propagatedmount"},
		{[]string{"Description", "Entrypoint"}, "PropagatedMount", "PropagatedMount"},
		{[]string{"description", "entrypoint"}, "PropagatedMount", "propagatedmount"},
		{[]string{"description", "workDir"}, "PropagatedMount", "propagatedMount"},
		{[]string{"description", "WorkDir"}, "PropagatedMount", "PropagatedMount"},
		{[]string{"args", "workDir"}, "PropagatedMount", "propagatedMount"}, // 'a' and 'z' start lowercase too
		{[]string{"zone", "workDir"}, "PropagatedMount", "propagatedMount"},
		{[]string{"", "Description"}, "PropagatedMount", "PropagatedMount"},
		{[]string{"?FOO", "description"}, "PropagatedMount", "propagatedmount"},
		{[]string{"?Foo"}, "UID", "uid"},
	}
	for _, tt := range tests {
		if got := styledKey(obj(tt.siblings...), tt.name); got != tt.want {
			t.Errorf("styledKey(siblings %q, %q) = %q, want %q", tt.siblings, tt.name, got, tt.want)
		}
	}
}

// TestLevenshteinBound: keys up to 64 bytes get their real edit distance;
// longer ones are never suggested for (the distance is out of reach).
func TestLevenshteinBound(t *testing.T) {
	a64, b64 := strings.Repeat("a", 64), strings.Repeat("a", 63)+"b"
	tests := []struct {
		a, b string
		want int
	}{
		{"kitten", "sitting", 3},
		{"ab", "a", 1},
		{a64, b64, 1},
		{b64, a64, 1},
		{a64 + "a", b64, 1 << 30},
		{b64, a64 + "a", 1 << 30},
	}
	for _, tt := range tests {
		if got := levenshtein(tt.a, tt.b); got != tt.want {
			t.Errorf("levenshtein(%d bytes, %d bytes) = %d, want %d", len(tt.a), len(tt.b), got, tt.want)
		}
	}
}
