package entrypoint

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dplug/dplug/plugin"
)

// elfHeader is a minimal ELF header (no program or section headers): all
// the check reads.
func elfHeader(class elf.Class, data elf.Data, mach elf.Machine, typ elf.Type) []byte {
	size := 52
	if class == elf.ELFCLASS64 {
		size = 64
	}
	h := make([]byte, size)
	copy(h, elf.ELFMAG)
	h[elf.EI_CLASS], h[elf.EI_DATA], h[elf.EI_VERSION] = byte(class), byte(data), byte(elf.EV_CURRENT)
	var bo binary.ByteOrder = binary.LittleEndian
	if data == elf.ELFDATA2MSB {
		bo = binary.BigEndian
	}
	bo.PutUint16(h[16:], uint16(typ))
	bo.PutUint16(h[18:], uint16(mach))
	bo.PutUint32(h[20:], uint32(elf.EV_CURRENT))
	return h
}

func exe64(m elf.Machine) string {
	return string(elfHeader(elf.ELFCLASS64, elf.ELFDATA2LSB, m, elf.ET_EXEC))
}

var (
	amd64ELF = exe64(elf.EM_X86_64)
	arm64ELF = exe64(elf.EM_AARCH64)
)

// file is one rootfs entry of a test: content, or a symlink ("-> target"),
// or a directory ("/"); mode 0 means 0755 for files.
type file struct {
	data string
	mode os.FileMode
}

