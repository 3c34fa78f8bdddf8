package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dplug/dplug/pack"
)

// pullsDir is where pulls record the parent dirs they write into, so that
// `dplug doctor` can find the temp dirs killed pulls left there (the next
// pull into the same parent removes them too).
func pullsDir(g *globalOptions) string { return filepath.Join(g.Root, "pulls") }

// recordPull notes parent in ROOT/pulls, best effort: a pull does not need
// a store, so a root it cannot write only costs doctor the cleanup.
func recordPull(g *globalOptions, parent string) {
	sum := sha256.Sum256([]byte(parent))
	dir := pullsDir(g)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		g.log.Debug("not recording the pull for doctor", "err", err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, hex.EncodeToString(sum[:8])), []byte(parent+"\n"), 0o600); err != nil {
		g.log.Debug("not recording the pull for doctor", "err", err)
	}
}

// doctorPulls lists (with fix: removes) the temp dirs of killed pulls in
// the parents pulls recorded. Only ".DIR.dplug-pull-*" dirs that no live
// pull holds are ever removed, as the next pull there would; a record
// whose parent holds no pull temp dir any more is dropped.
func doctorPulls(g *globalOptions, fix bool) (stale []string, errs []error) {
	dir := pullsDir(g)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil
	}
	for _, e := range entries {
		rec := filepath.Join(dir, e.Name())
		parent, ok := readPullRecord(rec)
		if !ok {
			if fix {
				os.Remove(rec)
			}
			continue
		}
		found, rerrs := pack.StalePulls(parent, fix)
		stale, errs = append(stale, found...), append(errs, rerrs...)
		if fix && !hasPullTemp(parent) {
			os.Remove(rec)
		}
	}
	return stale, errs
}

// readPullRecord reads a record: one absolute, clean path.
func readPullRecord(path string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return "", false
	}
	b, err := io.ReadAll(io.LimitReader(f, 4097))
	if err != nil || len(b) > 4096 {
		return "", false
	}
	p := strings.TrimSuffix(string(b), "\n")
	if !filepath.IsAbs(p) || filepath.Clean(p) != p || strings.ContainsAny(p, "\x00\n") {
		return "", false
	}
	return p, true
}

// hasPullTemp reports whether parent still holds any pull temp dir (a
// live pull's included).
func hasPullTemp(parent string) bool {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") && strings.Contains(e.Name(), ".dplug-pull-") {
			return true
		}
	}
	return false
}

// printPulls prints doctor's pull findings, one line each.
func printPulls(g *globalOptions, stale []string, errs []error, fix bool) {
	for _, p := range stale {
		if fix {
			fmt.Fprintf(g.stdout, "removed the temp dir of an interrupted pull %s\n", p)
		} else {
			fmt.Fprintf(g.stdout, "found the temp dir of an interrupted pull %s (--fix removes it)\n", p)
		}
	}
	for _, err := range errs {
		fmt.Fprintf(g.stderr, "dplug: warning: %v\n", err)
	}
}
