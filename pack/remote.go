package pack

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// userAgent identifies dplug to registries.
const userAgent = "dplug"

// retryBackoff is used for both single requests and whole blob uploads:
// 4 tries, 0.5 s then 1.5 s then 4.5 s apart.
var retryBackoff = remote.Backoff{Duration: 500 * time.Millisecond, Factor: 3, Jitter: 0.1, Steps: 4}

// retryStatus are the HTTP status codes worth a retry.
var retryStatus = []int{
	http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
	http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout,
}

// retryable reports whether err is a transient network or server failure.
func retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var te *transport.Error
	if errors.As(err, &te) {
		return te.StatusCode >= 500 || te.StatusCode == http.StatusTooManyRequests || te.Temporary()
	}
	// A timeout is not retried: it already waited the whole --timeout, and
	// retries would multiply what the user waits for.
	var ne net.Error
	if errors.Is(err, ErrTimeout) || errors.Is(err, ErrTooManyRedirects) || errors.Is(err, ErrDamaged) ||
		(errors.As(err, &ne) && ne.Timeout()) {
		return false
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed)
}

// parseRef parses a registry reference; loopback registries get plain HTTP
// (go-containerregistry does that itself), others only with o.insecure.
func parseRef(ref string, o *options) (name.Reference, error) {
	var nopts []name.Option
	if o.insecure {
		nopts = append(nopts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nopts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %s (want [REGISTRY/]REPOSITORY[:TAG|@DIGEST], lowercase)", ErrBadReference, refProblem(ref))
	}
	return r, nil
}

// ParseReference checks ref the way Push, Fetch and Pull will, so that a
// caller can reject a bad reference before doing any work; the error wraps
// ErrBadReference.
func ParseReference(ref string, opts ...Option) error {
	o := makeOptions(opts...)
	_, err := parseRef(ref, o)
	return err
}

var reDigest = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// refProblem says in words what is wrong with a reference
// go-containerregistry refused (its own message only repeats the input).
func refProblem(ref string) string {
	repo, _, _ := strings.Cut(ref, "@")
	if i := strings.LastIndexByte(repo, '/'); strings.Count(repo[i+1:], ":") > 1 {
		return "more than one ':' after the repository name"
	}
	if i := strings.IndexByte(repo, '/'); i >= 0 && (strings.ContainsAny(repo[:i], ".:") || repo[:i] == "localhost") {
		repo = repo[i+1:] // the registry host may hold upper case
	}
	if i := strings.LastIndexByte(repo, ':'); i > strings.LastIndexByte(repo, '/') {
		repo = repo[:i] // so may the tag
	}
	if strings.ToLower(repo) != repo {
		return "repository names must be lowercase"
	}
	switch {
	case ref == "":
		return "it is empty"
	case strings.Contains(ref, "@") && !reDigest.MatchString(ref[strings.LastIndexByte(ref, '@')+1:]):
		return "a digest looks like @sha256:<64 hex digits>"
	}
	return "it is not a valid image reference"
}

// pluginScope is the token scope dockerd requests for plugins: resource
// class "plugin", so registries that separate plugins from images grant it.
func pluginScope(repo name.Repository, actions string) string {
	return "repository(plugin):" + repo.RepositoryStr() + ":" + actions
}

// remoteOptions authenticates against repo with the plugin scope and wraps
// the transport with retries. The returned transport is a
// transport.Wrapper, so go-containerregistry uses it as it is.
func remoteOptions(ctx context.Context, repo name.Repository, push bool, extraScopes []string, o *options) ([]remote.Option, http.RoundTripper, error) {
	base := registryTransport(o)
	rt := transport.NewRetry(base,
		transport.WithRetryBackoff(retryBackoff),
		transport.WithRetryPredicate(retryable),
		transport.WithRetryStatusCodes(retryStatus...))
	rt = transport.NewUserAgent(rt, userAgent)

	auth, err := authn.Resolve(ctx, o.keychain, repo)
	if err != nil {
		return nil, nil, fmt.Errorf("resolving credentials for %s: %w", repo.RegistryStr(), err)
	}
	actions := "pull"
	if push {
		actions = "pull,push"
	}
	scopes := append([]string{pluginScope(repo, actions)}, extraScopes...)
	tr, err := transport.NewWithContext(ctx, repo.Registry, auth, rt, scopes)
	if err != nil {
		return nil, nil, classify(repo.String(), err)
	}
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(tr),
		remote.WithRetryBackoff(retryBackoff),
		remote.WithRetryPredicate(retryable),
		remote.WithRetryStatusCodes(retryStatus...),
		remote.WithUserAgent(userAgent),
	}, tr, nil
}

