// Package differential records what real dockerd does with a config.json
// that triggers each validate rule, and tests it against every engine in
// internal/testenv (dockerd 20.10.24 and 26.1.5): each case goes through
// `docker plugin create` (and `docker plugin set`), `docker plugin enable`
// and one real use of the plugin (`docker volume create -d`, or a container
// with the volume where the outcome shows only there).
//
// The table is data so that validate's tests can hold its severity classes
// to it (SPEC §3): a rule whose main case dockerd refuses is an error
// everywhere (class (a)); a rule whose case dockerd accepts is at most an
// author error (class (b)) or a warning. The package imports nothing of
// dplug's, so validate's dependency fence is unaffected.
package differential

import (
	"strings"
)

// Outcome is what dockerd did with a case.
type Outcome string

// The outcomes, in the order a plugin meets them.
const (
	RefusedCreate Outcome = "refused at create" // docker plugin create (or set) fails
	RefusedEnable Outcome = "refused at enable" // docker plugin enable fails
	RefusedUse    Outcome = "refused at use"    // enabled, but using it fails
	Accepted      Outcome = "accepted"          // created, enabled and used
)

// Refused reports whether dockerd refuses the plugin at some point.
func (o Outcome) Refused() bool { return o != Accepted }

// Use is how a case's plugin is used once enabled.
type Use int

const (
	// UseVolume: docker volume create -d PLUGIN, then docker volume rm.
	UseVolume Use = iota
	// UseContainer: UseVolume plus a container that mounts the volume
	// (docker run -v VOL:/mnt), where dockerd asks the plugin to mount it.
	UseContainer
)

// Case is one config.json that triggers a validate rule, and what dockerd
// does with it.
type Case struct {
	// Rule is the validate rule the config triggers (rule IDs as in
	// docs/rules.md after issue 10: DP007, DP209, DP313, DP314, DP407 and
	// DP408 split off DP201, DP312 and DP405).
	Rule string
	// Variant tells the rule's variants apart; "" is the rule's main case,
	// whose outcome is the rule's (see Rules).
	Variant string
	// Config is the config.json text.
	Config string
	// ConfigDir makes config.json a directory (Config is unused).
	ConfigDir bool
	// Set are `docker plugin set` arguments applied between create and
	// enable (a refusal counts as RefusedCreate).
	Set []string
	// Use is how the plugin is used once enabled.
	Use Use
	// Want is what dockerd 20.10.24 and 26.1.5 do (measured; both agree).
	Want Outcome
	// Why says what dockerd does, for the record.
	Why string
	// Facts, for accepted cases, are what the running plugin must be given
	// (or, with a leading "!", must not be): how dockerd runs a config
	// that differs from what it says. See diffplug's facts: "uid N",
	// "cap CAP_SYS_ADMIN", "env NAME=VALUE", "file PATH".
	Facts []string
	// SetRefused are `docker plugin set` arguments dockerd must refuse
	// once the plugin is created (settings the config seems to allow).
	SetRefused []string
}

// Name is the case's name in test output: the rule, plus the variant.
func (c Case) Name() string {
	if c.Variant == "" {
		return c.Rule
	}
	return c.Rule + " " + c.Variant
}

// ProbeDir in Set arguments stands for a host directory holding a file
// named diffplug-probe, made by the test.
const ProbeDir = "{{probe}}"

// Socket is the socket name the base config declares; the test plugin
// listens on the path its entrypoint's first argument names.
const Socket = "diff.sock"

// baseFields are the base config's top-level fields, in order: the
// smallest config that creates, enables and serves volumes.
var baseFields = [][2]string{
	{"description", `"dplug differential test plugin"`},
	{"documentation", `"https://example.invalid/diffplug"`},
	{"entrypoint", `["/diffplug", "/run/docker/plugins/diff.sock"]`},
	{"interface", `{"types": ["docker.volumedriver/1.0"], "socket": "diff.sock"}`},
}

