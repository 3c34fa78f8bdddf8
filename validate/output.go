package validate

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
)

// WriteText writes one diagnostic per line in Diagnostic.String form.
func WriteText(w io.Writer, diags []Diagnostic) error {
	bw := bufio.NewWriter(w)
	for _, d := range diags {
		bw.WriteString(d.String())
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing diagnostics: %w", err)
	}
	return nil
}

// WriteJSON writes diags as one indented JSON array ("[]" when clean), each
// element with the fields file, line, column, pointer, severity, rule,
// message and hint.
func WriteJSON(w io.Writer, diags []Diagnostic) error {
	if diags == nil {
		diags = []Diagnostic{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(diags); err != nil {
		return fmt.Errorf("writing diagnostics: %w", err)
	}
	return nil
}

// SARIF 2.1.0, the subset code-scanning UIs read.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string        `json:"id"`
	ShortDescription     sarifMessage  `json:"shortDescription"`
	DefaultConfiguration sarifRuleConf `json:"defaultConfiguration"`
}

type sarifRuleConf struct {
	Level string `json:"level"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
}

// WriteSARIF writes diags as a SARIF 2.1.0 log with every rule of Rules in
// the driver, for code-scanning UIs. toolVersion is dplug's version.
func WriteSARIF(w io.Writer, diags []Diagnostic, toolVersion string) error {
	drv := sarifDriver{Name: "dplug", Version: toolVersion, InformationURI: "https://github.com/dplug/dplug"}
	index := make(map[string]int, len(Rules))
	for i, r := range Rules {
		index[r.ID] = i
		drv.Rules = append(drv.Rules, sarifRule{ID: r.ID, ShortDescription: sarifMessage{r.Summary},
			DefaultConfiguration: sarifRuleConf{sarifLevel(r.Severity())}})
	}
	results := make([]sarifResult, 0, len(diags))
	for _, d := range diags {
		msg := d.Message
		if d.Hint != "" {
			msg += " (hint: " + d.Hint + ")"
		}
		loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: fileURI(d.File)}}}
		if d.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: d.Line, StartColumn: max(d.Column, 1)}
		}
		results = append(results, sarifResult{RuleID: d.Rule, RuleIndex: index[d.Rule], Level: sarifLevel(d.Severity),
			Message: sarifMessage{msg}, Locations: []sarifLocation{loc}})
	}
	log := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{{Tool: sarifTool{Driver: drv}, Results: results}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(log); err != nil {
		return fmt.Errorf("writing SARIF: %w", err)
	}
	return nil
}

func sarifLevel(s Severity) string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// fileURI renders a path as a SARIF artifact URI: relative paths stay
// relative (resolved against the checkout by code-scanning UIs), absolute
// ones become file:// URIs.
func fileURI(p string) string {
	s := filepath.ToSlash(p)
	if filepath.IsAbs(p) {
		if !strings.HasPrefix(s, "/") {
			s = "/" + s // Windows drive letter
		}
		return (&url.URL{Scheme: "file", Path: s}).String()
	}
	return (&url.URL{Path: strings.TrimPrefix(s, "./")}).String()
}

// Write writes diags in format: "json" (WriteJSON), "sarif" (WriteSARIF,
// naming toolVersion) or anything else as text (WriteText).
func Write(w io.Writer, format string, diags []Diagnostic, toolVersion string) error {
	switch format {
	case "json":
		return WriteJSON(w, diags)
	case "sarif":
		return WriteSARIF(w, diags, toolVersion)
	}
	return WriteText(w, diags)
}
