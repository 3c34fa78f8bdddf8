package pack

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Pull records: a pull into a plugin dir notes the dir's parent in a
// records dir (ROOT/pulls for dplug) so that `dplug doctor` can find the
// temp dirs killed pulls left there with StalePulls; the next pull into the
// same parent removes them too.

// RecordPull notes parent in the records dir, one file per parent.
func RecordPull(records, parent string) error {
	sum := sha256.Sum256([]byte(parent))
	if err := os.MkdirAll(records, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(records, hex.EncodeToString(sum[:8])), []byte(parent+"\n"), 0o600)
}

// RecordedStalePulls lists (with remove: removes) the temp dirs of killed
// pulls in the parents the records dir lists. Only the dirs StalePulls
// finds are ever removed; with remove, a record that is unreadable or whose
// parent holds no pull temp dir any more is dropped.
func RecordedStalePulls(records string, remove bool) (stale []string, errs []error) {
	entries, err := os.ReadDir(records)
	if err != nil {
		return nil, nil
	}
	for _, e := range entries {
		rec := filepath.Join(records, e.Name())
		parent, ok := readPullRecord(rec)
		if !ok {
			if remove {
				os.Remove(rec)
			}
			continue
		}
		found, rerrs := StalePulls(parent, remove)
		stale, errs = append(stale, found...), append(errs, rerrs...)
		if remove && !hasPullTemp(parent) {
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
		if strings.HasPrefix(e.Name(), ".") && strings.Contains(e.Name(), pullTempMarker) {
			return true
		}
	}
	return false
}
