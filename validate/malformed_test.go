package validate

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestMalformed covers inputs that must give one located error, never a
// panic, and agree with encoding/json on what is valid JSON.
func TestMalformed(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	deepObj := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	huge := cfg(`, "x": "` + strings.Repeat("a", 17<<20) + `"`)
	// dockerd creates, enables and runs a config of 1,048,821 bytes.
	big := cfg(`, "description": "` + strings.Repeat("a", 1048821-len(cfg(`, "description": ""`))) + `"`)
	tests := []struct {
		name string
		in   string
		rule string // the single error expected ("" for none)
		at   string // its line:col
	}{
		{"truncated object", `{"description": "d", `, "DP001", "1:22"},
		{"truncated after key", `{"description"`, "DP001", "1:15"},
		{"truncated literal", `{"ipchost": tru`, "DP001", "1:16"},
		{"truncated number", `{"user": {"uid": 1.`, "DP001", "1:20"},
		{"truncated escape", `{"description": "\u00`, "DP001", "1:22"},
		{"trailing comma", "{\n  \"a\": 1,\n}", "DP001", "3:1"},
		{"missing comma", "{\"a\": 1\n \"b\": 2}", "DP001", "2:2"},
		{"missing colon", `{"a" 1}`, "DP001", "1:6"},
		{"BOM then valid", "\uFEFF" + cfg(""), "DP002", "1:1"},
		{"NUL bytes", "\x00\x00\x00", "DP001", "1:1"},
		{"binary garbage", "\x89PNG\r\n\x1a\n\x00\x00", "DP001", "1:1"},
		{"garbage after config", cfg("") + "}", "DP001", "1:146"},
		{"two documents", cfg("") + "\n" + cfg(""), "DP001", "2:1"},
		{"NaN", `{"user": {"uid": NaN}}`, "DP001", "1:18"},
		{"hex number", `{"user": {"uid": 0x10}}`, "DP001", "1:19"},
		{"raw newline in string", "{\"description\": \"a\nb\"}", "DP001", "1:19"},
		{"10000 nested arrays under an unknown key (encoding/json's limit)", cfg(`, "x": ` + deep(9999)), "", ""},
		{"10001 nested arrays", cfg(`, "x": ` + deep(10000)), "DP005", "1:10151"},
		{"100k nested arrays", deep(100000), "DP005", "1:10001"},
		{"deep objects", deepObj(20000), "DP005", "1:50001"},
		{"huge file", huge, "DP003", "0:0"},
		{"1,048,821-byte config that dockerd runs", big, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			// The consumer view: an unknown key "x" is then only a warning.
			diags := Bytes("config.json", []byte(tt.in), ForConsumer())
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			checkWellFormed(t, []byte(tt.in), diags)
			var errs []string
			for _, d := range diags {
				if d.Severity == Error {
					errs = append(errs, d.Rule+"@"+itoa2(d.Line)+":"+itoa2(d.Column))
				}
			}
			var want []string
			if tt.rule != "" {
				want = []string{tt.rule + "@" + tt.at}
			}
			if strings.Join(errs, " ") != strings.Join(want, " ") {
				t.Errorf("errors = %v, want %v (all: %v)", errs, want, diags)
			}
			if len(tt.in) < int(DefaultMaxSize) && !bytes.HasPrefix([]byte(tt.in), bom) {
				if valid := json.Valid([]byte(tt.in)); valid != (tt.rule == "" || tt.rule[:3] == "DP1") {
					t.Errorf("json.Valid = %v disagrees", valid)
				}
			}
		})
	}
}

func itoa2(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// TestDuplicateKeys: the last key wins, whatever its case; the earlier one
// is reported where it is.
func TestDuplicateKeys(t *testing.T) {
	in := "{\n" +
		`  "description": "first",` + "\n" +
		`  "documentation": "d", "entrypoint": ["/p"],` + "\n" +
		`  "interface": {"types": ["docker.authz/1.0"], "socket": "a.sock", "Socket": "b.sock"},` + "\n" +
		`  "Description": "second"` + "\n}"
	diags := Bytes("config.json", []byte(in))
	var got []string
	for _, d := range diags {
		got = append(got, d.Rule+"@"+itoa2(d.Line)+":"+itoa2(d.Column)+" "+d.Message)
	}
	want := []string{
		`DP004@2:3 duplicate key "description": overridden by "Description" at 5:3`,
		`DP004@4:48 duplicate key "socket": overridden by "Socket" at 4:68`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestShadowedTypeErrors: both values of a duplicate key are decoded by
// encoding/json, so a type error in either fails dockerd's parse.
func TestShadowedTypeErrors(t *testing.T) {
	in := `{"IpcHost": "x", "ipchost": "y"}`
	var got []string
	for _, d := range Bytes("config.json", []byte(in)) {
		if d.Rule == "DP100" || d.Rule == "DP004" {
			got = append(got, d.Rule+"@"+itoa2(d.Column))
		}
	}
	want := []string{"DP004@2", "DP100@13", "DP100@29"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestLongNumbersLinear: a number of 2,000,000 digits is validated in
// linear time wherever it stands (it took seconds, super-linear, when the
// schema parsed it as a big rational), and messages do not repeat it.
func TestLongNumbersLinear(t *testing.T) {
	num := "1" + strings.Repeat("0", 2_000_000)
	tests := []struct{ name, in, rule string }{
		{"uid", cfg(`, "user": {"uid": ` + num + `}`), "DP100"},
		{"negative gid", cfg(`, "user": {"gid": -` + num + `}`), "DP100"},
		{"fraction uid", cfg(`, "user": {"uid": 0.` + num + `}`), "DP100"},
		{"exponent uid", cfg(`, "user": {"uid": 1e` + num + `}`), "DP100"},
		{"description", cfg(`, "description": ` + num), "DP100"},
		{"entrypoint element", cfg(`, "entrypoint": [` + num + `]`), "DP100"},
		{"unknown key", cfg(`, "x": ` + num), "DP103"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			diags := Bytes("config.json", []byte(tt.in))
			// Linear is a few ms here; the old code took over 10 s.
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			found := false
			for _, d := range diags {
				found = found || d.Rule == tt.rule
				if len(d.Message) > 300 {
					t.Errorf("%s message is %d bytes long", d.Rule, len(d.Message))
				}
			}
			if !found {
				t.Errorf("no %s in %v", tt.rule, diags)
			}
		})
	}
}
