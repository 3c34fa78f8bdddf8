package validate

// Class is a rule's place in the severity policy (SPEC §3): what dockerd
// does with a config that triggers it decides how loud the finding is.
type Class string

// Classes of rules.
const (
	// Refused: dockerd refuses the config at create, enable or run (or
	// crashes on it). An error for everyone.
	Refused Class = "refused"
	// Misleading: dockerd accepts the config, but the plugin runs
	// differently from what is written. An error for the author (validate,
	// build, push DIR), a warning stating the consequence for a consumer
	// (install, pull, run, test).
	Misleading Class = "misleading"
	// Advice: works as written; a warning for everyone.
	Advice Class = "advice"
)

// Severity returns the severity of a finding of class c for audience a.
func (c Class) Severity(a Audience) Severity {
	switch {
	case c == Refused:
		return Error
	case c == Misleading && a != Consumer:
		return Error
	default:
		return Warning
	}
}

// Rule describes one check. IDs are stable: scripts and SARIF consumers key
// on them, so a rule is never renumbered, only retired.
type Rule struct {
	ID      string
	Class   Class
	Summary string
	// Engine is what dockerd 20.10.24 and 26.1.5 do with a config that
	// triggers the rule (both behave the same), as measured by docker plugin
	// create, enable and a real use, or read in moby's source.
	Engine string
}

// Severity is the rule's severity for the author (the default audience).
func (r Rule) Severity() Severity { return r.Class.Severity(Author) }

