package validate

import (
	"fmt"
	"strings"
)

// ConfigError is a plugin config that has errors: dockerd would refuse it
// or the plugin would fail in use, so the command (build, pack, install,
// run, test, push, ...) stops before doing anything. Every command reports
// a bad config with this one type, so callers branch on it with errors.As.
type ConfigError struct {
	File        string       // the config's name as the diagnostics locate it; may be empty
	Diagnostics []Diagnostic // errors and warnings, in the validator's order
}

// NewConfigError returns a *ConfigError for diags when they hold at least
// one error, and nil when they hold only warnings (or nothing).
func NewConfigError(file string, diags []Diagnostic) error {
	if count(diags, Error) == 0 {
		return nil
	}
	return &ConfigError{File: file, Diagnostics: diags}
}

// Errors returns the diagnostics of severity Error.
func (e *ConfigError) Errors() []Diagnostic {
	errs, _ := Split(e.Diagnostics)
	return errs
}

// Warnings returns the diagnostics that are not errors; Error leaves them
// out so that the commands print them the way they print any warning.
func (e *ConfigError) Warnings() []Diagnostic {
	_, warnings := Split(e.Diagnostics)
	return warnings
}

// Error lists the errors, one located diagnostic a line, after a summary
// that says what to do.
func (e *ConfigError) Error() string {
	errs := e.Errors()
	var b strings.Builder
	plural := ""
	if len(errs) != 1 {
		plural = "s"
	}
	fmt.Fprintf(&b, "invalid plugin config, %d error%s (fix them; `dplug validate` checks again):", len(errs), plural)
	for _, d := range errs {
		b.WriteString("\n  ")
		b.WriteString(d.String())
	}
	return b.String()
}
