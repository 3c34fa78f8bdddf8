package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client"

	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/entrypoint"
	"github.com/dplug/dplug/plugin"
)

// normalizePlatforms parses and normalises os/arch[/variant] specifiers,
// dropping duplicates.
func normalizePlatforms(in []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		for _, f := range strings.Split(s, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			p, err := platforms.Parse(f)
			if err != nil {
				return nil, fmt.Errorf("parsing platform %q: %w", f, err)
			}
			n := platforms.FormatAll(platforms.Normalize(p))
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out, nil
}

// platformPath is the directory BuildKit's local exporter uses for a
// platform when it splits its output: os_arch[_variant].
func platformPath(p string) string { return strings.ReplaceAll(p, "/", "_") }

// splitPlatforms turns BuildKit's split export (rootfs/os_arch/...) into one
// plugin dir per platform under staging.
func splitPlatforms(staging, rootfs string, plats []string, cfg []byte) ([]dest.PlatformDir, error) {
	var out []dest.PlatformDir
	for _, p := range plats {
		dir := filepath.Join(staging, "platforms", platformPath(p))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		src := filepath.Join(rootfs, platformPath(p))
		if _, err := os.Stat(src); err != nil {
			return nil, fmt.Errorf("BuildKit exported nothing for %s: %w", p, err)
		}
		if err := os.Rename(src, filepath.Join(dir, "rootfs")); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644); err != nil {
			return nil, fmt.Errorf("writing config.json: %w", err)
		}
		out = append(out, dest.PlatformDir{Platform: p, Dir: dir})
	}
	return out, nil
}

// ArchError is a built plugin whose entrypoint is for another architecture
// than the platform it was built for, or a multi-platform build whose
// platforms are byte-for-byte the same plugin: publishing it would give
// dockerd users a plugin that installs and then fails at enable with "exec
// format error".
type ArchError struct {
	Platform string
	Err      error
}

func (e *ArchError) Error() string {
	return fmt.Sprintf("the plugin built for %s cannot run there: %v\n%s", e.Platform, e.Err, crossCompileHint)
}

func (e *ArchError) Unwrap() error { return e.Err }

// crossCompileHint is the one line naming both ways to build a binary for
// another platform.
const crossCompileHint = "fix: cross-compile in a build stage on the build platform " +
	"(FROM --platform=$BUILDPLATFORM ... AS build; ARG TARGETOS TARGETARCH; GOOS=$TARGETOS GOARCH=$TARGETARCH CGO_ENABLED=0 go build), " +
	"or register qemu-user-static binfmt handlers (Debian: apt-get install qemu-user-static binfmt-support) so BuildKit can emulate the target"

// checkPlatforms checks what a build produced before it is delivered: each
// platform's entrypoint must be built for that platform (a mismatch is an
// error; an undeterminable architecture a warning on w), and the platforms
// of a multi-platform build must differ.
func checkPlatforms(st *steps, cfg []byte, dirs []dest.PlatformDir, w io.Writer) error {
	s := st.start("[dplug] check entrypoint architecture")
	err := checkPlatformDirs(cfg, dirs, w)
	s.done(err)
	return err
}

func checkPlatformDirs(cfg []byte, dirs []dest.PlatformDir, w io.Writer) error {
	c, err := plugin.Parse(cfg)
	if err != nil {
		return fmt.Errorf("parsing plugin config: %w", err)
	}
	for _, d := range dirs {
		r := entrypoint.Check(filepath.Join(d.Dir, "rootfs"), c, d.Platform)
		switch r.Verdict {
		case entrypoint.Mismatch:
			return &ArchError{Platform: d.Platform, Err: &entrypoint.MismatchError{Result: r, Platform: d.Platform}}
		case entrypoint.Unknown:
			fmt.Fprintf(w, "warning: %s: cannot check the entrypoint's architecture: %s\n", d.Platform, r.Reason)
		}
	}
	if len(dirs) < 2 {
		return nil
	}
	seen := map[string]string{}
	for _, d := range dirs {
		sum, err := treeDigest(filepath.Join(d.Dir, "rootfs"))
		if err != nil {
			return fmt.Errorf("checking the rootfs for %s: %w", d.Platform, err)
		}
		if other, ok := seen[sum]; ok {
			return &ArchError{Platform: d.Platform, Err: fmt.Errorf("its rootfs is identical to the one built for %s: "+
				"the binary was built for one platform only (a build stage that ignores TARGETOS/TARGETARCH, or a single-platform base image)", other)}
		}
		seen[sum] = d.Platform
	}
	return nil
}

