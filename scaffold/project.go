package scaffold

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Project is a plugin project Init created: what dplug init -o json
// prints, and what WriteNext tells the author to do with it.
type Project struct {
	Dir   string   `json:"dir"`
	Type  string   `json:"type"`
	Name  string   `json:"name"`
	Files []string `json:"files"` // the paths written, sorted
}

// Init creates a plugin project of type typ in dir with Write, naming it
// after dir (DirName) unless WithName says otherwise. A dir that exists
// and is not a directory, an unknown type, a bad name or module path are
// an *InputError (returned unwrapped); an *ExistsError or a failure to
// write is wrapped as "creating plugin project".
func Init(dir, typ string, opts ...Option) (*Project, error) {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, &InputError{Err: fmt.Errorf("%s exists and is not a directory: give a new or existing project directory", dir)}
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.name == "" {
		name, err := DirName(dir)
		if err != nil {
			return nil, err
		}
		o.name = name
		opts = append(opts, WithName(name))
	}
	files, err := Write(dir, typ, opts...)
	if ie := (*InputError)(nil); errors.As(err, &ie) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("creating plugin project: %w", err)
	}
	return &Project{Dir: dir, Type: typ, Name: o.name, Files: files}, nil
}

// Write writes p as dplug init prints it: with asJSON, p as indented JSON
// on out; else the paths written on out, one a line, and WriteNext's steps
// on errOut.
func (p *Project) Write(out, errOut io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	if _, err := fmt.Fprintln(out, strings.Join(p.Files, "\n")); err != nil {
		return err
	}
	return p.WriteNext(errOut)
}

// WriteNext writes what the author does next with p, for a person: build,
// validate, run and test it (dplug init prints it on stderr).
func (p *Project) WriteNext(w io.Writer) error {
	_, err := fmt.Fprintf(w, `
Created a %s plugin %q in %s. Next:
  cd %s
  dplug build -t %s .
  dplug validate --strict config.json
  sudo dplug run %s     # Ctrl-C stops it
  sudo dplug test %s
`, p.Type, p.Name, p.Dir, p.Dir, p.Name, p.Name, p.Name)
	return err
}
