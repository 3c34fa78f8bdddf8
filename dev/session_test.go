package dev

import (
	"bytes"
	"testing"

	"github.com/dplug/dplug/probe"
)

func TestVerdict(t *testing.T) {
	var out bytes.Buffer
	pass := &probe.Report{Checks: []probe.Check{{Status: probe.StatusPass}, {Status: probe.StatusSkip}}}
	if note, err := Verdict(&out, pass); err != nil || note != "PASS (2 checks)" || out.Len() != 0 {
		t.Errorf("Verdict(pass) = %q, %v; printed %q", note, err, out.String())
	}
	fail := &probe.Report{Checks: []probe.Check{
		{Status: probe.StatusPass},
		{Method: "VolumeDriver.Get", Name: "an unknown volume is an error", Status: probe.StatusFail, Reason: "answered 200"},
	}}
	note, err := Verdict(&out, fail)
	if note != "FAIL" || err == nil || err.Error() != "1 of 2 checks failed" {
		t.Errorf("Verdict(fail) = %q, %v", note, err)
	}
	if got := out.String(); got != "dev: FAIL VolumeDriver.Get: an unknown volume is an error: answered 200\n" {
		t.Errorf("Verdict(fail) printed %q", got)
	}
}
