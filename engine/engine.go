package engine

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker/cli/cli/connhelper"
	"github.com/docker/go-connections/tlsconfig"
	"github.com/moby/moby/client"
)

// DefaultHost is the engine address used when nothing else names one.
const DefaultHost = client.DefaultDockerHost

// Endpoint is where an engine is and how it was chosen.
type Endpoint struct {
	// Host is the engine address: unix://, tcp://, npipe:// or ssh://.
	Host string
	// From says where Host came from: "--host", "DOCKER_HOST",
	// "context NAME" or "default".
	From string
	// TLS material of a docker context or DOCKER_CERT_PATH ("" if none).
	CAFile, CertFile, KeyFile string
	// SkipTLSVerify is a context's or DOCKER_TLS_VERIFY's choice.
	SkipTLSVerify bool
}

// Resolve finds the engine the way the docker CLI does, first match wins:
// host (a flag) → DOCKER_HOST → DOCKER_CONTEXT → the currentContext of
// $DOCKER_CONFIG/config.json (default ~/.docker) → DefaultHost. The
// context "default" means DefaultHost.
func Resolve(host string) (Endpoint, error) {
	if host != "" {
		return Endpoint{Host: host, From: "--host"}, nil
	}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		ep := Endpoint{Host: h, From: "DOCKER_HOST"}
		if p := os.Getenv("DOCKER_CERT_PATH"); p != "" {
			ep.CAFile, ep.CertFile, ep.KeyFile = filepath.Join(p, "ca.pem"), filepath.Join(p, "cert.pem"), filepath.Join(p, "key.pem")
			ep.SkipTLSVerify = os.Getenv("DOCKER_TLS_VERIFY") == ""
		}
		return ep, nil
	}
	cfgDir := configDir()
	name := os.Getenv("DOCKER_CONTEXT")
	if name == "" {
		b, err := os.ReadFile(filepath.Join(cfgDir, "config.json"))
		if err == nil {
			var cfg struct {
				CurrentContext string `json:"currentContext"`
			}
			if err := json.Unmarshal(b, &cfg); err != nil {
				return Endpoint{}, fmt.Errorf("reading %s: %w", filepath.Join(cfgDir, "config.json"), err)
			}
			name = cfg.CurrentContext
		}
	}
	if name == "" || name == "default" {
		return Endpoint{Host: DefaultHost, From: "default"}, nil
	}
	return contextEndpoint(cfgDir, name)
}

func configDir() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".docker"
	}
	return filepath.Join(home, ".docker")
}

// contextEndpoint reads a docker context from the CLI's context store:
// contexts/meta/<sha256 of the name>/meta.json and its TLS files.
func contextEndpoint(cfgDir, name string) (Endpoint, error) {
	sum := sha256.Sum256([]byte(name))
	id := hex.EncodeToString(sum[:])
	metaPath := filepath.Join(cfgDir, "contexts", "meta", id, "meta.json")
	b, err := os.ReadFile(metaPath)
	if errors.Is(err, os.ErrNotExist) {
		return Endpoint{}, fmt.Errorf("docker context %q not found (no %s): check `docker context ls`, DOCKER_CONTEXT and %s", name, metaPath, filepath.Join(cfgDir, "config.json"))
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("reading docker context %q: %w", name, err)
	}
	var meta struct {
		Endpoints map[string]struct {
			Host          string
			SkipTLSVerify bool
		}
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return Endpoint{}, fmt.Errorf("reading docker context %q from %s: %w", name, metaPath, err)
	}
	d, ok := meta.Endpoints["docker"]
	if !ok || d.Host == "" {
		return Endpoint{}, fmt.Errorf("docker context %q has no docker endpoint (%s)", name, metaPath)
	}
	ep := Endpoint{Host: d.Host, From: "context " + name, SkipTLSVerify: d.SkipTLSVerify}
	tlsDir := filepath.Join(cfgDir, "contexts", "tls", id, "docker")
	if _, err := os.Stat(tlsDir); err == nil {
		for f, dst := range map[string]*string{"ca.pem": &ep.CAFile, "cert.pem": &ep.CertFile, "key.pem": &ep.KeyFile} {
			if _, err := os.Stat(filepath.Join(tlsDir, f)); err == nil {
				*dst = filepath.Join(tlsDir, f)
			}
		}
	}
	return ep, nil
}

