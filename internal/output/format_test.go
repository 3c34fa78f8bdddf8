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

func TestSize(t *testing.T) {
	for _, tt := range []struct {
		set     string
		want    Size
		printed string
		err     bool
	}{
		{set: "", want: 0, printed: "", err: true},
		{set: "8GiB", want: 8 << 30, printed: "8.00 GiB"},
		{set: "512M", want: 512 << 20, printed: "512.0 MiB"},
		{set: "1000", want: 1000, printed: "1000 B"},
		{set: "-1", want: 0, printed: "", err: true},
	} {
		t.Run(tt.set, func(t *testing.T) {
			var s Size
			err := s.Set(tt.set)
			if (err != nil) != tt.err {
				t.Fatalf("Set(%q) error %v, want error %t", tt.set, err, tt.err)
			}
			if s != tt.want || s.String() != tt.printed {
				t.Errorf("Set(%q) = %d %q, want %d %q", tt.set, s, s.String(), tt.want, tt.printed)
			}
			if s.Type() != "SIZE" {
				t.Errorf("Type() = %q, want SIZE", s.Type())
			}
		})
	}
}

func TestLines(t *testing.T) {
	type row struct{ ID, Name string }
	rows := []row{{"a", "x:1"}, {"b", "y:2"}}
	for _, tt := range []struct{ format, want string }{
		{"json", `{"ID":"a","Name":"x:1"}` + "\n" + `{"ID":"b","Name":"y:2"}` + "\n"},
		{"{{.Name}}", "x:1\ny:2\n"},
		{"{{json .ID}}", "\"a\"\n\"b\"\n"},
	} {
		var out bytes.Buffer
		if err := Lines(&out, "ls", tt.format, rows); err != nil {
			t.Fatalf("Lines(%q): %v", tt.format, err)
		}
		if out.String() != tt.want {
			t.Errorf("Lines(%q) = %q, want %q", tt.format, out.String(), tt.want)
		}
	}
}

func TestInspect(t *testing.T) {
	type view struct {
		ID   string `json:"Id"`
		Name string
	}
	views := []view{{"a", "x:1"}, {"b", "y:2"}}
	for _, tt := range []struct{ format, want string }{
		{"", "[\n    {\n        \"Id\": \"a\",\n        \"Name\": \"x:1\"\n    },\n    {\n        \"Id\": \"b\",\n        \"Name\": \"y:2\"\n    }\n]\n"},
		{"{{.Id}} {{.Name}}", "a x:1\nb y:2\n"},
	} {
		var out bytes.Buffer
		if err := Inspect(&out, "inspect", tt.format, views); err != nil {
			t.Fatalf("Inspect(%q): %v", tt.format, err)
		}
		if out.String() != tt.want {
			t.Errorf("Inspect(%q) = %q, want %q", tt.format, out.String(), tt.want)
		}
	}
	var out bytes.Buffer
	if err := Inspect(&out, "inspect", "", []view{}); err != nil || out.String() != "[]\n" {
		t.Errorf("Inspect of none = %q, %v; want []", out.String(), err)
	}
}
