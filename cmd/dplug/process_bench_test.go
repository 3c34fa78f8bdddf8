package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The whole-process cost of `dplug validate` — process start, package init
// and validation — which is what a pre-commit hook pays (SPEC §7: < 25 ms for
// one config; bench/validate.sh compares it with ajv-cli):
//
//	go test -run '^$' -bench Process ./cmd/dplug/

func buildDplug(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "dplug")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("building dplug: %v\n%s", err, out)
	}
	return bin
}

const benchConfig = `{
  "Description": "bench plugin",
  "Documentation": "https://example.invalid",
  "Entrypoint": ["/plugin"],
  "Interface": {"Socket": "p.sock", "Types": ["docker.volumedriver/1.0"]},
  "Network": {"Type": "host"},
  "PropagatedMount": "/data",
  "Linux": {"Capabilities": ["CAP_SYS_ADMIN"]}
}
`

func benchValidateProcess(b *testing.B, files int) {
	bin := buildDplug(b)
	dir := b.TempDir()
	for i := range files {
		p := filepath.Join(dir, fmt.Sprintf("p%04d", i), "config.json")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(benchConfig), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.Command(bin, "validate", "--strict", dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("dplug validate: %v\n%s", err, out)
		}
	}
}

func BenchmarkValidateProcess1(b *testing.B)    { benchValidateProcess(b, 1) }
func BenchmarkValidateProcess1000(b *testing.B) { benchValidateProcess(b, 1000) }
