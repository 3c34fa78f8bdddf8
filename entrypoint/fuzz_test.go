package entrypoint

import (
	"bytes"
	"debug/elf"
	"testing"

	"github.com/dplug/dplug/plugin"
)

// FuzzCheckTar: any layer and any entrypoint give a verdict, never a panic
// or a hang (symlink and hard-link loops, odd names, truncated headers).
func FuzzCheckTar(f *testing.F) {
	f.Add(tarBytes(f, map[string]file{"/p": {data: amd64ELF}}), "/p")
	f.Add(tarBytes(f, map[string]file{"/p": {data: "-> q"}, "/q": {data: "-> p"}}), "/p")
	f.Add(tarBytes(f, map[string]file{"/run": {data: "#!/usr/bin/env -S x"}, "/usr/bin/env": {data: "#!/run"}}), "run")
	f.Add([]byte{}, "../../x")
	f.Fuzz(func(t *testing.T, layer []byte, ep string) {
		fsys, err := Tar(bytes.NewReader(layer))
		if err != nil {
			return
		}
		r := CheckFS(fsys, &plugin.Config{Entrypoint: []string{ep}, WorkDir: "/w"}, "linux/amd64")
		if r.Verdict == Unknown && r.Reason == "" {
			t.Errorf("unknown verdict without a reason")
		}
	})
}

// FuzzELFArch: any header bytes are mapped or refused, never a panic.
func FuzzELFArch(f *testing.F) {
	f.Add(elfHeader(elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_AARCH64, elf.ET_EXEC))
	f.Add([]byte(elf.ELFMAG))
	f.Fuzz(func(t *testing.T, h []byte) {
		arch, _, err := elfArch(h)
		if (arch == "") != (err != nil) {
			t.Errorf("arch %q with error %v", arch, err)
		}
		if len(h) >= 2 && h[0] == '#' && h[1] == '!' {
			shebang(h)
		}
	})
}

func tarBytes(f *testing.F, files map[string]file) []byte {
	var buf bytes.Buffer
	writeTar(f, &buf, files)
	return buf.Bytes()
}
