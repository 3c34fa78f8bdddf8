package validate

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// Settings are `dplug validate`'s choices as typed (its flags): Check
// turns them into Options and validates files with them.
type Settings struct {
	Kind     string   // auto (by name; also ""), config or settings (ParseKind)
	Consumer bool     // judge as a consumer (ForConsumer)
	Set      []string // install-time settings NAME[.FIELD]=VALUE (WithSettings)
	Strict   bool     // warnings fail too (Report.Failed)
}

// Options checks the settings and returns the Options they stand for.
func (s Settings) Options() ([]Option, error) {
	kind, err := ParseKind(cmp.Or(s.Kind, KindAuto.String()))
	if err != nil {
		return nil, err
	}
	opts := []Option{WithKind(kind), WithSettings(s.Set...)}
	if s.Consumer {
		opts = append(opts, ForConsumer())
	}
	return opts, nil
}

// Check validates paths as Files does, config.json in the working
// directory when there are none. Every error is the caller's input: a bad
// setting, a path that cannot be read, or paths holding no config.json or
// plugin-settings.json.
func (s Settings) Check(paths []string) (*Report, error) {
	implicit := len(paths) == 0
	if implicit {
		paths = []string{"config.json"}
	}
	opts, err := s.Options()
	if err != nil {
		return nil, err
	}
	report, err := Files(paths, opts...)
	if implicit && errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: give the FILE or DIR to check, or run it where config.json is", err)
	}
	if err != nil {
		return nil, err
	}
	if report.Files == 0 {
		return nil, fmt.Errorf("no config.json or plugin-settings.json found in %s", strings.Join(paths, ", "))
	}
	return report, nil
}

// Summary is the report's counts in one line: "validated 2 file(s): 1
// error(s), 0 warning(s)".
func (r *Report) Summary() string {
	return fmt.Sprintf("validated %d file(s): %d error(s), %d warning(s)", r.Files, r.Errors(), r.Warnings())
}