// Push uploads img to the registry reference ref and returns the digest of
// the manifest. Blobs the registry already has are not uploaded again;
// layers that came from another repository of the same registry are
// mounted rather than copied.
func Push(ctx context.Context, img v1.Image, ref string, opts ...Option) (string, error) {
	o := makeOptions(opts...)
	r, err := parseRef(ref, o)
	if err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	if from := mountSource(r, o); from != nil {
		o.log.Debug("mounting layers from", "repo", from.Context().String())
		img = &mountImage{Image: img, from: from}
	}
	var extra []string
	if ls, err := img.Layers(); err == nil {
		seen := map[string]bool{}
		for _, l := range ls {
			if ml, ok := l.(*remote.MountableLayer); ok && ml.Reference.Context().RegistryStr() == r.Context().RegistryStr() &&
				ml.Reference.Context().RepositoryStr() != r.Context().RepositoryStr() && !seen[ml.Reference.Context().String()] {
				seen[ml.Reference.Context().String()] = true
				extra = append(extra, pluginScope(ml.Reference.Context(), "pull"))
			}
		}
	}
	// Say what the network is doing: connecting (auth, existence
	// checks), uploading (blob bytes), finishing (the manifest).
	ph := newPhases(o.progress)
	ph.report(Progress{Phase: PhaseConnecting})
	o2 := *o
	o2.observe = func(req *http.Request) {
		switch {
		case strings.Contains(req.URL.Path, "/blobs/") && req.Method != http.MethodHead:
			ph.report(Progress{Phase: PhaseUploading})
		case strings.Contains(req.URL.Path, "/manifests/") && req.Method == http.MethodPut:
			ph.report(Progress{Phase: PhaseFinishing})
		}
	}
	ropts, _, err := remoteOptions(ctx, r.Context(), true, extra, &o2)
	if err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	updates := make(chan v1.Update, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var last time.Time
		for u := range updates {
			if now := time.Now(); now.Sub(last) > 100*time.Millisecond || u.Complete == u.Total {
				last = now
				ph.report(Progress{Phase: PhaseUploading, Complete: u.Complete, Total: u.Total})
			}
		}
	}()
	ropts = append(ropts, remote.WithProgress(updates))
	o.log.Debug("pushing", "ref", r.String())
	err = remote.Write(r, img, ropts...)
	<-done // remote closes updates when it is done
	if err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, classify(r.String(), err))
	}
	d, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	return d.String(), nil
}

// mountSource picks the first WithMountFrom reference on the same registry
// as target, in another repository.
func mountSource(target name.Reference, o *options) name.Reference {
	for _, s := range o.mountFrom {
		r, err := parseRef(s, o)
		if err != nil {
			o.log.Debug("ignoring mount source", "ref", s, "err", err)
			continue
		}
		if r.Context().RegistryStr() == target.Context().RegistryStr() &&
			r.Context().RepositoryStr() != target.Context().RepositoryStr() {
			return r
		}
	}
	return nil
}

// mountImage presents img's layers as mountable from another repository,
// so go-containerregistry tries a cross-repository mount before uploading.
type mountImage struct {
	v1.Image
	from name.Reference
}

func (m *mountImage) Layers() ([]v1.Layer, error) {
	ls, err := m.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for i, l := range ls {
		out[i] = &remote.MountableLayer{Layer: l, Reference: m.from}
	}
	return out, nil
}

func (m *mountImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	l, err := m.Image.LayerByDigest(h)
	if err != nil {
		return nil, err
	}
	return &remote.MountableLayer{Layer: l, Reference: m.from}, nil
}

// ConfigLayer makes the config blob mountable too (see partial.ConfigLayer).
func (m *mountImage) ConfigLayer() (v1.Layer, error) {
	l, err := partial.ConfigLayer(m.Image)
	if err != nil {
		return nil, err
	}
	return &remote.MountableLayer{Layer: l, Reference: m.from}, nil
}

// registryTransport is the transport under the auth and retry layers:
// o.transport (by default one with o.timeout's bounds), unverified TLS with
// o.insecure, HTTPS-only without it, and at most maxRedirects redirects.
func registryTransport(o *options) http.RoundTripper {
	var base http.RoundTripper
	if o.transport != nil {
		base = o.transport
	} else {
		base = newTransport(o.timeout)
	}
	if o.insecure {
		if t, ok := base.(*http.Transport); ok {
			if t == o.transport {
				t = t.Clone()
			}
			if t.TLSClientConfig == nil {
				t.TLSClientConfig = &tls.Config{}
			}
			t.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // the user asked for --insecure
			base = t
		}
	} else {
		base = httpsOnly{inner: base}
	}
	if o.observe != nil {
		base = observer{inner: base, fn: o.observe}
	}
	return redirectLimit{inner: base}
}

// observer shows each request to fn before sending it.
type observer struct {
	inner http.RoundTripper
	fn    func(*http.Request)
}

func (ob observer) RoundTrip(r *http.Request) (*http.Response, error) {
	ob.fn(r)
	return ob.inner.RoundTrip(r)
}

// Progress phases of the network operations.
const (
	PhaseConnecting = "connecting" // reaching the registry: auth, token, manifest
	PhaseUploading  = "uploading"  // sending blobs (bytes)
	PhaseFinishing  = "finishing"  // writing the manifest
	PhasePulling    = "pulling"    // receiving layers (bytes)
)

// phases serialises progress reports from several goroutines and keeps
// them in order: once a later phase has begun, reports of an earlier one
// (a late byte count) are dropped.
type phases struct {
	mu  sync.Mutex
	fn  func(Progress)
	cur int
}

var phaseOrder = map[string]int{PhaseConnecting: 1, PhaseUploading: 2, PhaseFinishing: 3}

func newPhases(fn func(Progress)) *phases { return &phases{fn: fn} }

func (p *phases) report(u Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := phaseOrder[u.Phase]
	if n < p.cur {
		return
	}
	if n == p.cur && u.Complete == 0 && u.Total == 0 {
		return // the phase goes on; a byte count may already be shown
	}
	p.cur = n
	p.fn(u)
}

// httpsOnly refuses plain-HTTP requests except to loopback hosts, like
// Docker: go-containerregistry would also fall back to HTTP for RFC 1918
// addresses, which a man in the middle could force. --insecure lifts it.
type httpsOnly struct{ inner http.RoundTripper }

func (h httpsOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme == "http" && !isLoopback(r.URL.Hostname()) {
		return nil, fmt.Errorf("%w: refusing plain HTTP to %s (use --insecure for a plain-HTTP registry)", ErrUnreachable, r.URL.Host)
	}
	return h.inner.RoundTrip(r)
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
