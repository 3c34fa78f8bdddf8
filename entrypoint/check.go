package entrypoint

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strings"

	"github.com/dplug/dplug/plugin"
)

// Verdict is the outcome of a check.
type Verdict int

const (
	// Unknown: the architecture could not be determined statically (no
	// entrypoint, a missing file, not ELF, #!/usr/bin/env NAME not found);
	// Result.Reason says why.
	Unknown Verdict = iota
	// Match: the entrypoint (or its interpreter) is built for the platform.
	Match
	// Mismatch: it is built for another architecture; the kernel would
	// refuse it with "exec format error".
	Mismatch
)

func (v Verdict) String() string {
	switch v {
	case Match:
		return "match"
	case Mismatch:
		return "mismatch"
	}
	return "unknown"
}

// DefaultPath is the PATH dockerd gives a plugin (oci.DefaultSpec) unless
// its config's Env sets one.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// maxInterpreters bounds #! scripts run by #! scripts, as Linux does
// (BINPRM_MAX_RECURSION).
const maxInterpreters = 4

// Result is what Check found.
type Result struct {
	Verdict Verdict `json:"verdict"`
	// Entrypoint is Entrypoint[0] as configured.
	Entrypoint string `json:"entrypoint"`
	// Chain is each file examined, resolved inside the rootfs: the
	// entrypoint, then for a script its interpreter(s). The last one
	// decided Arch.
	Chain []string `json:"chain,omitempty"`
	// Arch is the GOARCH of the binary found ("" when unknown).
	Arch string `json:"arch,omitempty"`
	// Machine describes the ELF header, e.g. "ELF 64-bit LSB EM_AARCH64".
	Machine string `json:"machine,omitempty"`
	// Want is the GOARCH checked against.
	Want string `json:"want"`
	// Reason says why the verdict is Unknown.
	Reason string `json:"reason,omitempty"`
}

// Subject describes what was found, for messages: "the entrypoint /x is
// arm64", "the entrypoint /run.sh runs /bin/sh (/bin/busybox), which is
// arm64".
func (r *Result) Subject() string {
	if r.Verdict == Unknown {
		return fmt.Sprintf("the architecture of the entrypoint %s is unknown: %s", r.Entrypoint, r.Reason)
	}
	if len(r.Chain) <= 1 {
		return fmt.Sprintf("the entrypoint %s is %s", r.Entrypoint, r.Arch)
	}
	return fmt.Sprintf("the entrypoint %s runs %s, which is %s", r.Entrypoint, strings.Join(r.Chain[1:], " → "), r.Arch)
}

func (r *Result) String() string {
	switch r.Verdict {
	case Mismatch:
		return r.Subject() + ", not " + r.Want
	case Match:
		return r.Subject()
	}
	return r.Subject()
}

// Err is a *MismatchError for a Mismatch, nil otherwise.
func (r *Result) Err() error {
	if r.Verdict != Mismatch {
		return nil
	}
	return &MismatchError{Result: r}
}

// MismatchError is an entrypoint built for another architecture than the
// one it is checked against.
type MismatchError struct {
	*Result
	// Platform is the platform the check was for, as given.
	Platform string
}

func (e *MismatchError) Error() string {
	want := e.Platform
	if want == "" {
		want = e.Want
	}
	return fmt.Sprintf("%s, not %s: it would fail with \"exec format error\"", e.Subject(), want)
}

// Host is this machine's platform, linux/GOARCH.
func Host() string { return "linux/" + runtime.GOARCH }

// Arch is the GOARCH of a platform given as os/arch[/variant] or arch;
// "" is the host's.
func Arch(platform string) string {
	if platform == "" {
		return runtime.GOARCH
	}
	parts := strings.Split(platform, "/")
	if len(parts) >= 2 {
		return normArch(parts[1])
	}
	return normArch(parts[0])
}

func normArch(a string) string {
	switch strings.ToLower(a) {
	case "x86_64", "x86-64":
		return "amd64"
	case "aarch64":
		return "arm64"
	case "i386", "i686":
		return "386"
	case "armhf", "armel":
		return "arm"
	}
	return strings.ToLower(a)
}

// Check checks the entrypoint of a plugin (cfg) whose rootfs is the
// directory rootfs against platform (os/arch[/variant]; "" for the host).
func Check(rootfs string, cfg *plugin.Config, platform string) *Result {
	return CheckFS(Dir(rootfs), cfg, platform)
}

