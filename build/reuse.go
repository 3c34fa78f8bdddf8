package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	"google.golang.org/protobuf/proto"

	"github.com/dplug/dplug/internal/atomicfile"
	"github.com/dplug/dplug/internal/treestamp"
)

// Reusing the rootfs of the last build (a no-op `build --push`).
//
// Exporting an unchanged rootfs from BuildKit again costs most of a no-op
// build: BuildKit mounts and tars it, dplug extracts it, pack hashes it to
// learn it is unchanged. When nothing a build's rootfs depends on changed
// since the last build of the same project, the rootfs that build
// exported is still on disk (kept under ROOT/build/reuse), and Run hands
// that to the destination instead: BuildKit exports nothing.
//
// # What "nothing changed" means
//
// BuildKit gives a client no identity of a result's content: a step shown
// CACHED only says that some earlier build had the same cache key, not the
// last one (change a file, build, change it back, build: every step is
// cached, and the result is not the one exported last), and the vertex
// digests of a Dockerfile build do not depend on the context's content at
// all. So the key is made of the inputs themselves, in two parts:
//
//   - on the client, before the solve: the build options (Dockerfile bytes
//     and its .dockerignore, target, platforms, build args, network, named
//     contexts, secret and ssh specs, cache imports), and a fingerprint of
//     every entry of the context directory and of each named local context
//     (path, type and mode, size, mtime, ctime, inode, link count, owner,
//     device, link target; contents are not read: ctime changes on every
//     write and user space cannot set it back, see package
//     internal/treestamp, which pack's layer cache shares). A context with
//     an entry changed within racyWindow of the walk is "racy": its
//     timestamps could miss a write in the same clock tick, so such a
//     build neither reuses nor is remembered;
//   - from BuildKit, after the frontend solved the Dockerfile (through the
//     gateway, before anything is exported): every source of the solved
//     definition. Local sources are the directories fingerprinted above;
//     images must be pinned by digest (the frontend pins a FROM tag to the
//     digest it resolved now, so a moved tag changes the key); any other
//     source (git, http) makes the build never reuse. And BuildKit's
//     version, since the frontend turns the same Dockerfile into the
//     definition. A Dockerfile that names its own frontend image
//     (# syntax=, BUILDKIT_SYNTAX) never reuses: that image is found by tag.
//
// The key is recorded with the rootfs only after that rootfs was exported
// and delivered. A build whose key equals the recorded one would produce
// the same rootfs up to what a cached build gives (RUN steps are not
// re-run when cached either), so the recorded rootfs is that build's.
//
// # The kept rootfs must be the one exported
//
// The recorded state also holds a fingerprint of the kept rootfs tree
// (the same stamps as above), taken after it was moved into place, and a
// build reuses it only if a fresh walk gives the same fingerprint: any
// change to it since (a write, chmod, a new or removed file) changes a
// ctime, a size or the set of paths. The racy case is closed with the
// file system's own clock rather than a time window: after the walk, a
// probe file is created beside the tree and its ctime read; if every
// ctime in the tree is older than the probe's, any later change stamps a
// ctime no older than the probe's and so differs from the recorded one.
// If the clock has not ticked yet the walk is repeated a few times, and
// a tree that stays racy is not recorded.
//
// Only the registry destination (build --push) reuses: it reads the
// plugin dir and leaves it in place. A build with --no-cache, a cache
// export, cache imports or several platforms never reuses.

// reuseFormat changes whenever what the key covers changes.
const reuseFormat = "dplug-build-reuse-v1"

// reuseMaxSlots bounds how many projects' rootfs are kept.
var reuseMaxSlots = 8

// reuseState is a slot's state.json.
type reuseState struct {
	Format string `json:"format"`
	Key    string `json:"key"`  // inputs and sources
	Tree   string `json:"tree"` // fingerprint of plugin/rootfs
}

