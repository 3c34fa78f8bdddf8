package probe

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestSettingsOptions(t *testing.T) {
	var o options
	opts, err := Settings{Strict: true, Opts: []string{"a=1", "b="}, Subnet: "10.20.0.7/24", IP: "10.20.0.5"}.Options()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range opts {
		f(&o)
	}
	if !o.strict || o.driverOpts["a"] != "1" || o.driverOpts["b"] != "" || o.subnet != "10.20.0.0/24" || o.ip != "10.20.0.5" {
		t.Errorf("options = %+v", o)
	}
	for _, bad := range []Settings{{Opts: []string{"=x"}}, {Opts: []string{"novalue"}}, {Subnet: "10.20.0.0"}, {IP: "host"}} {
		var ie *InputError
		if _, err := bad.Options(); !errors.As(err, &ie) {
			t.Errorf("%+v: err = %v, want an InputError", bad, err)
		}
	}
}

func TestReportWrite(t *testing.T) {
	r := &Report{Socket: "s", Checks: []Check{
		{Method: "VolumeDriver.Create", Name: "creates", Kind: Required, Status: StatusPass},
		{Method: "VolumeDriver.Get", Name: "gets", Kind: Advisory, Status: StatusWarn, Reason: "slow"},
	}}
	var b bytes.Buffer
	if err := r.Write(&b, "text", "p"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "WARN  advisory  VolumeDriver.Get     gets     slow\n") ||
		!strings.HasSuffix(b.String(), "2 checks, 0 failed, 1 warnings, 0 skipped\n") {
		t.Errorf("text:\n%s", b.String())
	}
	b.Reset()
	if err := r.Write(&b, "json", "p"); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Name   string  `json:"name"`
		Warned int     `json:"warned"`
		Checks []Check `json:"checks"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil || got.Name != "p" || got.Warned != 1 || len(got.Checks) != 2 {
		t.Errorf("json %s: %+v, %v", b.String(), got, err)
	}
}
