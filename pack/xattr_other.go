//go:build !linux

package pack

// fileCaps reports no file capabilities: they are a Linux feature.
func fileCaps(string) (string, bool) { return "", false }

// dropCaps has nothing to drop outside Linux.
func dropCaps(string) error { return nil }