// reuse is one build's view of its slot: ROOT/build/reuse/<slot>/ holds
// state.json and plugin/ (config.json, rootfs/).
type reuse struct {
	dir    string // the slot
	parent string // ROOT/build/reuse: staging goes here, on the slot's file system
	inputs string // the client-side key; "" if the inputs are racy
	key    string // the whole key, set once the sources are known ("" : no reuse)
	hit    bool   // BuildKit exported nothing: plugin/ is the result
	// platform is the BuildKit worker's (as workerPlatform), learnt from
	// the gateway; "" if it said none.
	platform string
}

// newReuse plans reuse for a build of contextDir, or returns nil when this
// build never reuses.
func newReuse(contextDir string, o *options, single bool) *reuse {
	if o.noReuse || o.noCache || len(o.cacheTo) > 0 || len(o.cacheFrom) > 0 || !single || !o.rootSet || o.root == "" {
		return nil
	}
	absCtx, err1 := filepath.Abs(contextDir)
	absDf, err2 := filepath.Abs(o.dockerfile)
	if err1 != nil || err2 != nil {
		return nil
	}
	slot := sha256.Sum256([]byte(strings.Join([]string{absCtx, absDf, o.target, strings.Join(o.platforms, ",")}, "\x00")))
	parent := filepath.Join(o.root, "build", "reuse")
	r := &reuse{dir: filepath.Join(parent, hex.EncodeToString(slot[:12])), parent: parent}
	inputs, err := inputsKey(absCtx, absDf, o)
	if err != nil {
		o.log.Debug("build reuse: inputs not fingerprinted", "err", err)
	}
	r.inputs = inputs
	return r
}

