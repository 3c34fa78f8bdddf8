package store

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzInventory feeds plugins.json contents to the decoder: it must never
// panic, and what it accepts must be safe to use (IDs that are plain
// names, records that are not nil, unique names) and survive a write and
// read back unchanged. Seeds: testdata/fuzz/FuzzInventory and the damaged
// inventories of TestDamagedInventory.
func FuzzInventory(f *testing.F) {
	for _, data := range damagedInventories {
		f.Add([]byte(data))
	}
	f.Add([]byte(`{"` + idA + `": ` + entry(idA, "x") + `, "` + idB + `": ` + entry("", "example.com/team/y") + "}\n"))
	const dir = "/store/plugins"
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := decodeInventory(data, dir)
		if err != nil {
			return
		}
		names := map[string]bool{}
		for id, p := range inv {
			if p == nil || !validID.MatchString(id) || p.ID != id || p.Dir != filepath.Join(dir, id) || filepath.Dir(p.Dir) != dir {
				t.Fatalf("accepted entry %q: %+v", id, p)
			}
			if _, _, err := ParseName(p.FullName()); err != nil {
				t.Fatalf("accepted name %q: %v", p.FullName(), err)
			}
			if names[p.FullName()] {
				t.Fatalf("accepted duplicate name %q", p.FullName())
			}
			names[p.FullName()] = true
		}
		b, err := json.MarshalIndent(inv, "", "  ")
		if err != nil {
			t.Fatalf("re-encoding an accepted inventory: %v", err)
		}
		again, err := decodeInventory(b, dir)
		if err != nil {
			t.Fatalf("an accepted inventory, written back, is refused: %v\n%s", err, b)
		}
		if diff := cmp.Diff(inv, again); diff != "" {
			t.Fatalf("inventory changed by a write and read (-first +second):\n%s", diff)
		}
	})
}