// Conf returns the base config with top-level fields replaced or added:
// kv is key, raw JSON value pairs; an empty value removes the key.
func Conf(kv ...string) string {
	fields := append([][2]string(nil), baseFields...)
	for i := 0; i+1 < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		found := false
		for j := range fields {
			if fields[j][0] == k {
				fields[j][1], found = v, true
			}
		}
		if !found {
			fields = append(fields, [2]string{k, v})
		}
	}
	var b strings.Builder
	b.WriteString("{\n")
	first := true
	for _, f := range fields {
		if f[1] == "" {
			continue
		}
		if !first {
			b.WriteString(",\n")
		}
		first = false
		b.WriteString("  \"" + f[0] + "\": " + f[1])
	}
	b.WriteString("\n}\n")
	return b.String()
}

const (
	bindTmp  = `"type": "bind", "options": ["rbind"]`
	volType  = `"docker.volumedriver/1.0"`
	sockIn   = `"/run/docker/plugins/diff.sock"`
	panicMsg = "dockerd panics (nil pointer dereference)"
)

func types(t ...string) string {
	return `{"types": [` + strings.Join(t, ", ") + `], "socket": "diff.sock"}`
}

// Cases returns every case: at least one per validate rule, plus the
// variants issue 10 measured, plus a baseline that must be accepted.
func Cases() []Case {
	return []Case{
		{Rule: "", Variant: "baseline", Config: Conf("propagatedMount", `"/data"`, "linux", `{"capabilities": ["CAP_SYS_ADMIN"], "devices": [{"path": "/dev/fuse"}]}`, "env", `[{"name": "A", "value": "1", "settable": ["value"]}]`),
			Set: []string{"A=1"}, Use: UseContainer, Want: Accepted, Facts: []string{"uid 0", "cap CAP_SYS_ADMIN", "file /dev/fuse", "env A=1"},
			Why: "the base config, with what the other cases get wrong written right, serves a volume to a container"},

		{Rule: "DP001", Config: `{"description": "truncated", "entrypoint": ["/diffplug"`, Want: RefusedCreate,
			Why: "failed to parse the config"},
		{Rule: "DP002", Config: "\ufeff" + Conf(), Want: RefusedCreate,
			Why: "encoding/json rejects the byte order mark"},
		{Rule: "DP003", Variant: "1 MiB, under dplug's cap", Config: Conf("description", `"`+strings.Repeat("x", 1<<20)+`"`), Want: Accepted,
			Why: "a config over 1 MiB is created, enabled and used: dockerd has no size limit, DP003 is dplug's guard against a denial of service"},
		{Rule: "DP004", Config: strings.Replace(Conf(), "{", `{"description": "first",`, 1), Want: Accepted,
			Why: "the last of the duplicate keys wins"},
		{Rule: "DP005", Config: Conf("x", strings.Repeat("[", 10001)+strings.Repeat("]", 10001)), Want: RefusedCreate,
			Why: "encoding/json: exceeded max depth"},
		{Rule: "DP006", Variant: "config.json is a directory", ConfigDir: true, Want: RefusedCreate,
			Why: "docker plugin create cannot read it"},
		{Rule: "DP007", Config: "{}\n", Want: RefusedEnable,
			Why: "created; no interface, so enable has no socket to dial"},
		{Rule: "DP007", Variant: "null", Config: "null\n", Want: RefusedEnable,
			Why: "created; no interface, so enable has no socket to dial"},

		{Rule: "DP100", Config: Conf("entrypoint", `"/diffplug"`), Want: RefusedCreate,
			Why: "json: cannot unmarshal string into []string"},
		{Rule: "DP100", Variant: "user.uid 1.0", Config: Conf("user", `{"uid": 1.0, "gid": 0}`), Want: RefusedCreate,
			Why: "json: cannot unmarshal number 1.0 into uint32"},
		{Rule: "DP101", Config: Conf("interface", ""), Want: RefusedEnable,
			Why: "no socket: dockerd dials the plugin's socket directory, gives up after ~12.5 s"},
		{Rule: "DP101", Variant: "no interface.types", Config: Conf("interface", `{"socket": "diff.sock"}`), Want: RefusedUse,
			Why: "enables, then: plugin does not provide \"volumedriver\" capability"},
		{Rule: "DP101", Variant: "no interface.socket", Config: Conf("interface", `{"types": [`+volType+`]}`), Want: RefusedEnable,
			Why: "no socket to dial"},
		{Rule: "DP102", Config: Conf("description", "", "documentation", ""), Want: Accepted,
			Why: "dockerd does not require them"},
		{Rule: "DP103", Config: Conf("colour", `"blue"`), Want: Accepted,
			Why: "unknown keys are ignored"},
		{Rule: "DP104", Config: Conf("entrypoint", "", "EntryPoint", `["/diffplug", `+sockIn+`]`), Want: Accepted,
			Why: "keys match case-insensitively"},
		{Rule: "DP105", Variant: "settable [null]", Config: Conf("env", `[{"name": "DEBUG", "value": "0", "settable": [null]}]`), SetRefused: []string{"DEBUG=1"}, Want: Accepted,
			Why: "stored as [\"\"]: enables, but docker plugin set DEBUG= then says it is not settable"},
		{Rule: "DP106", Config: Conf("capabilities", `["CAP_SYS_ADMIN"]`), Facts: []string{"!cap CAP_SYS_ADMIN"}, Want: Accepted,
			Why: "1.12-era top-level capabilities are ignored: the plugin runs without them"},
		{Rule: "DP107", Config: Conf("devices", `[{"path": "/dev/fuse"}]`), Facts: []string{"!file /dev/fuse"}, Want: Accepted,
			Why: "1.12-era top-level devices are ignored: no device node"},
		{Rule: "DP108", Config: Conf("rootfs", `{"type": "layers", "diff_ids": ["sha256:0000000000000000000000000000000000000000000000000000000000000000"]}`), Want: Accepted,
			Why: "the engine replaces rootfs"},
		{Rule: "DP108", Variant: "DockerVersion", Config: Conf("DockerVersion", `"1.0.0"`), Want: Accepted,
			Why: "the engine replaces DockerVersion"},

		{Rule: "DP201", Config: Conf("interface", types(`"garbage"`, volType)), Want: Accepted,
			Why: "the garbage type matches nothing; the valid type beside it is found"},
		{Rule: "DP202", Config: Conf("interface", types(`"foo.volumedriver/1.0"`, volType)), Want: Accepted,
			Why: "the foo. type is never dispatched to; the valid type beside it is found"},
		{Rule: "DP203", Config: Conf("interface", types(`"docker.storage/1.0"`, volType)), Want: Accepted,
			Why: "the unknown type is never used; the valid type beside it is found"},
		{Rule: "DP204", Config: Conf("interface", types()), Want: RefusedUse,
			Why: "enables, then: plugin does not provide \"volumedriver\" capability"},
		{Rule: "DP204", Variant: "only a malformed type", Config: Conf("interface", types(`"volumedriver"`)), Want: RefusedUse,
			Why: "stored as garbage (prefix \"\", capability \"olumedriver\"): enables, no use finds it"},
		{Rule: "DP204", Variant: "only a non-docker prefix", Config: Conf("interface", types(`"foo.volumedriver/1.0"`)), Want: RefusedUse,
			Why: "enables, then: plugin does not provide \"volumedriver\" capability"},
		{Rule: "DP204", Variant: "only an unknown docker type", Config: Conf("interface", types(`"docker.storage/1.0"`)), Want: RefusedUse,
			Why: "enables, then: plugin does not provide \"volumedriver\" capability"},
		{Rule: "DP205", Config: Conf("interface", `{"types": [`+volType+`], "socket": "diff.sock", "protocolscheme": "grpc"}`), Want: RefusedUse,
			Why: "enables; every use: " + panicMsg + ", no client was made"},
		{Rule: "DP206", Config: Conf("interface", `{"types": [`+volType+`], "socket": "../dplug-diff-nowhere.sock"}`), Want: RefusedEnable,
			Why: "dockerd dials /run/docker/plugins/dplug-diff-nowhere.sock, outside the plugin's socket dir"},
		{Rule: "DP206", Variant: "full path", Config: Conf("interface", `{"types": [`+volType+`], "socket": "/run/docker/plugins/diff.sock"}`), Want: RefusedEnable,
			Why: "dockerd dials /run/docker/plugins/<id>/run/docker/plugins/diff.sock"},
		{Rule: "DP207", Config: Conf("interface", `{"types": [`+volType+`], "socket": "sub/diff.sock"}`, "entrypoint", `["/diffplug", "/run/docker/plugins/sub/diff.sock"]`), Want: Accepted,
			Why: "works when the plugin listens on /run/docker/plugins/sub/diff.sock"},
		{Rule: "DP208", Config: Conf("interface", types(volType, volType)), Want: Accepted,
			Why: "duplicates are harmless"},
		{Rule: "DP209", Config: Conf("interface", types(`"docker.volumedriver/2.0"`)), Want: Accepted,
			Why: "dockerd ignores the version"},
		{Rule: "DP209", Variant: "empty version", Config: Conf("interface", types(`"docker.volumedriver/"`)), Want: Accepted,
			Why: "dockerd ignores the version"},

		{Rule: "DP301", Config: Conf("entrypoint", `[]`), Want: RefusedEnable,
			Why: "runc: args must not be empty"},
		{Rule: "DP302", Config: Conf("entrypoint", `["./diffplug", `+sockIn+`]`), Want: Accepted,
			Why: "resolved against the working directory, /"},
		{Rule: "DP303", Config: Conf("workdir", `"tmp"`), Want: RefusedEnable,
			Why: "runc: cwd must be an absolute path"},
		{Rule: "DP304", Config: Conf("propagatedMount", `"data"`), Use: UseContainer, Want: RefusedUse,
			Why: "enables and creates the volume, but docker run -v looks for the mountpoint inside the rootfs"},
		{Rule: "DP305", Config: Conf("mounts", `[{"source": "/tmp", `+bindTmp+`}]`), Want: RefusedEnable,
			Why: "runc cannot mount without a destination"},
		{Rule: "DP306", Config: Conf("mounts", `[{"name": "m", "destination": "/mnt/m", `+bindTmp+`}]`), Want: RefusedEnable,
			Why: "mount source is not specified"},
		{Rule: "DP306", Variant: "settable, left unset", Config: Conf("mounts", `[{"name": "m", "destination": "/mnt/m", `+bindTmp+`, "settable": ["source"]}]`), Want: RefusedEnable,
			Why: "mount source is not specified"},
		{Rule: "DP307", Config: Conf("mounts", `[{"destination": "/mnt/m", "source": "/tmp"}]`), Want: RefusedEnable,
			Why: "mount(2) with no type fails when runc starts the plugin"},
		{Rule: "DP309", Config: Conf("linux", `{"devices": [{"path": null}]}`), Want: RefusedEnable,
			Why: "enable: " + panicMsg},
		{Rule: "DP310", Config: Conf("linux", `{"devices": [{"path": "dev/null"}]}`), Want: RefusedEnable,
			Why: "resolved against dockerd's working directory (here not /): no such device"},
		{Rule: "DP311", Config: Conf("mounts", `[{"destination": "mnt/m", "source": "/tmp", `+bindTmp+`}]`), Want: Accepted,
			Why: "runc mounts it at /mnt/m and warns"},
		{Rule: "DP312", Config: Conf("mounts", `[{"destination": "/mnt/m", "source": "tmp", `+bindTmp+`}]`), Want: RefusedEnable,
			Why: "runc resolves the source against its bundle directory, where there is no tmp"},
		{Rule: "DP313", Config: Conf("mounts", `[{"name": "sshkey", "destination": "/root/.ssh", "source": "", `+bindTmp+`, "settable": ["source"]}]`), Facts: []string{"file /root/.ssh/config.json"}, Want: Accepted,
			Why: "left empty, dockerd binds runc's bundle directory there"},
		{Rule: "DP313", Variant: "set at install", Config: Conf("mounts", `[{"name": "sshkey", "destination": "/root/.ssh", "source": "", `+bindTmp+`, "settable": ["source"]}]`),
			Set: []string{"sshkey.source=" + ProbeDir}, Facts: []string{"file /root/.ssh/diffplug-probe", "!file /root/.ssh/config.json"}, Want: Accepted,
			Why: "the source set before enable is bound"},
		{Rule: "DP314", Config: Conf("mounts", `[{"destination": "/root/.ssh", "source": "", `+bindTmp+`}]`), Facts: []string{"file /root/.ssh/config.json"}, Want: Accepted,
			Why: "an empty source nobody can set: dockerd binds runc's bundle directory there"},

		{Rule: "DP401", Config: Conf("env", `[{"name": "A", "value": "1", "settable": ["source"]}]`), SetRefused: []string{"A=2"}, Want: Accepted,
			Why: "created and enabled; docker plugin set A=2 then says it is not settable"},
		{Rule: "DP402", Config: Conf("env", `[{"name": "A", "value": "1", "settable": ["value", "value"]}]`), SetRefused: []string{"A=2"}, Want: Accepted,
			Why: "harmless until docker plugin set A=2"},
		{Rule: "DP403", Config: Conf("env", `[{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]`), Facts: []string{"env A=2", "!env A=1"}, Want: Accepted,
			Why: "the plugin sees only the last value"},
		{Rule: "DP404", Config: Conf("env", `[{"name": "A"}]`), Facts: []string{"!env A="}, Want: Accepted,
			Why: "the variable is simply not set"},
		{Rule: "DP405", Config: Conf("env", `[{"name": "A=B", "value": "1"}]`), Facts: []string{"env A=B=1"}, Want: Accepted,
			Why: "the plugin gets a variable A with value B=1"},
		{Rule: "DP407", Config: Conf("env", `[{"value": "1"}]`), Want: RefusedEnable,
			Why: "runc refuses the environment entry \"=1\""},
		{Rule: "DP408", Config: Conf("env", `[{"name": "A B", "value": "1"}]`), Facts: []string{"env A B=1"}, Want: Accepted,
			Why: "runc passes \"A B=1\" through"},
		{Rule: "DP406", Config: Conf("mounts", `[{"destination": "/mnt/m", "source": "/tmp", `+bindTmp+`, "settable": ["source"]}]`), Want: Accepted,
			Why: "harmless until someone tries to set it"},

		{Rule: "DP501", Config: Conf("linux", `{"capabilities": ["CAP_SYS_ADMN"]}`), Facts: []string{"!cap CAP_SYS_ADMIN"}, Want: Accepted,
			Why: "runc warns and drops the unknown capability"},
		{Rule: "DP502", Config: Conf("linux", `{"capabilities": ["sys_admin"]}`), Facts: []string{"!cap CAP_SYS_ADMIN"}, Want: Accepted,
			Why: "runc drops it like an unknown capability"},
		{Rule: "DP503", Config: Conf("linux", `{"capabilities": ["CAP_SYS_ADMIN", "CAP_SYS_ADMIN"]}`), Facts: []string{"cap CAP_SYS_ADMIN"}, Want: Accepted,
			Why: "duplicates are harmless"},
		{Rule: "DP601", Config: Conf("user", `{"uid": 1000, "gid": 1000}`), Facts: []string{"uid 0"}, Want: Accepted,
			Why: "parsed, never applied: the plugin runs as uid 0"},
		{Rule: "DP602", Config: Conf("network", `{"type": "bridge"}`), Want: Accepted,
			Why: "the plugin gets an empty network namespace"},
		{Rule: "DP701", Variant: "docker plugin set =1", Config: Conf("env", `[{"name": "A", "value": "1", "settable": ["value"]}]`),
			Set: []string{"=1"}, Want: RefusedCreate,
			Why: "docker plugin set refuses a setting without a name"},
	}
}

// Rules returns each rule's outcome in dockerd: that of its main case (the
// one with no Variant), or, for rules with only variants, of the first.
func Rules() map[string]Outcome {
	out := map[string]Outcome{}
	for _, c := range Cases() {
		if c.Rule == "" {
			continue
		}
		if _, ok := out[c.Rule]; !ok || c.Variant == "" {
			out[c.Rule] = c.Want
		}
	}
	return out
}
