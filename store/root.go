package store

import (
	"os"
	"path/filepath"
)

// DefaultRoot is where the store lives when no root is given:
// /var/lib/dplug for root, $XDG_DATA_HOME/dplug (~/.local/share/dplug)
// for other users.
func DefaultRoot() string {
	if os.Geteuid() == 0 {
		return "/var/lib/dplug"
	}
	if v := os.Getenv("XDG_DATA_HOME"); v != "" {
		return filepath.Join(v, "dplug")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "dplug")
	}
	return filepath.Join(home, ".local", "share", "dplug")
}
