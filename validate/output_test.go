package validate

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var sample = []Diagnostic{
	{File: "p/config.json", Line: 3, Column: 5, Pointer: "/Mounts/0", Severity: Error, Rule: "DP306", Message: "mount has no source", Hint: "set it"},
	{File: "/abs/config.json", Line: 1, Column: 1, Severity: Warning, Rule: "DP103", Message: `unknown key "x" <&>`},
	{File: "big.json", Severity: Error, Rule: "DP003", Message: "too large"},
}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, sample); err != nil {
		t.Fatal(err)
	}
	want := "p/config.json:3:5: error: mount has no source (DP306) hint: set it\n" +
		"/abs/config.json:1:1: warning: unknown key \"x\" <&> (DP103)\n" +
		"big.json: error: too large (DP003)\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "[]\n" {
		t.Errorf("clean = %q, want []", got)
	}
	buf.Reset()
	if err := WriteJSON(&buf, sample); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"file": "p/config.json", "line": 3.0, "column": 5.0, "pointer": "/Mounts/0",
		"severity": "error", "rule": "DP306", "message": "mount has no source", "hint": "set it"}
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("first element (-want +got):\n%s", diff)
	}
	if _, ok := got[1]["hint"]; ok {
		t.Error("empty hint should be omitted")
	}
	if !strings.Contains(buf.String(), `<&>`) {
		t.Error("HTML characters should not be escaped")
	}
}

func TestWriteSARIF(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, sample, "1.2.3"); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name    string `json:"name"`
					Version string `json:"version"`
					Rules   []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region *struct {
							StartLine   int `json:"startLine"`
							StartColumn int `json:"startColumn"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("version %q, %d runs", log.Version, len(log.Runs))
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name != "dplug" || run.Tool.Driver.Version != "1.2.3" || len(run.Tool.Driver.Rules) != len(Rules) {
		t.Errorf("driver = %+v", run.Tool.Driver)
	}
	if len(run.Results) != 3 {
		t.Fatalf("%d results", len(run.Results))
	}
	r0 := run.Results[0]
	if r0.RuleID != "DP306" || run.Tool.Driver.Rules[r0.RuleIndex].ID != "DP306" || r0.Level != "error" {
		t.Errorf("result 0 = %+v", r0)
	}
	loc := r0.Locations[0].PhysicalLocation
	if loc.ArtifactLocation.URI != "p/config.json" || loc.Region == nil || loc.Region.StartLine != 3 || loc.Region.StartColumn != 5 {
		t.Errorf("location 0 = %+v", loc)
	}
	if u := run.Results[1].Locations[0].PhysicalLocation.ArtifactLocation.URI; u != "file:///abs/config.json" {
		t.Errorf("absolute path URI = %q", u)
	}
	if run.Results[1].Level != "warning" {
		t.Errorf("warning level = %q", run.Results[1].Level)
	}
	if run.Results[2].Locations[0].PhysicalLocation.Region != nil {
		t.Error("whole-file diagnostic should have no region")
	}
}
