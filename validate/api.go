package validate

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Severity of a finding.
type Severity string

// Severities. Warnings fail only under Strict.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Diagnostic is one finding, located in its file.
type Diagnostic struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`    // 1-based; 0 when the file itself is at fault
	Column   int      `json:"column"`  // 1-based, in bytes
	Pointer  string   `json:"pointer"` // RFC 6901 JSON pointer, "" for the document
	Severity Severity `json:"severity"`
	Rule     string   `json:"rule"` // stable ID, e.g. DP101
	Message  string   `json:"message"`
	Hint     string   `json:"hint,omitempty"`
}

// String renders d the way compilers do, so editors and CI logs can jump to
// it: "path/config.json:LINE:COL: error: MESSAGE (DP101) hint: HINT".
// The line and column are left out when the whole file is at fault.
func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.File)
	if d.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", d.Line, d.Column)
	}
	fmt.Fprintf(&b, ": %s: %s (%s)", d.Severity, d.Message, d.Rule)
	if d.Hint != "" {
		b.WriteString(" hint: ")
		b.WriteString(d.Hint)
	}
	return b.String()
}

// Kind says which document a file is.
type Kind int

// Kinds of documents. KindAuto decides by file name: plugin-settings.json
// is settings, anything else a config.
const (
	KindAuto Kind = iota
	KindConfig
	KindSettings
)

// String names k as the CLI spells it.
func (k Kind) String() string {
	switch k {
	case KindConfig:
		return "config"
	case KindSettings:
		return "settings"
	default:
		return "auto"
	}
}

// SettingsFile is the file name KindAuto recognises as plugin settings.
const SettingsFile = "plugin-settings.json"

// ConfigFile is the file name a directory walk picks up as a config.
const ConfigFile = "config.json"

func (k Kind) resolve(name string) Kind {
	if k != KindAuto {
		return k
	}
	if filepath.Base(name) == SettingsFile {
		return KindSettings
	}
	return KindConfig
}

// DefaultMaxSize is the largest file validated (16 MiB). Real configs are a
// few KiB, but dockerd runs bigger ones (a 1,048,821-byte config was
// measured to work), so the cap only guards against a denial of service.
const DefaultMaxSize int64 = 16 << 20

// Audience says who reads the findings, which decides the severity of
// Misleading rules (see Class).
type Audience int

// Audiences.
const (
	// Author: the plugin's author (dplug validate, build, push DIR, the
	// pre-commit hook). Misleading findings are errors. The default.
	Author Audience = iota
	// Consumer: someone installing, pulling, running or testing a plugin
	// built by others. Misleading findings are warnings; only what dockerd
	// itself refuses is an error.
	Consumer
)

// String names a as the CLI spells it.
func (a Audience) String() string {
	if a == Consumer {
		return "consumer"
	}
	return "author"
}

// Option configures Bytes and Files.
type Option func(*options)

type options struct {
	kind     Kind
	maxSize  int64
	aud      Audience
	settings []string
}

func makeOptions(opts []Option) options {
	o := options{kind: KindAuto, maxSize: DefaultMaxSize}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.maxSize <= 0 {
		o.maxSize = DefaultMaxSize
	}
	return o
}

// WithKind forces the document kind instead of deciding by file name
// (default KindAuto).
func WithKind(k Kind) Option { return func(o *options) { o.kind = k } }

// WithMaxSize sets the size cap in bytes above which a file is reported as
// too large (DP003) instead of parsed (default DefaultMaxSize; <= 0 means the
// default).
func WithMaxSize(n int64) Option { return func(o *options) { o.maxSize = n } }

// WithAudience sets who reads the findings (default Author).
func WithAudience(a Audience) Option { return func(o *options) { o.aud = a } }

// ForConsumer is WithAudience(Consumer): the view of install, pull, run and
// test, where only what dockerd refuses is an error and what it accepts but
// runs differently (class Misleading) is a warning stating the consequence.
func ForConsumer() Option { return WithAudience(Consumer) }

// WithSettings validates the config with install-time settings applied, as
// `docker plugin set` and `dplug install REF KEY=VALUE...` take them:
// NAME=VALUE or NAME.FIELD=VALUE (env and args value, mount source, device
// path). The checks then see the effective values: a settable mount source
// left empty that is set is no longer reported, a relative one set is
// DP312. A setting docker plugin set refuses (malformed, not found, not
// settable, or a mount source or device path that is null in the config) is
// DP701 with dockerd's message. Settings documents are not affected.
func WithSettings(settings ...string) Option {
	return func(o *options) { o.settings = append(o.settings, settings...) }
}

// Report is the result of validating many files.
type Report struct {
	Files       int          // files validated
	Diagnostics []Diagnostic // sorted by file, line, column, rule
}

// Errors counts error diagnostics.
func (r *Report) Errors() int { return count(r.Diagnostics, Error) }

// Warnings counts warning diagnostics.
func (r *Report) Warnings() int { return count(r.Diagnostics, Warning) }

// Failed reports whether the run should fail: any error, or, when strict,
// any warning.
func (r *Report) Failed(strict bool) bool {
	if strict {
		return len(r.Diagnostics) > 0
	}
	return r.Errors() > 0
}

// Split separates errors from warnings, keeping their order: callers that
// act on a config (pack, install, build) refuse it on errors and only show
// the warnings.
func Split(diags []Diagnostic) (errs, warnings []Diagnostic) {
	for _, d := range diags {
		if d.Severity == Error {
			errs = append(errs, d)
		} else {
			warnings = append(warnings, d)
		}
	}
	return errs, warnings
}

func count(diags []Diagnostic, s Severity) int {
	n := 0
	for _, d := range diags {
		if d.Severity == s {
			n++
		}
	}
	return n
}

// ParseKind reads a Kind as String spells it: auto, config or settings.
func ParseKind(s string) (Kind, error) {
	for _, k := range []Kind{KindAuto, KindConfig, KindSettings} {
		if s == k.String() {
			return k, nil
		}
	}
	return KindAuto, fmt.Errorf("unknown --kind %q: use auto, config or settings", s)
}
