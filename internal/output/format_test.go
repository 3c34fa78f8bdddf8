package output

import (
	"bytes"
	"strings"
	"testing"
)

func TestExecuteFormat(t *testing.T) {
	// A value like store.Inspect: Go field ID, JSON key Id.
	type settings struct{ Env []string }
	v := struct {
		ID       string `json:"Id"`
		Name     string
		Enabled  bool
		Settings settings
	}{ID: "abc123", Name: "me/p:1", Enabled: true, Settings: settings{Env: []string{"DEBUG=1"}}}
	for _, tt := range []struct {
		format, want, err string
	}{
		{format: "{{.ID}}", want: "abc123"},
		{format: "{{.Id}}", want: "abc123"}, // the JSON key, as with docker plugin inspect
		{format: "{{.Name}} {{.Enabled}}", want: "me/p:1 true"},
		{format: "{{json .Settings.Env}}", want: `["DEBUG=1"]`},
		{format: "{{.Settings.Env}}", want: "[DEBUG=1]"},
		{format: "{{.Nope}}", err: "can't evaluate field Nope"},
		{format: "{{.Name.Foo}}", err: "can't evaluate field Foo"},
	} {
		t.Run(tt.format, func(t *testing.T) {
			tmpl, err := Template("inspect", tt.format)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err = Execute(&out, tmpl, v)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				if out.Len() != 0 {
					t.Errorf("wrote %q on error", out.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got %q, want %q", out.String(), tt.want)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1000000": 1000000, "512MiB": 512 << 20, "8G": 8 << 30, "4gib": 4 << 30, "2KB": 2 << 10, "1Ti": 1 << 40} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "1X", "MiB", "9999999999T"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}