// CheckFS is Check on any FS, e.g. a layer read with Tar.
func CheckFS(fsys FS, cfg *plugin.Config, platform string) *Result {
	r := &Result{Want: Arch(platform)}
	if len(cfg.Entrypoint) == 0 || cfg.Entrypoint[0] == "" {
		r.Reason = "the config has no entrypoint"
		return r
	}
	c := checker{fsys: fsys, workdir: cfg.WorkDir, path: DefaultPath}
	if c.workdir == "" {
		c.workdir = "/"
	}
	for _, e := range cfg.Env {
		if e.Name == "PATH" && e.Value != nil {
			c.path = *e.Value
		}
	}
	r.Entrypoint = cfg.Entrypoint[0]
	c.check(r, r.Entrypoint, 0)
	if r.Verdict == Unknown {
		return r
	}
	if r.Arch == r.Want {
		r.Verdict = Match
	} else {
		r.Verdict = Mismatch
	}
	return r
}

type checker struct {
	fsys    FS
	workdir string
	path    string
}

// check examines the program name (as exec would find it) and sets r.Arch
// (and Verdict to non-Unknown, provisionally Match) or r.Reason.
func (c *checker) check(r *Result, name string, depth int) {
	p, err := c.find(name)
	if err != nil {
		r.Reason = err.Error()
		return
	}
	r.Chain = append(r.Chain, p)
	fi, err := c.fsys.Lstat(p)
	if err != nil {
		r.Reason = fmt.Sprintf("%s: %v", p, unwrapPathErr(err))
		return
	}
	if !fi.Mode().IsRegular() {
		r.Reason = fmt.Sprintf("%s is not a regular file (%s)", p, fi.Mode().Type())
		return
	}
	if fi.Mode().Perm()&0o111 == 0 {
		r.Reason = fmt.Sprintf("%s is not executable (mode %04o)", p, fi.Mode().Perm())
		return
	}
	head, err := c.fsys.Head(p, headSize)
	if err != nil {
		r.Reason = fmt.Sprintf("reading %s: %v", p, err)
		return
	}
	switch {
	case bytes.HasPrefix(head, []byte(elf.ELFMAG)):
		arch, desc, err := elfArch(head)
		r.Machine = desc
		if err != nil {
			r.Reason = fmt.Sprintf("%s: %v", p, err)
			return
		}
		r.Arch, r.Verdict = arch, Match
	case bytes.HasPrefix(head, []byte("#!")):
		if depth >= maxInterpreters {
			r.Reason = fmt.Sprintf("%s: #! interpreters nested more than %d deep", p, maxInterpreters)
			return
		}
		interp, arg := shebang(head)
		if interp == "" {
			r.Reason = fmt.Sprintf("%s: #! line names no interpreter", p)
			return
		}
		c.check(r, interp, depth+1)
		if r.Verdict == Unknown || path.Base(interp) != "env" || r.Arch != r.Want {
			return
		}
		// #!/usr/bin/env X runs X from PATH: env is known (and runs), X is
		// too if the PATH dirs of the rootfs hold it.
		prog := envProgram(arg)
		if prog == "" {
			return
		}
		if strings.Contains(prog, "/") || !c.inPath(prog) {
			r.Verdict, r.Arch, r.Machine = Unknown, "", ""
			r.Reason = fmt.Sprintf("%s runs #!%s %s, which cannot be resolved statically: %s is not in %s inside the rootfs", p, interp, arg, prog, c.path)
			return
		}
		c.check(r, prog, depth+1)
	default:
		n := min(len(head), 4)
		r.Reason = fmt.Sprintf("%s is neither an ELF binary nor a #! script (starts with %q)", p, head[:n])
	}
}

// find resolves a program name as execve (a path) or runc (a bare name
// looked up in PATH) would, relative to the workdir.
func (c *checker) find(name string) (string, error) {
	if strings.Contains(name, "/") {
		full := name
		if !strings.HasPrefix(name, "/") {
			full = c.workdir + "/" + name // not path.Join: ".." must see symlinks
		}
		p, err := Resolve(c.fsys, full)
		if err != nil {
			return "", fmt.Errorf("%s not found in the rootfs: %w", name, err)
		}
		return p, nil
	}
	for _, dir := range c.dirs() {
		p, err := Resolve(c.fsys, dir+"/"+name)
		if err != nil {
			continue
		}
		if fi, err := c.fsys.Lstat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in PATH %s inside the rootfs", name, c.path)
}

func (c *checker) dirs() []string {
	var out []string
	for _, d := range strings.Split(c.path, ":") {
		if d == "" {
			d = "."
		}
		if !strings.HasPrefix(d, "/") {
			d = c.workdir + "/" + d
		}
		out = append(out, d)
	}
	return out
}

func (c *checker) inPath(name string) bool {
	_, err := c.find(name)
	return err == nil
}

// shebang parses a #! line as Linux does: the interpreter up to the first
// blank, then everything else (trimmed) as one optional argument.
func shebang(head []byte) (interp, arg string) {
	line := head[2:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	s := strings.Trim(string(line), " \t\r")
	interp, arg, _ = strings.Cut(strings.ReplaceAll(s, "\t", " "), " ")
	return interp, strings.TrimSpace(arg)
}

// envProgram is the program `env ARG` runs: the first word that is not an
// option or a NAME=VALUE (handles `env -S prog args`).
func envProgram(arg string) string {
	for _, w := range strings.Fields(arg) {
		if strings.HasPrefix(w, "-") || strings.Contains(w, "=") {
			continue
		}
		return w
	}
	return ""
}

// elfArch maps an ELF header's class, data encoding and machine to a
// GOARCH.
func elfArch(h []byte) (arch, desc string, err error) {
	if len(h) < 20 {
		return "", "", errors.New("truncated ELF header")
	}
	class, data := elf.Class(h[elf.EI_CLASS]), elf.Data(h[elf.EI_DATA])
	var bo binary.ByteOrder
	switch data {
	case elf.ELFDATA2LSB:
		bo = binary.LittleEndian
	case elf.ELFDATA2MSB:
		bo = binary.BigEndian
	default:
		return "", "", fmt.Errorf("ELF header with unknown data encoding %d", data)
	}
	typ := elf.Type(bo.Uint16(h[16:]))
	mach := elf.Machine(bo.Uint16(h[18:]))
	bits := map[elf.Class]string{elf.ELFCLASS32: "32-bit", elf.ELFCLASS64: "64-bit"}[class]
	if bits == "" {
		return "", "", fmt.Errorf("ELF header with unknown class %d", class)
	}
	desc = fmt.Sprintf("ELF %s %s %s", bits, map[elf.Data]string{elf.ELFDATA2LSB: "LSB", elf.ELFDATA2MSB: "MSB"}[data], mach)
	if typ != elf.ET_EXEC && typ != elf.ET_DYN {
		return "", desc, fmt.Errorf("an ELF %s file, not an executable", typ)
	}
	is64, le := class == elf.ELFCLASS64, data == elf.ELFDATA2LSB
	switch {
	case mach == elf.EM_X86_64 && is64 && le:
		arch = "amd64"
	case mach == elf.EM_X86_64 && !is64 && le:
		arch = "amd64p32" // x32: no Go port, no plugin platform
	case mach == elf.EM_386 && !is64 && le:
		arch = "386"
	case mach == elf.EM_AARCH64 && is64 && le:
		arch = "arm64"
	case mach == elf.EM_AARCH64 && is64:
		arch = "arm64be"
	case mach == elf.EM_ARM && !is64 && le:
		arch = "arm"
	case mach == elf.EM_PPC64 && is64 && le:
		arch = "ppc64le"
	case mach == elf.EM_PPC64 && is64:
		arch = "ppc64"
	case mach == elf.EM_S390 && is64 && !le:
		arch = "s390x"
	case mach == elf.EM_RISCV && is64 && le:
		arch = "riscv64"
	case mach == elf.EM_RISCV && le:
		arch = "riscv32"
	case mach == elf.EM_LOONGARCH && is64 && le:
		arch = "loong64"
	case mach == elf.EM_MIPS && is64:
		arch = map[bool]string{true: "mips64le", false: "mips64"}[le]
	case mach == elf.EM_MIPS:
		arch = map[bool]string{true: "mipsle", false: "mips"}[le]
	default:
		return "", desc, fmt.Errorf("%s: no GOARCH for this machine", desc)
	}
	return arch, desc, nil
}

var _ fs.FileInfo = (*tarEntry)(nil)

// qemuNames maps a GOARCH to the name Debian's qemu-user-static gives its
// binfmt_misc handler (/proc/sys/fs/binfmt_misc/qemu-NAME).
var qemuNames = map[string]string{
	"amd64": "x86_64", "arm64": "aarch64", "arm": "arm", "386": "i386", "ppc64le": "ppc64le",
	"s390x": "s390x", "riscv64": "riscv64", "mips64le": "mips64el", "loong64": "loongarch64",
}

// Emulated reports whether this machine has an enabled qemu binfmt_misc
// handler for arch, so that a binary for arch runs here anyway (slowly):
// what `apt-get install qemu-user-static` (with binfmt-support or
// systemd-binfmt) registers.
func Emulated(arch string) bool {
	n, ok := qemuNames[arch]
	if !ok {
		return false
	}
	b, err := os.ReadFile("/proc/sys/fs/binfmt_misc/qemu-" + n)
	return err == nil && bytes.HasPrefix(b, []byte("enabled"))
}
