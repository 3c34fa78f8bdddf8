package store

import (
	"fmt"
	"io"
	"path/filepath"
)

// Clean reports whether Doctor found nothing to say about the store.
func (r *Report) Clean() bool {
	return len(r.Removed)+len(r.Leftovers)+len(r.Orphans)+len(r.Missing)+len(r.Resynced)+len(r.MovedAside) == 0 && r.Damaged == ""
}

// Problems counts what is wrong until fixed: orphans, missing dirs, stale
// settings and a damaged inventory (tmp/ leftovers are removed anyway).
func (r *Report) Problems() int {
	n := len(r.Orphans) + len(r.Missing) + len(r.Resynced)
	if r.Damaged != "" {
		n++
	}
	return n
}

// WriteText writes the report as `dplug doctor` prints it, one line per
// finding; dir is the store's Dir() and fix says whether Doctor repaired.
func (r *Report) WriteText(w io.Writer, dir string, fix bool) {
	verb := func(done string) string { return map[bool]string{false: "found", true: done}[fix] }
	for _, p := range r.Removed {
		fmt.Fprintf(w, "removed leftover %s\n", p)
	}
	for _, p := range r.Leftovers {
		fmt.Fprintf(w, "found leftover %s (store is read-only: not removed)\n", p)
	}
	if r.Damaged != "" {
		fmt.Fprintf(w, "damaged inventory %s: %s\n", filepath.Join(dir, "plugins.json"), r.Damaged)
		for _, p := range r.Recovered {
			fmt.Fprintf(w, "%s plugin %s (%s)\n", verb("recovered"), p.Name, p.describe())
		}
	}
	for _, p := range r.Deleted {
		fmt.Fprintf(w, "%s orphan dir %s (its plugin was removed by an interrupted command)\n", verb("deleted"), p)
	}
	for _, m := range r.MovedAside {
		if fix {
			fmt.Fprintf(w, "moved %s to %s (%s)\n", m.From, m.To, m.Reason)
		} else {
			fmt.Fprintf(w, "found %s (%s): --fix moves it to %s\n", m.From, m.Reason, m.To)
		}
	}
	for _, p := range r.Missing {
		fmt.Fprintf(w, "%s inventory entry with no dir: %s\n", verb("removed"), p)
	}
	for _, p := range r.Resynced {
		fmt.Fprintf(w, "%s stale settings file %s\n", verb("rewrote"), p)
	}
}

// describe says where a recovered plugin's name and state come from.
func (p Recovered) describe() string {
	state := map[bool]string{false: "disabled", true: "enabled"}[p.Enabled]
	from := "name and state from plugins.json.bak"
	if p.From != "plugins.json.bak" {
		from = "not in plugins.json.bak: name derived from the ID"
	}
	note := ""
	if p.Note != "" {
		note = "; " + p.Note
	}
	return fmt.Sprintf("%s, %s; %s%s", p.ID[:12], state, from, note)
}
