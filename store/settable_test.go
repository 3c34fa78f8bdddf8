package store

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dplug/dplug/plugin"
)

// TestSet checks Set against the rules of moby plugin/v2/plugin.go Set and
// settable.go, message for message.
func TestSet(t *testing.T) {
	base := func() *Plugin {
		c := testConfig()
		c.Env = append(c.Env, plugin.Env{Name: "MULTI", Settable: []string{"value", "description"}, Value: strp("m")})
		return &Plugin{Name: "p", Tag: "latest", Config: c, Settings: c.DefaultSettings()}
	}
	def := base().Settings
	with := func(f func(s *plugin.Settings)) plugin.Settings {
		s := base().Settings
		f(&s)
		return s
	}
	tests := []struct {
		name    string
		args    []string
		enabled bool
		want    plugin.Settings
		wantErr string
	}{
		{name: "env", args: []string{"DEBUG=1"}, want: with(func(s *plugin.Settings) { s.Env[0] = "DEBUG=1" })},
		{name: "env explicit field", args: []string{"DEBUG.value=2"}, want: with(func(s *plugin.Settings) { s.Env[0] = "DEBUG=2" })},
		{name: "env without value", args: []string{"DEBUG"}, want: with(func(s *plugin.Settings) { s.Env[0] = "DEBUG=" })},
		{name: "env value with = and .", args: []string{"DEBUG=a=b.c"}, want: with(func(s *plugin.Settings) { s.Env[0] = "DEBUG=a=b.c" })},
		{name: "env with no default value is appended", args: []string{"UNSET=y"}, want: with(func(s *plugin.Settings) { s.Env = append(s.Env, "UNSET=y") })},
		{name: "env multiple settables need a field", args: []string{"MULTI=x"}, wantErr: "multiple fields are settable, one must be specified"},
		{name: "env multiple settables with field", args: []string{"MULTI.value=x"}, want: with(func(s *plugin.Settings) { s.Env[2] = "MULTI=x" })},
		{name: "env field not allowed", args: []string{"MULTI.description=x"}, wantErr: `"MULTI.description" is not settable`},
		{name: "env not settable", args: []string{"FIXED=1"}, wantErr: `"FIXED" is not settable`},
		{name: "env unknown field", args: []string{"DEBUG.path=1"}, wantErr: `"DEBUG.path" is not settable`},
		{name: "mount source", args: []string{"data=/srv"}, want: with(func(s *plugin.Settings) { s.Mounts[0].Source = strp("/srv") })},
		{name: "mount source field", args: []string{"data.source=/srv"}, want: with(func(s *plugin.Settings) { s.Mounts[0].Source = strp("/srv") })},
		{name: "mount other field", args: []string{"data.destination=/x"}, wantErr: `"data.destination" is not settable`},
		{name: "mount without source", args: []string{"nosrc=/x"}, wantErr: "Plugin config has no mount source"},
		{name: "device path", args: []string{"fuse=/dev/fuse2"}, want: with(func(s *plugin.Settings) { s.Devices[0].Path = strp("/dev/fuse2") })},
		{name: "device bad field", args: []string{"fuse.source=/x"}, wantErr: `"fuse.source" is not settable`},
		{name: "args split on single spaces", args: []string{"args=-a  -b"}, want: with(func(s *plugin.Settings) { s.Args = []string{"-a", "", "-b"} })},
		{name: "several at once", args: []string{"DEBUG=1", "args=x"}, want: with(func(s *plugin.Settings) { s.Env[0] = "DEBUG=1"; s.Args = []string{"x"} })},
		{name: "invalid format", args: []string{"=x"}, wantErr: "invalid format, must be <name>[.<field>][=<value>]"},
		{name: "not found", args: []string{"NOPE=1"}, wantErr: `setting "NOPE" not found in the plugin configuration`},
		{name: "not found with field", args: []string{"NOPE.value=1"}, wantErr: `setting "NOPE" not found in the plugin configuration`},
		{name: "enabled", args: []string{"DEBUG=1"}, enabled: true, wantErr: "cannot set on an active plugin, disable plugin before setting"},
		{name: "no args", args: nil, want: def},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base()
			p.Enabled = tt.enabled
			err := applySettings(p, tt.args)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Set(%q) error = %v, want %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, p.Settings); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(base().Config, p.Config); diff != "" {
				t.Errorf("Set changed the config (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSetPersists checks Set through the store: saved on success, nothing
// saved when one of several settings fails.
func TestSetPersists(t *testing.T) {
	s, _ := openStore(t)
	install(t, s, "plug", func(o *InstallOptions) { o.Disabled = true; o.Settings = []string{"DEBUG=3"} })
	p, _ := s.Get("plug")
	if p.Settings.Env[0] != "DEBUG=3" || p.Enabled {
		t.Fatalf("install-time settings: %+v", p)
	}
	if _, err := s.Set("plug", []string{"DEBUG=4", "FIXED=1"}); err == nil {
		t.Fatal("Set with a bad setting succeeded")
	}
	if p, _ = s.Get("plug"); p.Settings.Env[0] != "DEBUG=3" {
		t.Errorf("failed Set changed settings: %v", p.Settings.Env)
	}
	if _, err := s.Set("plug", []string{"DEBUG=5"}); err != nil {
		t.Fatal(err)
	}
	if p, _ = s.Get("plug"); p.Settings.Env[0] != "DEBUG=5" {
		t.Errorf("Set not persisted: %v", p.Settings.Env)
	}
}
