package pack

import (
	"io/fs"
	"testing"
)

func TestParseDirMode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want fs.FileMode
		ok   bool
	}{
		{"0700", 0o700, true},
		{"755", 0o755, true},
		{"0777", 0o777, true},
		{"0600", 0, false}, // the owner cannot enter it
		{"01777", 0, false},
		{"rwx", 0, false},
		{"", 0, false},
	} {
		got, err := ParseDirMode(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDirMode(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
