package validate

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// typical is a real-world config of typical size (vieux/docker-volume-sshfs).
func typical(b *testing.B) []byte {
	data, err := os.ReadFile(filepath.Join("testdata", "corpus", "01-vieux-docker-volume-sshfs-config.json"))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkBytes is one typical config after warm-up (the schema is
// compiled by the first call). Target: well under 1 ms.
func BenchmarkBytes(b *testing.B) {
	data := typical(b)
	Bytes("config.json", data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if d := Bytes("config.json", data); len(d) != 0 {
			b.Fatal(d)
		}
	}
}

// BenchmarkFiles1000 validates 1,000 configs in one call, as
// `dplug validate DIR` does. Target: well under 100 ms.
func BenchmarkFiles1000(b *testing.B) {
	data := typical(b)
	dir := b.TempDir()
	for i := range 1000 {
		p := filepath.Join(dir, fmt.Sprintf("p%02d", i/100), fmt.Sprintf("%03d", i), "config.json")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		r, err := Files([]string{dir})
		if err != nil || r.Files != 1000 || len(r.Diagnostics) != 0 {
			b.Fatal(r, err)
		}
	}
}
