package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dplug/dplug/plugin"
)

// MediaType is the Accept header dockerd sends with every plugin request.
const MediaType = "application/vnd.docker.plugins.v1.2+json"

// Client calls a plugin's HTTP API over its unix socket exactly as dockerd
// does.
type Client struct {
	socket string
	hc     *http.Client
}

// ClientOption configures NewClient.
type ClientOption func(*Client)

// WithHTTPTimeout bounds each call (default 10 s).
func WithHTTPTimeout(d time.Duration) ClientOption {
	return func(c *Client) { c.hc.Timeout = d }
}

// NewClient returns a client for the plugin listening on the unix socket at
// socket (a host path; long paths are fine, see Dial).
func NewClient(socket string, opts ...ClientOption) *Client {
	c := &Client{socket: socket}
	c.hc = &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return Dial(ctx, socket)
			},
			DisableKeepAlives: true,
		},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Response is a plugin's raw answer to one call.
type Response struct {
	Status int
	Body   []byte
}

// Call POSTs req as JSON (with a trailing newline; nil sends {}) to
// /<method> and returns the raw answer. Only transport failures are errors:
// a non-200 status is the plugin's answer.
func (c *Client) Call(ctx context.Context, method string, req any) (*Response, error) {
	var body bytes.Buffer
	if req == nil {
		body.WriteString("{}\n")
	} else if err := json.NewEncoder(&body).Encode(req); err != nil {
		return nil, fmt.Errorf("encoding %s request: %w", method, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://plugin/"+strings.TrimPrefix(method, "/"), &body)
	if err != nil {
		return nil, fmt.Errorf("calling %s: %w", method, err)
	}
	hr.Header.Set("Accept", MediaType)
	return c.do(method, hr)
}

func (c *Client) do(method string, hr *http.Request) (*Response, error) {
	resp, err := c.hc.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("calling %s: %w", method, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("reading %s response: %w", method, err)
	}
	return &Response{Status: resp.StatusCode, Body: data}, nil
}

// CallRaw POSTs body as it is, for requests dockerd would never send
// (malformed JSON), which a plugin must refuse.
func (c *Client) CallRaw(ctx context.Context, method string, body []byte) (*Response, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://plugin/"+strings.TrimPrefix(method, "/"), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("calling %s: %w", method, err)
	}
	hr.Header.Set("Accept", MediaType)
	return c.do(method, hr)
}

// CallJSON is Call that also decodes the answer into resp (when it is JSON).
func (c *Client) CallJSON(ctx context.Context, method string, req, resp any) (*Response, error) {
	r, err := c.Call(ctx, method, req)
	if err != nil {
		return nil, err
	}
	if resp != nil {
		if err := json.Unmarshal(r.Body, resp); err != nil {
			return r, fmt.Errorf("decoding %s response (HTTP %d): %w: %s", method, r.Status, err, snippet(r.Body))
		}
	}
	return r, nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// ActivateResponse is the answer to /Plugin.Activate.
type ActivateResponse struct {
	Implements []string
	Err        string
}

// Activate performs the legacy activation handshake. dockerd does not call
// it for v2 plugins, so an error only means the plugin does not answer it.
func Activate(ctx context.Context, socket string) ([]string, error) {
	var ar ActivateResponse
	r, err := NewClient(socket).CallJSON(ctx, "Plugin.Activate", nil, &ar)
	if err != nil {
		return nil, err
	}
	if r.Status != http.StatusOK {
		return nil, fmt.Errorf("calling Plugin.Activate: HTTP %d: %s", r.Status, snippet(r.Body))
	}
	if ar.Err != "" {
		return nil, fmt.Errorf("calling Plugin.Activate: %s", ar.Err)
	}
	return ar.Implements, nil
}

// implementsName maps each interface type to the name a plugin lists in
// its Activate answer.
var implementsName = map[string]string{
	plugin.TypeVolume:  "VolumeDriver",
	plugin.TypeNetwork: "NetworkDriver",
	plugin.TypeIPAM:    "IpamDriver",
	plugin.TypeAuthz:   "authz",
	plugin.TypeLog:     "LogDriver",
	plugin.TypeMetrics: "MetricsCollector",
}

// ImplementsName is what a plugin of interface type t says it implements in
// its Activate answer ("" for types without one, such as CSI).
func ImplementsName(t string) string { return implementsName[t] }

// MissingImplements returns, for each declared interface type with an
// Activate name, the names the Activate answer lacks.
func MissingImplements(types, implements []string) []string {
	var missing []string
	for _, t := range types {
		if n := implementsName[t]; n != "" && !slices.Contains(implements, n) {
			missing = append(missing, n)
		}
	}
	return missing
}
