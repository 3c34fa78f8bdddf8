package store

// Kill tests for mutants of store.go and view.go that the store tests left
// uncovered in `make mutate` (issue 13).

import (
	"strings"
	"testing"
)

// TestInspectFoundAndMissing: Inspect returns a view for each name it finds
// and joins an error for each it does not, without dropping the found ones.
// Kills view.go:113's `err != nil` -> `err == nil` (found names skipped,
// missing ones dereferenced).
func TestInspectFoundAndMissing(t *testing.T) {
	s, _ := openStore(t)
	p := install(t, s, "vol:1")
	views, err := s.Inspect("vol:1")
	if err != nil || len(views) != 1 || views[0].ID != p.ID {
		t.Fatalf("Inspect(vol:1) = %+v, %v; want the one plugin %s, no error", views, err, p.ID)
	}
	views, err = s.Inspect("missing", "vol:1")
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Inspect(missing, vol:1) error = %v; want one naming missing", err)
	}
	if len(views) != 1 || views[0].ID != p.ID {
		t.Errorf("Inspect(missing, vol:1) = %+v; want the view of vol:1 still", views)
	}
}

// TestSortedTiesByID: plugins of one name and tag (a hand-edited or
// rebuilt inventory can hold two) come out in ID order, whatever the map's
// iteration order, so List is deterministic. Kills store.go:479's
// `out[i].ID < out[j].ID` -> `>=`.
func TestSortedTiesByID(t *testing.T) {
	ids := []string{strings.Repeat("a", 64), strings.Repeat("b", 64), strings.Repeat("c", 64)}
	inv := inventory{}
	for _, id := range ids {
		inv[id] = &Plugin{ID: id, Name: "vol", Tag: "latest"}
	}
	for range 20 {
		out := inv.sorted()
		for i, p := range out {
			if p.ID != ids[i] {
				t.Fatalf("sorted()[%d] = %s; want the IDs in order %v", i, p.ID, ids)
			}
		}
	}
}
