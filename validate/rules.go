package validate

// Rule describes one check. IDs are stable: scripts and SARIF consumers key
// on them, so a rule is never renumbered, only retired.
type Rule struct {
	ID       string
	Severity Severity
	Summary  string
}

// Rules lists every rule the validator can report, ordered by ID.
//
// DP0xx: the file and its JSON; DP1xx: keys and schema; DP2xx: interface;
// DP3xx: process, paths, mounts and devices; DP4xx: settable values and env;
// DP5xx: capabilities; DP6xx: things dockerd ignores; DP7xx: plugin settings.
var Rules = []Rule{
	{"DP001", Error, "invalid JSON: dockerd fails with \"failed to parse config\""},
	{"DP002", Error, "UTF-8 byte order mark: encoding/json rejects it"},
	{"DP003", Error, "file larger than the size cap"},
	{"DP004", Warning, "duplicate key (also in another letter case): dockerd keeps only the last one"},
	{"DP005", Error, "JSON nested deeper than encoding/json's limit of 10000"},
	{"DP006", Error, "file cannot be read"},
	{"DP100", Error, "wrong JSON type or out-of-range number: dockerd fails to parse the config"},
	{"DP101", Error, "required field missing: interface, interface.types and interface.socket are needed to enable"},
	{"DP102", Warning, "description or documentation missing: required by the Docker docs, not enforced by dockerd"},
	{"DP103", Warning, "unknown key: dockerd silently ignores it"},
	{"DP104", Warning, "key in an unusual letter case: dockerd matches it case-insensitively"},
	{"DP105", Error, "value violates the schema"},
	{"DP106", Error, "1.12-era top-level capabilities: modern dockerd ignores them, use linux.capabilities"},
	{"DP107", Error, "1.12-era top-level devices: modern dockerd ignores them, use linux.devices"},
	{"DP108", Warning, "field the engine fills in (rootfs, DockerVersion): the value in config.json is replaced"},
	{"DP201", Error, "malformed interface type: want prefix.capability/version"},
	{"DP202", Warning, "interface type prefix is not docker: dockerd never dispatches to it"},
	{"DP203", Warning, "unknown docker.* interface type: dockerd has no such driver kind"},
	{"DP204", Error, "no interface types: the plugin would serve nothing"},
	{"DP205", Error, "unknown protocol scheme: dockerd's adapters refuse the plugin"},
	{"DP206", Error, "interface socket outside the plugin's socket directory: dockerd dials /run/docker/plugins/<id>/<socket>"},
	{"DP207", Warning, "interface socket is a path, not a file name: the plugin must listen on exactly that path"},
	{"DP208", Warning, "interface type listed twice"},
	{"DP301", Error, "nothing to run: entrypoint (and args.value) empty"},
	{"DP302", Warning, "entrypoint[0] is a relative path: resolved against workdir"},
	{"DP303", Error, "workdir is not an absolute path: runc refuses to start"},
	{"DP304", Error, "propagatedMount is not an absolute path"},
	{"DP305", Error, "mount without destination: runc cannot mount it"},
	{"DP306", Error, "mount without source: dockerd fails at enable with \"mount source is not specified\""},
	{"DP307", Error, "mount with no type and no bind option: mount(2) fails at start"},
	{"DP309", Error, "device without path: dockerd cannot create it at enable"},
	{"DP310", Warning, "device path is not an absolute path: it works only while dockerd runs in /"},
	{"DP311", Warning, "mount destination is a relative path: runc takes it relative to / and deprecates it"},
	{"DP312", Error, "bind mount with a relative source: runc resolves it against its bundle directory, not the host root"},
	{"DP401", Error, "settable names a field that cannot be set (env/args: value, mounts: source, devices: path)"},
	{"DP402", Warning, "settable lists a field twice: `docker plugin set NAME=V` then needs NAME.field=V"},
	{"DP403", Warning, "duplicate env name"},
	{"DP404", Warning, "env entry without value and not settable: it never reaches the plugin"},
	{"DP405", Warning, "env name empty or containing '=' or whitespace"},
	{"DP406", Warning, "settable entry that `docker plugin set` cannot reach: no name, or a name used earlier"},
	{"DP501", Error, "unknown Linux capability"},
	{"DP502", Warning, "capability not in CAP_NAME form: runc ignores it"},
	{"DP503", Warning, "capability listed twice"},
	{"DP601", Warning, "user is ignored: dockerd runs every plugin as uid 0"},
	{"DP602", Warning, "network.type other than host, none or empty: the plugin gets an empty network namespace"},
	{"DP701", Error, "settings env entry is not NAME=value"},
}

// severityOf returns the severity of rule id (Error for an unknown id, so
// a typo in the code can never hide a finding).
func severityOf(id string) Severity {
	for _, r := range Rules {
		if r.ID == id {
			return r.Severity
		}
	}
	return Error
}