// Engine is a connection to a Docker Engine.
type Engine struct {
	// Endpoint is where the engine is.
	Endpoint Endpoint
	// API is the moby client, for what this package does not wrap.
	API *client.Client
}

// Option configures Connect.
type Option func(*options)

type options struct {
	host string
}

// WithHost names the engine, overriding DOCKER_HOST and contexts
// (default: Resolve's order).
func WithHost(h string) Option { return func(o *options) { o.host = h } }

// Connect opens a client to the engine Resolve finds and checks it
// answers (a ping, which also negotiates the API version: every engine
// from API 1.40, Docker 19.03, works).
func Connect(ctx context.Context, opts ...Option) (*Engine, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	ep, err := Resolve(o.host)
	if err != nil {
		return nil, err
	}
	var copts []client.Opt
	if strings.HasPrefix(ep.Host, "ssh://") {
		helper, err := connhelper.GetConnectionHelper(ep.Host)
		if err != nil {
			return nil, fmt.Errorf("connecting to the Docker Engine at %s (%s): %w", ep.Host, ep.From, err)
		}
		copts = append(copts, client.WithHost(helper.Host), client.WithDialContext(helper.Dialer))
	} else {
		copts = append(copts, client.WithHost(ep.Host))
		if ep.CertFile != "" || ep.CAFile != "" || ep.SkipTLSVerify {
			opt, err := tlsOption(ep)
			if err != nil {
				return nil, fmt.Errorf("connecting to the Docker Engine at %s (%s): %w", ep.Host, ep.From, err)
			}
			copts = append(copts, opt)
		}
	}
	api, err := client.New(copts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to the Docker Engine at %s (%s): %w", ep.Host, ep.From, err)
	}
	e := &Engine{Endpoint: ep, API: api}
	if _, err := api.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		api.Close()
		return nil, &UnreachableError{Endpoint: ep, Err: err}
	}
	return e, nil
}

// tlsOption is the client's TLS as the docker CLI makes it for a context
// or DOCKER_CERT_PATH: its CA, client certificate and key when there are
// any, and no verification of the engine's certificate when the context
// says SkipTLSVerify (or DOCKER_TLS_VERIFY is unset).
func tlsOption(ep Endpoint) (client.Opt, error) {
	cfg, err := tlsconfig.Client(tlsconfig.Options{
		CAFile: ep.CAFile, CertFile: ep.CertFile, KeyFile: ep.KeyFile,
		InsecureSkipVerify: ep.SkipTLSVerify, ExclusiveRootPools: ep.CAFile != "",
		MinVersion: tls.VersionTLS12,
	})
	if err != nil {
		return nil, fmt.Errorf("TLS: %w", err)
	}
	return client.WithHTTPClient(&http.Client{
		Transport:     &http.Transport{TLSClientConfig: cfg, Proxy: http.ProxyFromEnvironment},
		CheckRedirect: client.CheckRedirect,
	}), nil
}

// Close releases the connection.
func (e *Engine) Close() error { return e.API.Close() }

// Dial opens a raw connection to the engine's API socket (for hijacked
// endpoints such as /grpc and /session).
func (e *Engine) Dial(ctx context.Context) (net.Conn, error) { return e.API.Dialer()(ctx) }

// UnreachableError says no engine answered at the endpoint; builder
// discovery branches on it to try the next way.
type UnreachableError struct {
	Endpoint Endpoint
	Err      error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("no Docker Engine answers at %s (%s): %v", e.Endpoint.Host, e.Endpoint.From, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }
