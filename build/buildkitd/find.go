package buildkitd

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Install hints shown when a program is missing.
const (
	InstallBuildkitd = "dplug setup"
	InstallRunc      = "apt-get install runc"
)

// MissingError says a program dplug needs is not installed, and which
// command installs it.
type MissingError struct {
	Program string // "buildkitd", "runc"
	Install string // the command that installs it
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s not found: install it with `%s`", e.Program, e.Install)
}

// ErrMissing matches every *MissingError with errors.Is.
var ErrMissing = errors.New("program not found")

// Is makes errors.Is(err, ErrMissing) true.
func (e *MissingError) Is(target error) bool { return target == ErrMissing }

// BinPath is where `dplug setup` installs buildkitd under a dplug root.
func BinPath(root string) string { return filepath.Join(root, "bin", "buildkitd") }

// Binary finds buildkitd: on PATH first, then at BinPath(root).
func Binary(root string) (string, error) {
	if p, err := exec.LookPath("buildkitd"); err == nil {
		return p, nil
	}
	if root != "" {
		p := BinPath(root)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &MissingError{Program: "buildkitd", Install: InstallBuildkitd}
}

// Runc finds the runc binary the OCI worker runs build steps with.
func Runc() (string, error) {
	p, err := exec.LookPath("runc")
	if err != nil {
		return "", &MissingError{Program: "runc", Install: InstallRunc}
	}
	return p, nil
}
