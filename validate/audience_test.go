package validate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// findings renders diags as "RULE severity" in order.
func findings(diags []Diagnostic) []string {
	out := []string{}
	for _, d := range diags {
		out = append(out, d.Rule+" "+string(d.Severity))
	}
	return out
}

// TestAudience: refused rules are errors for everyone, misleading ones
// errors for the author and warnings for a consumer, advice warnings for
// everyone (SPEC §3).
func TestAudience(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		author   []string
		consumer []string
	}{
		{"misspelled capability", cfg(`, "linux": {"capabilities": ["CAP_SYS_ADMN"]}`), []string{"DP501 error"}, []string{"DP501 warning"}},
		{"lowercase capability", cfg(`, "linux": {"capabilities": ["sys_admin"]}`), []string{"DP502 error"}, []string{"DP502 warning"}},
		{"legacy capabilities", cfg(`, "capabilities": ["CAP_SYS_ADMIN"]`), []string{"DP106 error"}, []string{"DP106 warning"}},
		{"legacy devices", cfg(`, "devices": [{"path": "/dev/fuse"}]`), []string{"DP107 error"}, []string{"DP107 warning"}},
		{"user", cfg(`, "user": {"uid": 1000}`), []string{"DP601 error"}, []string{"DP601 warning"}},
		{"unknown key", cfg(`, "hooks": {}`), []string{"DP103 error"}, []string{"DP103 warning"}},
		{"settable null", cfg(`, "env": [{"name": "A", "value": "1", "settable": [null]}]`), []string{"DP105 error"}, []string{"DP105 warning"}},
		{"env settable source", cfg(`, "env": [{"name": "A", "value": "1", "settable": ["source"]}]`), []string{"DP401 error"}, []string{"DP401 warning"}},
		{"duplicate env", cfg(`, "env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]`), []string{"DP403 error"}, []string{"DP403 warning"}},
		{"relative propagatedMount", cfg(`, "propagatedmount": "mnt"`), []string{"DP304 error"}, []string{"DP304 error"}},
		{"garbage type beside a valid one", iface(`"socket": "p.sock", "types": ["weird", "docker.volumedriver/1.0"]`), []string{"DP201 error"}, []string{"DP201 warning"}},
		{"unknown capability alone is refused", iface(`"socket": "p.sock", "types": ["docker.storage/1.0"]`),
			[]string{"DP204 error", "DP203 error"}, []string{"DP204 error", "DP203 warning"}},
		{"foreign prefix alone is refused", iface(`"socket": "p.sock", "types": ["acme.volumedriver/1.0"]`),
			[]string{"DP204 error", "DP202 error"}, []string{"DP204 error", "DP202 warning"}},
		{"version ignored", iface(`"socket": "p.sock", "types": ["docker.volumedriver/2.0"]`), []string{"DP209 warning"}, []string{"DP209 warning"}},
		{"mount without source", cfg(`, "mounts": [{"destination": "/a", "type": "bind"}]`), []string{"DP306 error"}, []string{"DP306 error"}},
		{"env without name", cfg(`, "env": [{"value": "1"}]`), []string{"DP407 error"}, []string{"DP407 error"}},
		{"relative device path", cfg(`, "linux": {"devices": [{"path": "fuse"}]}`), []string{"DP310 error"}, []string{"DP310 error"}},
		{"device without path", cfg(`, "linux": {"devices": [{"name": "fuse"}]}`), []string{"DP309 error"}, []string{"DP309 error"}},
		{"grpc", iface(`"socket": "p.sock", "types": ["docker.authz/1.0"], "protocolscheme": "grpc"`), []string{"DP205 error"}, []string{"DP205 error"}},
		{"settable empty source", cfg(`, "mounts": [{"name": "k", "source": "", "destination": "/k", "type": "bind", "settable": ["source"]}]`),
			[]string{"DP313 warning"}, []string{"DP313 warning"}},
		{"image config", `{"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}`, []string{"DP007 error"}, []string{"DP007 error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.author, findings(Bytes("config.json", []byte(tt.in)))); diff != "" {
				t.Errorf("author view (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.author, findings(Bytes("config.json", []byte(tt.in), WithAudience(Author)))); diff != "" {
				t.Errorf("explicit author view (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.consumer, findings(Bytes("config.json", []byte(tt.in), ForConsumer()))); diff != "" {
				t.Errorf("consumer view (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClassSeverity(t *testing.T) {
	for _, c := range []Class{Refused, Misleading, Advice} {
		for _, a := range []Audience{Author, Consumer} {
			want := Warning
			if c == Refused || (c == Misleading && a == Author) {
				want = Error
			}
			if got := c.Severity(a); got != want {
				t.Errorf("%s.Severity(%s) = %s, want %s", c, a, got, want)
			}
		}
	}
}

// TestSettings: install-time settings are applied before checking, so the
// consumer checks the effective values.
func TestSettings(t *testing.T) {
	sshkey := cfg(`, "mounts": [{"name": "sshkey", "source": "", "destination": "/root/.ssh", "type": "bind", "options": ["rbind"], "settable": ["source"]}]`)
	nullSrc := cfg(`, "mounts": [{"name": "data", "source": null, "destination": "/data", "type": "bind", "options": ["rbind"], "settable": ["source"]}]`)
	noSrc := cfg(`, "mounts": [{"name": "data", "destination": "/data", "options": ["rbind"], "settable": ["source"]}]`)
	dev := cfg(`, "linux": {"devices": [{"name": "dev", "path": "/dev/fuse", "settable": ["path"]}]}`)
	env := cfg(`, "env": [{"name": "TOKEN", "settable": ["value"]}]`)
	emptyDev := cfg(`, "linux": {"devices": [{"name": "dev", "path": "", "settable": ["path"]}]}`)
	tests := []struct {
		name     string
		in       string
		settings []string
		want     []string
	}{
		{"empty source unset", sshkey, nil, []string{"DP313 warning"}},
		{"empty source set", sshkey, []string{"sshkey.source=/root/.ssh"}, []string{}},
		{"empty source set without field", sshkey, []string{"sshkey=/root/.ssh"}, []string{}},
		{"empty source set relative", sshkey, []string{"sshkey.source=.ssh"}, []string{"DP312 error"}},
		{"empty source set empty", sshkey, []string{"sshkey.source="}, []string{"DP313 warning"}},
		{"setting not found", sshkey, []string{"DEBUG=1"}, []string{"DP701 error", "DP313 warning"}},
		{"malformed setting", sshkey, []string{"=x"}, []string{"DP701 error", "DP313 warning"}},
		{"null source unset", nullSrc, nil, []string{"DP306 error"}},
		// dockerd refuses to set a null source ("Plugin config has no mount source").
		{"null source set", nullSrc, []string{"data.source=/srv/data"}, []string{"DP701 error", "DP306 error"}},
		{"absent source set", noSrc, []string{"data.source=/srv/data"}, []string{"DP306 error", "DP701 error"}},
		{"absent source, other setting", noSrc, []string{"other.source=/x"}, []string{"DP701 error", "DP306 error"}},
		{"env not settable", cfg(`, "env": [{"name": "A", "value": "1"}]`), []string{"A=2"}, []string{"DP701 error"}},
		{"env field not settable", env, []string{"TOKEN.source=x"}, []string{"DP701 error"}},
		{"several settable fields", cfg(`, "env": [{"name": "A", "value": "1", "settable": ["value", "value"]}]`), []string{"A=2"}, []string{"DP701 error", "DP402 warning"}},
		{"several settable fields, field named", cfg(`, "env": [{"name": "A", "value": "1", "settable": ["value", "value"]}]`), []string{"A.value=2"}, []string{"DP402 warning"}},
		{"args set", cfg(`, "args": {"name": "args", "settable": ["value"], "value": []}`), []string{"args=-v -x"}, []string{}},
		{"empty entrypoint, args set", noEP(`, "args": {"name": "args", "settable": ["value"], "value": []}`), []string{"args=/p -v"}, []string{}},
		{"empty entrypoint, args unset", noEP(`, "args": {"name": "args", "settable": ["value"], "value": []}`), nil, []string{"DP301 error"}},
		{"device path set relative", dev, []string{"dev.path=fuse"}, []string{"DP310 error"}},
		{"device path set", dev, []string{"dev=/dev/net/tun"}, []string{}},
		{"env set", env, []string{"TOKEN=x"}, []string{}},
		{"empty settable device path unset", emptyDev, nil, []string{"DP313 warning"}},
		{"empty settable device path set", emptyDev, []string{"dev=/dev/fuse"}, []string{}},
		{"empty device path not settable", cfg(`, "linux": {"devices": [{"name": "dev", "path": ""}]}`), nil, []string{"DP309 error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := findings(Bytes("config.json", []byte(tt.in), ForConsumer(), WithSettings(tt.settings...)))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%v (-want +got):\n%s", tt.settings, diff)
			}
		})
	}
	// The position of a set value is the value it replaces.
	d := Bytes("config.json", []byte(sshkey), WithSettings("sshkey.source=rel"))
	if len(d) != 1 || d[0].Pointer != "/mounts/0/source" || d[0].Line != 1 {
		t.Errorf("set value located at %v", d)
	}
	// dockerd's message for a refused setting.
	d = Bytes("config.json", []byte(nullSrc), WithSettings("data.source=/srv/data"))
	if len(d) != 2 || !strings.Contains(d[0].Message, `install-time setting "data.source=/srv/data": docker plugin set refuses it: Plugin config has no mount source`) {
		t.Errorf("refused setting: %v", d)
	}
	// Settings never change a settings document.
	if d := Bytes(SettingsFile, []byte(`{"Env": ["A=1"]}`), WithSettings("A=")); len(d) != 0 {
		t.Errorf("settings file with WithSettings: %v", d)
	}
}

func TestParseSetting(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"A=1", "A||1", true},
		{"A", "A||", true},
		{"m.source=/x", "m|source|/x", true},
		{"a.b.c=/x=y", "a.b|c|/x=y", true},
		{".x=1", ".x||1", true},
		{"=1", "||", false},
	}
	for _, tt := range tests {
		s, ok := parseSetting(tt.in)
		if got := fmt.Sprintf("%s|%s|%s", s.name, s.field, s.value); got != tt.want || ok != tt.ok {
			t.Errorf("parseSetting(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
