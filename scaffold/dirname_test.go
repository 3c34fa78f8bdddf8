package scaffold

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestDirName(t *testing.T) {
	if name, err := DirName(filepath.Join(t.TempDir(), "MyVol")); err != nil || name != "myvol" {
		t.Errorf("DirName(.../MyVol) = %q, %v; want myvol", name, err)
	}
	var ie *InputError
	if _, err := DirName(filepath.Join(t.TempDir(), "no good")); !errors.As(err, &ie) {
		t.Errorf("DirName(.../no good) = %v, want an *InputError", err)
	}
	if _, err := Render("nope"); !errors.As(err, &ie) || !errors.Is(err, ErrUnknownType) {
		t.Errorf("Render(nope) = %v, want an *InputError wrapping ErrUnknownType", err)
	}
}