// treeDigest is a digest of a directory tree's names, types, modes, link
// targets and file contents.
func treeDigest(root string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%q %v\n", filepath.ToSlash(rel), fi.Mode())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "-> %q\n", t)
		case fi.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// workerPlatform is the platform BuildKit builds for when none is given:
// its first worker's first platform; the host's when it does not say.
func workerPlatform(ctx context.Context, c *client.Client) string {
	ws, err := c.ListWorkers(ctx)
	if err == nil && len(ws) > 0 && len(ws[0].Platforms) > 0 {
		return platforms.Format(ws[0].Platforms[0])
	}
	return entrypoint.Host()
}

// explainExecFormat adds the fix to a build that failed because a RUN step
// ran a binary of another platform, with no emulation registered.
func explainExecFormat(err error) error {
	if err == nil || !strings.Contains(err.Error(), "exec format error") {
		return err
	}
	return &EmulationError{Err: err}
}

// EmulationError is a RUN step that failed with "exec format error": it ran
// on a base image of another platform than the build machine's, which needs
// emulation BuildKit does not have here.
type EmulationError struct{ Err error }

func (e *EmulationError) Error() string {
	return fmt.Sprintf("%v\na RUN step executed a binary for another platform and no emulator is registered; %s", e.Err, crossCompileHint)
}

func (e *EmulationError) Unwrap() error { return e.Err }

// contextPlatformWarnings warns about a single-platform image given as a
// named build context (oci-layout://) that a FROM uses for a target
// platform it was not built for: BuildKit takes it as it is, so that
// platform's plugin gets the image's files and its RUN steps need
// emulation. A FROM --platform=$BUILDPLATFORM stage (a cross-compiling
// build stage) is fine.
func contextPlatformWarnings(o *options, plats []string) []string {
	if len(plats) == 0 || len(o.contexts) == 0 {
		return nil
	}
	froms := dockerfileFroms(o.dockerfile, o.buildArgs)
	var out []string
	for name, value := range o.contexts {
		spec, ok := strings.CutPrefix(value, "oci-layout://")
		if !ok {
			continue
		}
		img := layoutPlatform(spec)
		if img == "" {
			continue
		}
		for _, f := range froms {
			if f.image != name || f.buildPlatform {
				continue
			}
			for _, p := range plats {
				if entrypoint.Arch(p) != entrypoint.Arch(img) {
					out = append(out, fmt.Sprintf("warning: build context %s is a single-platform image (%s), but line %d of %s uses it for %s too (FROM %s): "+
						"that platform's build gets %s files and runs its RUN steps under emulation, if any; "+
						"build on it with FROM --platform=$BUILDPLATFORM and cross-compile, or give a multi-platform image",
						name, img, f.line, filepath.Base(o.dockerfile), p, f.raw, img))
				}
			}
		}
	}
	return out
}

// from is one FROM line of a Dockerfile.
type from struct {
	line          int
	raw           string // the image as written
	image         string // with build args expanded
	buildPlatform bool   // --platform=$BUILDPLATFORM
}

// dockerfileFroms lists the FROM lines of the Dockerfile at path, with
// ${ARG}s from the global ARG defaults and args expanded. Best effort: a
// file it cannot read gives nothing.
func dockerfileFroms(path string, args map[string]string) []from {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	vars := map[string]string{}
	var out []from
	for i, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "ARG":
			if len(out) > 0 {
				continue // stage ARGs do not reach FROM lines
			}
			for _, a := range f[1:] {
				k, v, _ := strings.Cut(a, "=")
				if av, ok := args[k]; ok {
					v = av
				}
				vars[k] = strings.Trim(v, `"'`)
			}
		case "FROM":
			fr := from{line: i + 1}
			for _, w := range f[1:] {
				if p, ok := strings.CutPrefix(w, "--platform="); ok {
					fr.buildPlatform = p == "$BUILDPLATFORM" || p == "${BUILDPLATFORM}"
					continue
				}
				fr.raw = w
				fr.image = os.Expand(w, func(k string) string { return vars[k] })
				break
			}
			out = append(out, fr)
		}
	}
	return out
}

// layoutPlatform is the os/arch[/variant] of the image an oci-layout://
// build context names (PATH[:TAG][@DIGEST]), or "" when it is an index or
// cannot be read.
func layoutPlatform(spec string) string {
	path, _, dgst, err := parseLayoutSpec(spec)
	if err != nil {
		return ""
	}
	blob := func(d string) []byte {
		alg, hex, ok := strings.Cut(d, ":")
		if !ok || strings.ContainsAny(hex, "/\\.") {
			return nil
		}
		b, err := os.ReadFile(filepath.Join(path, "blobs", alg, hex))
		if err != nil {
			return nil
		}
		return b
	}
	var m struct {
		Manifests json.RawMessage `json:"manifests"`
		Config    struct {
			Digest string `json:"digest"`
		} `json:"config"`
	}
	if err := json.Unmarshal(blob(dgst), &m); err != nil || m.Manifests != nil || m.Config.Digest == "" {
		return ""
	}
	var c struct{ OS, Architecture, Variant string }
	if err := json.Unmarshal(blob(m.Config.Digest), &c); err != nil || c.Architecture == "" {
		return ""
	}
	p := c.OS + "/" + c.Architecture
	if c.Variant != "" {
		p += "/" + c.Variant
	}
	return p
}