// inputsKey fingerprints what the build reads on the client; "" with no
// error when a tree is racy.
func inputsKey(contextDir, dockerfile string, o *options) (string, error) {
	h := sha256.New()
	field := func(k, v string) { fmt.Fprintf(h, "%s\x00%d\x00%s\x00", k, len(v), v) }
	field("format", reuseFormat)
	field("context", contextDir)
	field("dockerfile", dockerfile)
	df, err := os.ReadFile(dockerfile)
	if err != nil {
		return "", err
	}
	if externalFrontend(df) || o.buildArgs["BUILDKIT_SYNTAX"] != "" {
		// The frontend image (# syntax=) is resolved by tag and turns
		// the Dockerfile into the definition: not pinned.
		return "", nil
	}
	field("dockerfile-bytes", string(df))
	if ign, err := os.ReadFile(dockerfile + ".dockerignore"); err == nil {
		field("dockerfile-ignore", string(ign))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	field("target", o.target)
	field("platforms", strings.Join(o.platforms, ","))
	field("network", o.network)
	for _, k := range slices.Sorted(mapKeys(o.buildArgs)) {
		field("build-arg", k+"="+o.buildArgs[k])
	}
	for _, s := range o.secrets {
		field("secret", s)
	}
	for _, s := range o.ssh {
		field("ssh", s)
	}
	limit := time.Now().Add(-racyWindow).UnixNano()
	tree := func(dir string) (bool, error) {
		fp, newest, err := fingerprint(dir)
		if err != nil {
			return false, err
		}
		field("tree "+dir, fp)
		return newest < limit, nil
	}
	if ok, err := tree(contextDir); err != nil || !ok {
		return "", err
	}
	for _, name := range slices.Sorted(mapKeys(o.contexts)) {
		v := o.contexts[name]
		field("named-context "+name, v)
		if isLocalContext(v) {
			abs, err := filepath.Abs(v)
			if err != nil {
				return "", err
			}
			if ok, err := tree(abs); err != nil || !ok {
				return "", err
			}
		}
		// oci-layout:// contexts are pinned by the digest their source
		// carries in the definition; remote ones are refused there or
		// pinned likewise.
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// externalFrontend says whether a Dockerfile names its frontend image in
// a parser directive (# syntax=IMAGE), read like BuildKit does: comment
// lines at the very top.
func externalFrontend(df []byte) bool {
	for _, line := range strings.Split(string(df), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "#") {
			return false
		}
		k, _, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "syntax") {
			return true
		}
	}
	return false
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// isLocalContext says whether a --build-context value is a local directory
// (see addContext).
func isLocalContext(v string) bool {
	for _, p := range []string{"oci-layout://", "docker-image://", "target:", "git://", "git@", "https://", "http://"} {
		if strings.HasPrefix(v, p) {
			return false
		}
	}
	return true
}

// racyWindow: a context entry changed this recently makes the build's
// inputs untrustworthy by timestamps (package pack uses the same window).
var racyWindow = 2 * time.Second

// sourcesKey returns the key part of a solved definition's sources, or
// ok false when one of them is not pinned (git, http, an image by tag).
func sourcesKey(def *pb.Definition) (key string, ok bool, err error) {
	var ids []string
	for _, b := range def.Def {
		var op pb.Op
		if err := proto.Unmarshal(b, &op); err != nil {
			return "", false, fmt.Errorf("reading the solved definition: %w", err)
		}
		src := op.GetSource()
		if src == nil {
			continue
		}
		id := src.GetIdentifier()
		switch {
		case strings.HasPrefix(id, "local://"):
			// Which local dirs is up to the frontend: the main context,
			// the Dockerfile's dir, named contexts, all fingerprinted.
			continue
		case strings.HasPrefix(id, "docker-image://"):
			if !strings.Contains(id, "@sha256:") {
				return "", false, nil
			}
			attrs := src.GetAttrs()
			var kv []string
			for _, k := range slices.Sorted(mapKeys(attrs)) {
				if !strings.Contains(k, "session") {
					kv = append(kv, k+"="+attrs[k])
				}
			}
			ids = append(ids, id+" "+strings.Join(kv, " "))
		case strings.HasPrefix(id, "oci-layout://"):
			// oci-layout://STOREID:TAG@DIGEST; the store ID is new on every
			// build, the digest pins the content.
			_, d, found := strings.Cut(id, "@")
			if !found || !strings.HasPrefix(d, "sha256:") {
				return "", false, nil
			}
			ids = append(ids, "oci-layout@"+d)
		default:
			return "", false, nil
		}
	}
	sort.Strings(ids)
	return strings.Join(ids, "\n"), true, nil
}

// decide is called with the solved (not yet exported) result: it sets
// r.key, and reports whether the kept rootfs is this build's.
func (r *reuse) decide(ctx context.Context, res *gateway.Result, bkVersion string, o *options) bool {
	if r.inputs == "" || res == nil || res.Ref == nil || len(res.Refs) > 0 {
		return false
	}
	st, err := res.Ref.ToState()
	if err != nil {
		o.log.Debug("build reuse: no definition", "err", err)
		return false
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		o.log.Debug("build reuse: no definition", "err", err)
		return false
	}
	srcs, ok, err := sourcesKey(def.ToPB())
	if err != nil || !ok {
		o.log.Debug("build reuse: a source is not pinned, not reusing", "err", err)
		return false
	}
	h := sha256.Sum256([]byte(r.inputs + "\x00" + bkVersion + "\x00" + srcs))
	r.key = hex.EncodeToString(h[:])
	data, err := os.ReadFile(filepath.Join(r.dir, "state.json"))
	if err != nil {
		return false
	}
	var s reuseState
	if json.Unmarshal(data, &s) != nil || s.Format != reuseFormat || s.Key != r.key {
		o.log.Debug("build reuse: inputs changed since the last build", "slot", r.dir)
		return false
	}
	fp, _, err := fingerprint(filepath.Join(r.dir, "plugin", "rootfs"))
	if err != nil || fp != s.Tree {
		o.log.Debug("build reuse: the kept rootfs changed, exporting", "err", err)
		return false
	}
	o.log.Debug("build reuse: nothing changed since the last build, reusing its rootfs", "slot", r.dir)
	return true
}

// plugin is the kept plugin dir, with cfg written as its config.json.
func (r *reuse) plugin(cfg []byte) (string, error) {
	dir := filepath.Join(r.dir, "plugin")
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644); err != nil {
		return "", fmt.Errorf("writing config.json: %w", err)
	}
	return dir, nil
}

// record keeps the delivered plugin dir staging as the slot's rootfs
// under r.key. Errors only mean the next build exports again.
func (r *reuse) record(staging string) error {
	if r.key == "" {
		return nil
	}
	state := filepath.Join(r.dir, "state.json")
	if err := os.Remove(state); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		return err
	}
	plugin := filepath.Join(r.dir, "plugin")
	if _, err := os.Lstat(plugin); err == nil {
		old, err := os.MkdirTemp(r.parent, ".old-")
		if err != nil {
			return err
		}
		if err := os.Rename(plugin, filepath.Join(old, "plugin")); err != nil {
			os.RemoveAll(old)
			return err
		}
		defer os.RemoveAll(old)
	}
	if err := os.Rename(staging, plugin); err != nil {
		return err
	}
	fp, err := settledFingerprint(filepath.Join(plugin, "rootfs"), r.dir)
	if err != nil {
		return err
	}
	data, err := json.Marshal(reuseState{Format: reuseFormat, Key: r.key, Tree: fp})
	if err != nil {
		return err
	}
	// Not fsynced: after a crash an empty state.json only means the next
	// build exports again.
	if err := atomicfile.WriteFile(state, data, 0o600, false); err != nil {
		return err
	}
	r.trim()
	return nil
}

