package build

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	contentlocal "github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/docker/cli/cli/config"
	"github.com/moby/buildkit/client"
	bkbuild "github.com/moby/buildkit/cmd/buildctl/build"
	"github.com/moby/buildkit/identity"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
	"github.com/moby/buildkit/util/entitlements"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"
)

// Network modes of RUN steps (WithNetwork).
const (
	NetworkDefault = "default"
	NetworkHost    = "host"
	NetworkNone    = "none"
)

// solveOpt turns the options into BuildKit's SolveOpt exporting the rootfs
// as a tar stream; solve supplies the export's Output.
func solveOpt(contextDir string, o *options) (*client.SolveOpt, error) {
	ctxFS, err := fsutil.NewFS(contextDir)
	if err != nil {
		return nil, fmt.Errorf("opening build context %s: %w", contextDir, err)
	}
	dfDir := filepath.Dir(o.dockerfile)
	if _, err := os.Stat(o.dockerfile); errors.Is(err, fs.ErrNotExist) {
		return nil, &InputError{fmt.Errorf("%w at %s: write one, or point -f at yours", ErrNoDockerfile, o.dockerfile)}
	} else if err != nil {
		return nil, &InputError{fmt.Errorf("reading Dockerfile: %w", err)}
	}
	dfFS, err := fsutil.NewFS(dfDir)
	if err != nil {
		return nil, fmt.Errorf("opening Dockerfile dir %s: %w", dfDir, err)
	}
	so := &client.SolveOpt{
		Frontend: "dockerfile.v0",
		FrontendAttrs: map[string]string{
			"filename": filepath.Base(o.dockerfile),
		},
		LocalMounts: map[string]fsutil.FS{
			"context":    ctxFS,
			"dockerfile": dfFS,
		},
		// The tar exporter, not the local one: BuildKit's local exporter
		// can stall forever on a large rootfs (moby/buildkit#2950).
		Exports: []client.ExportEntry{{Type: client.ExporterTar}},
	}
	if o.target != "" {
		so.FrontendAttrs["target"] = o.target
	}
	if len(o.platforms) > 0 {
		so.FrontendAttrs["platform"] = strings.Join(o.platforms, ",")
	}
	if len(o.platforms) > 1 {
		so.Exports[0].Attrs = map[string]string{"platform-split": "true"}
	}
	switch o.network {
	case "", NetworkDefault:
	case NetworkHost:
		so.FrontendAttrs["force-network-mode"] = NetworkHost
		so.AllowedEntitlements = append(so.AllowedEntitlements, string(entitlements.EntitlementNetworkHost))
	case NetworkNone:
		so.FrontendAttrs["force-network-mode"] = NetworkNone
	default:
		return nil, &InputError{fmt.Errorf("invalid network mode %q: use default, host or none", o.network)}
	}
	if o.noCache {
		so.FrontendAttrs["no-cache"] = ""
	}
	for k, v := range o.buildArgs {
		so.FrontendAttrs["build-arg:"+k] = v
	}
	for name, v := range o.contexts {
		if err := addContext(so, name, v); err != nil {
			return nil, err
		}
	}

	dockerConfig := config.LoadDefaultConfigFile(io.Discard)
	so.Session = append(so.Session, authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: authprovider.LoadAuthConfig(dockerConfig),
	}))
	if len(o.secrets) > 0 {
		a, err := bkbuild.ParseSecret(o.secrets)
		if err != nil {
			return nil, fmt.Errorf("parsing --secret: %w", err)
		}
		so.Session = append(so.Session, a)
	}
	if len(o.ssh) > 0 {
		cfgs, err := bkbuild.ParseSSH(o.ssh)
		if err != nil {
			return nil, fmt.Errorf("parsing --ssh: %w", err)
		}
		a, err := sshprovider.NewSSHAgentProvider(cfgs)
		if err != nil {
			return nil, fmt.Errorf("setting up --ssh: %w", err)
		}
		so.Session = append(so.Session, a)
	}
	if len(o.cacheFrom) > 0 {
		so.CacheImports, err = bkbuild.ParseImportCache(o.cacheFrom)
		if err != nil {
			return nil, fmt.Errorf("parsing --cache-from: %w", err)
		}
	}
	if len(o.cacheTo) > 0 {
		so.CacheExports, err = bkbuild.ParseExportCache(o.cacheTo)
		if err != nil {
			return nil, fmt.Errorf("parsing --cache-to: %w", err)
		}
	}
	return so, nil
}