// Rules lists every rule the validator can report, ordered by ID.
//
// DP0xx: the file and its JSON; DP1xx: keys and schema; DP2xx: interface;
// DP3xx: process, paths, mounts and devices; DP4xx: settable values and env;
// DP5xx: capabilities; DP6xx: things dockerd ignores; DP7xx: plugin settings.
var Rules = []Rule{
	{"DP001", Refused, "invalid JSON", "create fails: `failed to parse config`"},
	{"DP002", Refused, "UTF-8 byte order mark: encoding/json rejects it", "create fails: `failed to parse config` (invalid character 'ï')"},
	{"DP003", Refused, "file larger than the size cap (16 MiB by default)", "a 1,048,821-byte config creates, enables and runs; the cap is dplug's guard against a denial of service"},
	{"DP004", Advice, "duplicate key (also in another letter case): dockerd keeps only the last one", "the last value wins, silently"},
	{"DP005", Refused, "JSON nested deeper than encoding/json's limit of 10000", "create fails: `failed to parse config`"},
	{"DP006", Refused, "file cannot be read, or is not a regular file (a directory, FIFO, device or socket named config.json)", "`docker plugin create` fails to read it"},
	{"DP007", Refused, "not a plugin config: JSON null, an empty object, a container image config, or no plugin field at all", "`null` and `{}` create but cannot be enabled (no interface); pulling an image config fails: `did not find plugin config`"},
	{"DP100", Refused, "wrong JSON type or out-of-range number: dockerd fails to parse the config", "create fails: `failed to parse config`"},
	{"DP101", Refused, "required field missing: interface, interface.types and interface.socket are needed to enable", "enable fails: nothing to dial"},
	{"DP102", Advice, "description or documentation missing: required by the Docker docs, not enforced by dockerd", "works; `docker plugin ls` shows an empty description"},
	{"DP103", Misleading, "unknown key: dockerd silently ignores it", "dropped by the decoder: the setting has no effect"},
	{"DP104", Advice, "key in an unusual letter case: dockerd matches it case-insensitively", "works as written"},
	{"DP105", Misleading, "value violates the schema (e.g. `settable: [null]`)", "`settable: [null]` is stored as `[\"\"]`; `docker plugin set` then answers \"is not settable\""},
	{"DP106", Misleading, "1.12-era top-level capabilities: modern dockerd ignores them, use linux.capabilities", "ignored: the plugin runs without them (CapEff measured)"},
	{"DP107", Misleading, "1.12-era top-level devices: modern dockerd ignores them, use linux.devices", "ignored: no device node in the plugin (measured)"},
	{"DP108", Advice, "field the engine fills in (rootfs, DockerVersion): the value in config.json is replaced", "replaced by the engine"},
	{"DP201", Misleading, "malformed interface type: want prefix.capability/version", "stored as garbage that matches nothing; a valid type beside it still works (DP204 when none is left)"},
	{"DP202", Misleading, "interface type prefix is not docker: dockerd never dispatches to it", "enable works; the type is never used (DP204 when no usable type is left)"},
	{"DP203", Misleading, "unknown docker.* capability: dockerd has no such driver kind", "enable works; the type is never used (DP204 when no usable type is left)"},
	{"DP204", Refused, "no usable interface type: the plugin would serve nothing", "enable works, every use fails: `plugin does not provide \"volumedriver\" capability`"},
	{"DP205", Refused, "unknown protocol scheme: dockerd's adapters refuse the plugin", "dockerd panics (nil pointer) on every use of `protocolscheme: grpc`"},
	{"DP206", Refused, "interface socket outside the plugin's socket directory: dockerd dials /run/docker/plugins/<id>/<socket>", "enable fails: the plugin cannot listen where dockerd dials"},
	{"DP207", Advice, "interface socket is a path, not a file name: the plugin must listen on exactly that path", "works if the plugin listens on that sub-path"},
	{"DP208", Advice, "interface type listed twice", "harmless"},
	{"DP209", Advice, "known interface type with another version than 1.0: dockerd ignores the version", "`docker.volumedriver/2.0` and `docker.volumedriver/` work as volume drivers"},
	{"DP301", Refused, "nothing to run: entrypoint (and args.value) empty", "enable fails: runc has no process to start"},
	{"DP302", Advice, "entrypoint[0] is a relative path: resolved against workdir", "resolved against workdir at start"},
	{"DP303", Refused, "workdir is not an absolute path: runc refuses to start", "enable fails: runc refuses a relative cwd"},
	{"DP304", Refused, "propagatedMount is not an absolute path", "enables, but every use of its volumes fails: `docker run -v` looks for the volume inside the rootfs"},
	{"DP305", Refused, "mount without destination: runc cannot mount it", "enable fails"},
	{"DP306", Refused, "mount without source: dockerd fails at enable with \"mount source is not specified\" (and refuses to set a null one)", "enable fails: `mount source is not specified`; `docker plugin set` of it: `Plugin config has no mount source`"},
	{"DP307", Refused, "mount with no type and no bind option: mount(2) fails at start", "enable fails: mount(2) without a type"},
	{"DP309", Refused, "device without path: dockerd cannot create it at enable", "dockerd panics (nil pointer) at enable"},
	{"DP310", Refused, "device path is not an absolute path", "enable fails unless dockerd's working directory is /"},
	{"DP311", Advice, "mount destination is a relative path: runc takes it relative to / and deprecates it", "runc mounts it under / with a deprecation warning"},
	{"DP312", Refused, "bind mount (type bind, or option bind/rbind) with a relative source: runc resolves it against its bundle directory", "enable fails, or binds a path of runc's bundle directory"},
	{"DP313", Advice, "settable bind mount source or device path left empty: set it at install (NAME.source=/path)", "a bind mount creates and enables; left unset, dockerd binds runc's bundle directory there (measured)"},
	{"DP314", Misleading, "bind mount with an empty source that cannot be set", "creates and enables; dockerd binds runc's bundle directory there"},
	{"DP401", Misleading, "settable names a field that cannot be set (env/args: value, mounts: source, devices: path)", "create and enable work; `docker plugin set` answers \"is not settable\""},
	{"DP402", Advice, "settable lists a field twice: `docker plugin set NAME=V` then needs NAME.field=V", "`docker plugin set NAME=V` fails: multiple fields are settable"},
	{"DP403", Misleading, "duplicate env name: the plugin sees only the last value", "only the last value reaches the plugin"},
	{"DP404", Advice, "env entry without value and not settable: it never reaches the plugin", "not in the plugin's environment"},
	{"DP405", Misleading, "env name containing '='", "the plugin sees another variable: name A=B, value 1 becomes A=\"B=1\""},
	{"DP406", Advice, "settable entry that `docker plugin set` cannot reach: no name, or a name used earlier", "`docker plugin set` finds another entry, or none"},
	{"DP407", Refused, "env entry with a value but no name", "enable fails: runc refuses the environment entry \"=value\""},
	{"DP408", Advice, "env name containing whitespace", "passed as written; shells cannot read it"},
	{"DP501", Misleading, "unknown Linux capability", "enables; runc drops the capability (`CAP_SYS_ADMN` measured)"},
	{"DP502", Misleading, "capability not in CAP_NAME form: runc does not recognise it", "treated exactly like DP501: enables, runc drops it"},
	{"DP503", Advice, "capability listed twice", "harmless"},
	{"DP601", Misleading, "user is ignored: dockerd runs every plugin as uid 0", "parsed, never applied: the plugin runs as uid 0 (measured)"},
	{"DP602", Advice, "network.type other than host, none or empty: the plugin gets an empty network namespace", "the plugin gets a fresh, empty network namespace"},
	{"DP701", Refused, "settings env entry is not NAME=value, or an install-time setting (WithSettings, --set) that docker plugin set refuses", "enable fails: runc refuses an env entry without '=' or without a name; `docker plugin set` refuses a malformed, unknown or unsettable setting, and a null mount source or device path"},
}

// severityOf returns the severity of rule id for audience a (Error for an
// unknown id, so a typo in the code can never hide a finding).
func severityOf(id string, a Audience) Severity {
	for _, r := range Rules {
		if r.ID == id {
			return r.Class.Severity(a)
		}
	}
	return Error
}