func writeRootfs(t *testing.T, files map[string]file) string {
	t.Helper()
	root := t.TempDir()
	for _, name := range sortedKeys(files) {
		f := files[name]
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case f.data == "/":
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(f.data, "-> "):
			if err := os.Symlink(strings.TrimPrefix(f.data, "-> "), p); err != nil {
				t.Fatal(err)
			}
		default:
			mode := f.mode
			if mode == 0 {
				mode = 0o755
			}
			if err := os.WriteFile(p, []byte(f.data), mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

func tarRootfs(t *testing.T, files map[string]file) FS {
	t.Helper()
	var buf bytes.Buffer
	writeTar(t, &buf, files)
	fsys, err := Tar(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func writeTar(t testing.TB, w io.Writer, files map[string]file) {
	t.Helper()
	tw := tar.NewWriter(w)
	for _, name := range sortedKeys(files) {
		f := files[name]
		h := &tar.Header{Name: strings.TrimPrefix(name, "/"), Mode: 0o755}
		switch {
		case f.data == "/":
			h.Typeflag = tar.TypeDir
		case strings.HasPrefix(f.data, "-> "):
			h.Typeflag, h.Linkname = tar.TypeSymlink, strings.TrimPrefix(f.data, "-> ")
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.data))
			if f.mode != 0 {
				h.Mode = int64(f.mode)
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(f.data)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

func sortedKeys(m map[string]file) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestELFArch(t *testing.T) {
	tests := []struct {
		class elf.Class
		data  elf.Data
		mach  elf.Machine
		typ   elf.Type
		want  string // "" = error
	}{
		{elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_X86_64, elf.ET_EXEC, "amd64"},
		{elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_X86_64, elf.ET_DYN, "amd64"}, // PIE
		{elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_AARCH64, elf.ET_EXEC, "arm64"},
		{elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_ARM, elf.ET_EXEC, "arm"},
		{elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_386, elf.ET_DYN, "386"},
		{elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_PPC64, elf.ET_EXEC, "ppc64le"},
		{elf.ELFCLASS64, elf.ELFDATA2MSB, elf.EM_PPC64, elf.ET_EXEC, "ppc64"},
		{elf.ELFCLASS64, elf.ELFDATA2MSB, elf.EM_S390, elf.ET_EXEC, "s390x"},
		{elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_RISCV, elf.ET_EXEC, "riscv64"},
		{elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_LOONGARCH, elf.ET_EXEC, "loong64"},
		{elf.ELFCLASS32, elf.ELFDATA2MSB, elf.EM_MIPS, elf.ET_EXEC, "mips"},
		{elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_MIPS, elf.ET_EXEC, "mips64le"},
		{elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_X86_64, elf.ET_EXEC, "amd64p32"},
		{elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_X86_64, elf.ET_REL, ""}, // an object file
		{elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_SPARCV9, elf.ET_EXEC, ""},
		{elf.ELFCLASSNONE, elf.ELFDATA2LSB, elf.EM_X86_64, elf.ET_EXEC, ""},
		{elf.ELFCLASS64, elf.ELFDATANONE, elf.EM_X86_64, elf.ET_EXEC, ""},
	}
	for _, tt := range tests {
		got, desc, err := elfArch(elfHeader(tt.class, tt.data, tt.mach, tt.typ))
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("%v %v %v %v: got %q, %v (%s), want %q", tt.class, tt.data, tt.mach, tt.typ, got, err, desc, tt.want)
		}
	}
	if _, _, err := elfArch([]byte(elf.ELFMAG + "\x02\x01")); err == nil {
		t.Error("truncated header: no error")
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]file
		cfg      plugin.Config
		platform string
		verdict  Verdict
		arch     string
		chain    []string
		reason   string // substring of Reason
	}{
		{name: "match", files: map[string]file{"/p": {data: amd64ELF}},
			cfg: plugin.Config{Entrypoint: []string{"/p", "-x"}}, platform: "linux/amd64",
			verdict: Match, arch: "amd64", chain: []string{"/p"}},
		{name: "mismatch", files: map[string]file{"/p": {data: arm64ELF}},
			cfg: plugin.Config{Entrypoint: []string{"/p"}}, platform: "linux/amd64",
			verdict: Mismatch, arch: "arm64", chain: []string{"/p"}},
		{name: "arm v7 platform", files: map[string]file{"/p": {data: string(elfHeader(elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_ARM, elf.ET_EXEC))}},
			cfg: plugin.Config{Entrypoint: []string{"/p"}}, platform: "linux/arm/v7",
			verdict: Match, arch: "arm", chain: []string{"/p"}},
		{name: "relative to workdir", files: map[string]file{"/opt/app/bin/p": {data: arm64ELF}},
			cfg: plugin.Config{Entrypoint: []string{"bin/p"}, WorkDir: "/opt/app"}, platform: "arm64",
			verdict: Match, arch: "arm64", chain: []string{"/opt/app/bin/p"}},
		{name: "bare name through PATH", files: map[string]file{"/usr/bin/p": {data: arm64ELF}, "/usr/local/bin/p": {data: "not exec", mode: 0o644}},
			cfg: plugin.Config{Entrypoint: []string{"p"}}, platform: "linux/arm64",
			verdict: Match, arch: "arm64", chain: []string{"/usr/bin/p"}},
		{name: "bare name through the config's PATH", files: map[string]file{"/usr/bin/p": {data: arm64ELF}, "/app/p": {data: amd64ELF}},
			cfg: plugin.Config{Entrypoint: []string{"p"}, Env: []plugin.Env{{Name: "PATH", Value: ptr("/app")}}}, platform: "linux/arm64",
			verdict: Mismatch, arch: "amd64", chain: []string{"/app/p"}},
		{name: "symlink chain", files: map[string]file{"/p": {data: "-> bin/q"}, "/bin": {data: "-> /usr/bin"}, "/usr/bin/q": {data: "-> ../lib/real"}, "/usr/lib/real": {data: amd64ELF}},
			cfg: plugin.Config{Entrypoint: []string{"/p"}}, platform: "linux/amd64",
			verdict: Match, arch: "amd64", chain: []string{"/usr/lib/real"}},
		{name: "absolute symlink is re-rooted", files: map[string]file{"/p": {data: "-> /usr/bin/env"}, "/usr/bin/env": {data: arm64ELF}},
			// on the host /usr/bin/env is amd64; inside the rootfs it is arm64
			cfg: plugin.Config{Entrypoint: []string{"/p"}}, platform: "linux/amd64",
			verdict: Mismatch, arch: "arm64", chain: []string{"/usr/bin/env"}},
		{name: "dotdot cannot climb out", files: map[string]file{"/p": {data: "-> ../../../../p2"}, "/p2": {data: arm64ELF}},
			cfg: plugin.Config{Entrypoint: []string{"/p"}}, platform: "linux/arm64",
			verdict: Match, arch: "arm64", chain: []string{"/p2"}},
		{name: "dotdot after a symlinked dir", files: map[string]file{"/a": {data: "-> x/y"}, "/x/y": {data: "/"}, "/x/p": {data: arm64ELF}},
			cfg: plugin.Config{Entrypoint: []string{"/a/../p"}}, platform: "linux/arm64",
			verdict: Match, arch: "arm64", chain: []string{"/x/p"}},
		{name: "symlink loop", files: map[string]file{"/p": {data: "-> q"}, "/q": {data: "-> p"}},
			cfg: plugin.Config{Entrypoint: []string{"/p"}}, platform: "linux/amd64",
			verdict: Unknown, reason: "too many levels of symbolic links"},
		{name: "missing", files: map[string]file{"/other": {data: amd64ELF}},
			cfg: plugin.Config{Entrypoint: []string{"/p"}}, platform: "linux/amd64",
			verdict: Unknown, reason: "/p not found in the rootfs"},
		{name: "dangling symlink", files: map[string]file{"/p": {data: "-> /nowhere"}},
			cfg: plugin.Config{Entrypoint: []string{"/p"}}, platform: "linux/amd64",
			verdict: Unknown, reason: "not found"},
		{name: "not in PATH", files: map[string]file{"/p": {data: amd64ELF}},
			cfg: plugin.Config{Entrypoint: []string{"p"}}, platform: "linux/amd64",
			verdict: Unknown, reason: "p not found in PATH " + DefaultPath},
		{name: "no entrypoint", files: map[string]file{"/p": {data: amd64ELF}},
			platform: "linux/amd64", verdict: Unknown, reason: "no entrypoint"},
		{name: "directory", files: map[string]file{"/p": {data: "/"}},
			cfg: plugin.Config{Entrypoint: []string{"/p"}}, platform: "linux/amd64",
			verdict: Unknown, reason: "/p is not a regular file"},
		{name: "not executable", files: map[string]file{"/p": {data: amd64ELF, mode: 0o644}},
			cfg: plugin.Config{Entrypoint: []string{"/p"}}, platform: "linux/amd64",
			verdict: Unknown, reason: "/p is not executable (mode 0644)"},
		{name: "not ELF", files: map[string]file{"/p": {data: "MZ\x90\x00"}},
			cfg: plugin.Config{Entrypoint: []string{"/p"}}, platform: "linux/amd64",
			verdict: Unknown, reason: "neither an ELF binary nor a #! script"},
		{name: "file as a directory", files: map[string]file{"/p": {data: amd64ELF}},
			cfg: plugin.Config{Entrypoint: []string{"/p/q"}}, platform: "linux/amd64",
			verdict: Unknown, reason: "not a directory"},
		{name: "script", files: map[string]file{"/run.sh": {data: "#!/bin/sh -e\necho hi\n"}, "/bin/sh": {data: "-> busybox"}, "/bin/busybox": {data: arm64ELF}},
			cfg: plugin.Config{Entrypoint: []string{"/run.sh"}}, platform: "linux/amd64",
			verdict: Mismatch, arch: "arm64", chain: []string{"/run.sh", "/bin/busybox"}},
		{name: "script without newline, tabs", files: map[string]file{"/run": {data: "#! \t/bin/sh"}, "/bin/sh": {data: amd64ELF}},
			cfg: plugin.Config{Entrypoint: []string{"/run"}}, platform: "linux/amd64",
			verdict: Match, arch: "amd64", chain: []string{"/run", "/bin/sh"}},
		{name: "script, interpreter missing", files: map[string]file{"/run.sh": {data: "#!/bin/bash\n"}},
			cfg: plugin.Config{Entrypoint: []string{"/run.sh"}}, platform: "linux/amd64",
			verdict: Unknown, reason: "/bin/bash not found in the rootfs"},
		{name: "script running a script", files: map[string]file{"/a": {data: "#!/b\n"}, "/b": {data: "#!/c\n"}, "/c": {data: amd64ELF}},
			cfg: plugin.Config{Entrypoint: []string{"/a"}}, platform: "linux/amd64",
			verdict: Match, arch: "amd64", chain: []string{"/a", "/b", "/c"}},
		{name: "script loop", files: map[string]file{"/a": {data: "#!/a\n"}},
			cfg: plugin.Config{Entrypoint: []string{"/a"}}, platform: "linux/amd64",
			verdict: Unknown, reason: "nested more than 4 deep"},
		{name: "env found in PATH", files: map[string]file{"/run.py": {data: "#!/usr/bin/env python3\n"}, "/usr/bin/env": {data: amd64ELF}, "/usr/local/bin/python3": {data: "-> python3.12"}, "/usr/local/bin/python3.12": {data: arm64ELF}},
			cfg: plugin.Config{Entrypoint: []string{"/run.py"}}, platform: "linux/amd64",
			verdict: Mismatch, arch: "arm64", chain: []string{"/run.py", "/usr/bin/env", "/usr/local/bin/python3.12"}},
		{name: "env -S", files: map[string]file{"/run.py": {data: "#!/usr/bin/env -S python3 -u\n"}, "/usr/bin/env": {data: amd64ELF}, "/bin/python3": {data: amd64ELF}},
			cfg: plugin.Config{Entrypoint: []string{"/run.py"}}, platform: "linux/amd64",
			verdict: Match, arch: "amd64", chain: []string{"/run.py", "/usr/bin/env", "/bin/python3"}},
		{name: "env not resolvable", files: map[string]file{"/run.py": {data: "#!/usr/bin/env python3\n"}, "/usr/bin/env": {data: amd64ELF}},
			cfg: plugin.Config{Entrypoint: []string{"/run.py"}}, platform: "linux/amd64",
			verdict: Unknown, reason: "cannot be resolved statically: python3 is not in " + DefaultPath},
		{name: "env itself foreign", files: map[string]file{"/run.py": {data: "#!/usr/bin/env python3\n"}, "/usr/bin/env": {data: arm64ELF}},
			cfg: plugin.Config{Entrypoint: []string{"/run.py"}}, platform: "linux/amd64",
			verdict: Mismatch, arch: "arm64", chain: []string{"/run.py", "/usr/bin/env"}},
	}
	for _, tt := range tests {
		for _, kind := range []string{"dir", "tar"} {
			t.Run(tt.name+"/"+kind, func(t *testing.T) {
				var fsys FS
				if kind == "dir" {
					fsys = Dir(writeRootfs(t, tt.files))
				} else {
					fsys = tarRootfs(t, tt.files)
				}
				r := CheckFS(fsys, &tt.cfg, tt.platform)
				if r.Verdict != tt.verdict || r.Arch != tt.arch {
					t.Errorf("got %v %q (%s), want %v %q", r.Verdict, r.Arch, r.Reason, tt.verdict, tt.arch)
				}
				if tt.chain != nil {
					if diff := cmp.Diff(tt.chain, r.Chain); diff != "" {
						t.Errorf("chain (-want +got):\n%s", diff)
					}
				}
				if !strings.Contains(r.Reason, tt.reason) {
					t.Errorf("reason %q does not contain %q", r.Reason, tt.reason)
				}
				if (r.Err() != nil) != (tt.verdict == Mismatch) {
					t.Errorf("Err() = %v for %v", r.Err(), r.Verdict)
				}
			})
		}
	}
}

// TestResolveStaysInside checks that no symlink, however built, makes the
// check read a file outside the rootfs: a file placed beside the rootfs is
// never the one examined.
func TestResolveStaysInside(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "rootfs")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(parent, "outside"), []byte(arm64ELF), 0o755); err != nil {
		t.Fatal(err)
	}
	for i, target := range []string{"../outside", "/../outside", "../../" + filepath.Base(parent) + "/outside", parent + "/outside", "/./../outside/."} {
		link := path.Join("/", "l"+string(rune('a'+i)))
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
		r := Check(root, &plugin.Config{Entrypoint: []string{link}}, "linux/amd64")
		if r.Verdict != Unknown || !strings.Contains(r.Reason, "not found") {
			t.Errorf("%s -> %s: %v %s %s, want not found", link, target, r.Verdict, r.Arch, r.Reason)
		}
	}
}

func TestMessages(t *testing.T) {
	root := writeRootfs(t, map[string]file{"/ma": {data: arm64ELF}, "/run.sh": {data: "#!/bin/sh\n"}, "/bin/sh": {data: arm64ELF}})
	r := Check(root, &plugin.Config{Entrypoint: []string{"/ma"}}, "linux/amd64")
	if got, want := r.Err().Error(), `the entrypoint /ma is arm64, not amd64: it would fail with "exec format error"`; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	r = Check(root, &plugin.Config{Entrypoint: []string{"/run.sh"}}, "linux/amd64")
	if got, want := r.Subject(), "the entrypoint /run.sh runs /bin/sh, which is arm64"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := Arch(""); got == "" {
		t.Error("Arch(\"\") is empty, want the host's")
	}
	for in, want := range map[string]string{"linux/amd64": "amd64", "linux/arm64/v8": "arm64", "aarch64": "arm64", "linux/arm/v7": "arm"} {
		if got := Arch(in); got != want {
			t.Errorf("Arch(%q) = %q, want %q", in, got, want)
		}
	}
}

func ptr(s string) *string { return &s }