// addContext adds one named build context (buildx --build-context).
func addContext(so *client.SolveOpt, name, value string) error {
	if name == "" || value == "" {
		return fmt.Errorf("invalid build context %q=%q: want NAME=VALUE", name, value)
	}
	switch {
	case strings.HasPrefix(value, "oci-layout://"):
		return addOCILayoutContext(so, name, strings.TrimPrefix(value, "oci-layout://"))
	case strings.HasPrefix(value, "docker-image://"), strings.HasPrefix(value, "target:"),
		strings.HasPrefix(value, "git://"), strings.HasPrefix(value, "git@"),
		strings.HasPrefix(value, "https://"), strings.HasPrefix(value, "http://"):
		so.FrontendAttrs["context:"+name] = value
		return nil
	}
	fs, err := fsutil.NewFS(value)
	if err != nil {
		return fmt.Errorf("opening build context %s=%s: %w", name, value, err)
	}
	// A mount name distinct from "context" and "dockerfile".
	key := "ctx-" + name
	so.LocalMounts[key] = fs
	so.FrontendAttrs["context:"+name] = "local:" + key
	return nil
}

// addOCILayoutContext resolves PATH[:TAG][@DIGEST] against the layout's
// index.json and hands BuildKit the layout as a client-side content store.
func addOCILayoutContext(so *client.SolveOpt, name, spec string) error {
	path, tag, dgst, err := parseLayoutSpec(spec)
	if err != nil {
		return fmt.Errorf("build context %s: %w", name, err)
	}
	store, err := contentlocal.NewStore(path)
	if err != nil {
		return fmt.Errorf("opening OCI layout %s: %w", path, err)
	}
	if so.OCIStores == nil {
		so.OCIStores = map[string]content.Store{}
	}
	id := identity.NewID()
	so.OCIStores[id] = store
	so.FrontendAttrs["context:"+name] = "oci-layout://" + id + ":" + tag + "@" + dgst
	return nil
}

// parseLayoutSpec splits an oci-layout:// build context's PATH[:TAG][@DIGEST]
// (TAG defaults to latest) and, without a digest, finds it in the layout's
// index.json.
func parseLayoutSpec(spec string) (path, tag, dgst string, err error) {
	path, dgst, _ = strings.Cut(spec, "@")
	tag = "latest"
	if i := strings.LastIndex(path, ":"); i > strings.LastIndex(path, "/") {
		path, tag = path[:i], path[i+1:]
	}
	if dgst == "" {
		if dgst, err = layoutDigest(path, tag); err != nil {
			return "", "", "", err
		}
	}
	return path, tag, dgst, nil
}

// layoutDigest finds the manifest tagged tag in an OCI layout's index.json,
// or its only manifest.
func layoutDigest(path, tag string) (string, error) {
	data, err := os.ReadFile(filepath.Join(path, "index.json"))
	if err != nil {
		return "", fmt.Errorf("reading OCI layout: %w", err)
	}
	var idx ocispecs.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return "", fmt.Errorf("parsing %s/index.json: %w", path, err)
	}
	for _, m := range idx.Manifests {
		if m.Annotations[ocispecs.AnnotationRefName] == tag {
			return m.Digest.String(), nil
		}
	}
	if len(idx.Manifests) == 1 {
		return idx.Manifests[0].Digest.String(), nil
	}
	return "", fmt.Errorf("no image tagged %q in OCI layout %s", tag, path)
}