// trim removes the least recently recorded slots past reuseMaxSlots.
func (r *reuse) trim() {
	des, err := os.ReadDir(r.parent)
	if err != nil {
		return
	}
	type slot struct {
		dir string
		t   time.Time
	}
	var slots []slot
	for _, d := range des {
		if !d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			continue
		}
		dir := filepath.Join(r.parent, d.Name())
		var t time.Time
		if fi, err := os.Stat(filepath.Join(dir, "state.json")); err == nil {
			t = fi.ModTime()
		}
		slots = append(slots, slot{dir, t})
	}
	if len(slots) <= reuseMaxSlots {
		return
	}
	sort.Slice(slots, func(i, j int) bool { return slots[i].t.Before(slots[j].t) })
	for _, s := range slots[:len(slots)-reuseMaxSlots] {
		os.RemoveAll(s.dir)
	}
}

// errRacy: the tree kept changing in the same tick of the file system's
// clock as its walk.
var errRacy = errors.New("the rootfs did not settle")

// settledFingerprint fingerprints tree once every ctime in it is older
// than a probe file created in probeDir (on the same file system) after
// the walk started, so that any later change is seen (see the notes above).
func settledFingerprint(tree, probeDir string) (string, error) {
	for range 20 {
		fp, newest, err := fingerprint(tree)
		if err != nil {
			return "", err
		}
		probe, err := fsNow(probeDir)
		if err != nil {
			return "", err
		}
		if newest < probe {
			return fp, nil
		}
		time.Sleep(time.Millisecond)
	}
	return "", errRacy
}

// fsNow is the file system's current time at dir: the ctime of a file
// created there now.
func fsNow(dir string) (int64, error) {
	f, err := os.CreateTemp(dir, ".probe-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		return 0, err
	}
	st, ok := treestamp.Of(fi)
	if !ok {
		return 0, treestamp.ErrNoStamp
	}
	return st.Ctime, nil
}

// fingerprint hashes every entry's stamps under dir (see the notes
// above), and returns the newest of their ctimes and mtimes.
func fingerprint(dir string) (string, int64, error) {
	fp, newest, err := treestamp.Tree(dir)
	if err != nil {
		return "", 0, fmt.Errorf("fingerprinting %s: %w", dir, err)
	}
	return fp, newest, nil
}
