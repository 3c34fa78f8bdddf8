package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzBytes checks that Bytes never panics, that every diagnostic is well
// formed and located inside the document, and that the scanner accepts
// exactly what encoding/json (and so dockerd) accepts. Seeds: the table
// cases, the corpus and testdata/fuzz/FuzzBytes.
func FuzzBytes(f *testing.F) {
	for _, tc := range cases {
		in, _ := tc.prepare()
		f.Add([]byte(in), tc.file == SettingsFile)
	}
	corpus, _ := filepath.Glob(filepath.Join("testdata", "corpus", "*.json*"))
	for _, p := range corpus {
		if data, err := os.ReadFile(p); err == nil && !strings.HasSuffix(p, ".golden") {
			f.Add(data, false)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, settings bool) {
		kind := KindConfig
		if settings {
			kind = KindSettings
		}
		diags := Bytes("config.json", data, WithKind(kind))
		checkWellFormed(t, data, diags)

		// The consumer view has the same findings, never more severe.
		consumer := Bytes("config.json", data, WithKind(kind), ForConsumer())
		if len(consumer) != len(diags) {
			t.Fatalf("author view %v, consumer view %v", diags, consumer)
		}
		for i, d := range consumer {
			if d.Rule != diags[i].Rule || (d.Severity == Error && diags[i].Severity != Error) {
				t.Errorf("author %v, consumer %v", diags[i], d)
			}
		}
		// Install-time settings never break the invariants.
		checkWellFormed(t, data, Bytes("config.json", data, WithKind(kind),
			WithSettings("A=1", "state.source=rel", "sshkey.source=", "x.path=/dev/x", "args=-a -b", "m.value=v", "=1", "DEBUG")))

		syntax := false
		for _, d := range diags {
			if d.Rule == "DP001" || d.Rule == "DP005" || d.Rule == "DP002" {
				syntax = true
			}
		}
		if len(data) <= int(DefaultMaxSize) && syntax == json.Valid(data) {
			t.Errorf("json.Valid = %v, but the scanner's syntax diagnostics are %v", json.Valid(data), diags)
		}
		if len(data) <= int(DefaultMaxSize) && !syntax {
			checkParity(t, data, settings, diags)
		}
	})
}

// checkParity asserts that DP100 ("dockerd fails to parse the config") is
// reported exactly when encoding/json fails to decode data into moby's types.
func checkParity(t *testing.T, data []byte, settings bool, diags []Diagnostic) {
	t.Helper()
	var err error
	if settings {
		err = json.Unmarshal(data, new(mobySettings))
	} else {
		err = json.Unmarshal(data, new(mobyConfig))
	}
	dp100 := false
	for _, d := range diags {
		dp100 = dp100 || d.Rule == "DP100"
	}
	if (err != nil) != dp100 {
		t.Errorf("%s: encoding/json into moby's types: %v; but DP100 reported = %v: %v", data, err, dp100, diags)
	}
}

// checkWellFormed asserts the invariants every diagnostic keeps.
func checkWellFormed(t *testing.T, data []byte, diags []Diagnostic) {
	t.Helper()
	lines := bytes.Count(data, []byte("\n")) + 1
	for i, d := range diags {
		if d.Message == "" || d.File != "config.json" {
			t.Errorf("diagnostic without message or file: %+v", d)
		}
		if d.Severity != severityOf(d.Rule, Author) && d.Severity != severityOf(d.Rule, Consumer) {
			t.Errorf("diagnostic %s has severity %s, its rule says %s", d.Rule, d.Severity, severityOf(d.Rule, Author))
		}
		known := false
		for _, r := range Rules {
			known = known || r.ID == d.Rule
		}
		if !known {
			t.Errorf("diagnostic with unknown rule %q", d.Rule)
		}
		if d.Line < 0 || d.Line > lines || (d.Line > 0 && d.Column < 1) || (d.Line == 0 && d.Rule != "DP003") {
			t.Errorf("diagnostic %s at %d:%d outside the document (%d lines)", d.Rule, d.Line, d.Column, lines)
		}
		if d.Pointer != "" && d.Pointer[0] != '/' {
			t.Errorf("diagnostic %s has pointer %q, want RFC 6901", d.Rule, d.Pointer)
		}
		if i > 0 && (diags[i-1].Line > d.Line || (diags[i-1].Line == d.Line && diags[i-1].Column > d.Column)) {
			t.Errorf("diagnostics not sorted: %v before %v", diags[i-1], d)
		}
	}
}

// mobyConfig and friends decode like moby's api/types PluginConfig and
// PluginSettings: the same Go field types, so encoding/json fails exactly
// where dockerd's "failed to parse config" does.
type mobyConfig struct {
	Args struct {
		Description, Name string
		Settable, Value   []string
	}
	Description, DockerVersion, Documentation string
	Entrypoint                                []string
	Env                                       []struct {
		Description, Name string
		Settable          []string
		Value             *string
	}
	Interface struct {
		ProtocolScheme, Socket string
		Types                  []mobyInterfaceType
	}
	IpcHost bool
	Linux   struct {
		AllowAllDevices bool
		Capabilities    []string
		Devices         []mobyDevice
	}
	Mounts          []mobyMount
	Network         struct{ Type string }
	PidHost         bool
	PropagatedMount string
	User            struct{ UID, GID uint32 }
	WorkDir         string
	Rootfs          *struct {
		DiffIds []string `json:"diff_ids"`
		Type    string   `json:"type"`
	} `json:"rootfs"`
}

type mobySettings struct {
	Mounts    []mobyMount
	Env, Args []string
	Devices   []mobyDevice
}

type mobyDevice struct {
	Description, Name string
	Path              *string
	Settable          []string
}

type mobyMount struct {
	Description, Destination, Name string
	Options, Settable              []string
	Source                         *string
	Type                           string
}

// mobyInterfaceType accepts only a JSON string, like moby's decoder.
type mobyInterfaceType struct{ s string }

func (t *mobyInterfaceType) UnmarshalJSON(p []byte) error {
	if len(p) < 2 || p[0] != '"' || p[len(p)-1] != '"' {
		return fmt.Errorf("%q is not a plugin interface type", p)
	}
	t.s = string(p)
	return nil
}
