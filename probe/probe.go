package probe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/dplug/dplug/plugin"
)

// Check is the outcome of one probe.
type Check struct {
	Interface string        `json:"interface"` // VolumeDriver, NetworkDriver, ..., or Plugin
	Name      string        `json:"name"`      // what was checked, in words
	Method    string        `json:"method"`    // the endpoint called, e.g. VolumeDriver.Get
	Pass      bool          `json:"pass"`
	Skipped   bool          `json:"skipped,omitempty"`
	Detail    string        `json:"detail,omitempty"` // why it failed, or a note
	Duration  time.Duration `json:"durationNs"`
}

// Report is the result of Run: every check, in the order they ran.
type Report struct {
	Socket string   `json:"socket"`
	Types  []string `json:"types"`
	Checks []Check  `json:"checks"`
}

// Failed counts the checks that did not pass (skipped ones are not failures).
func (r *Report) Failed() int {
	n := 0
	for _, c := range r.Checks {
		if !c.Pass && !c.Skipped {
			n++
		}
	}
	return n
}

// Option configures Run.
type Option func(*options)

type options struct {
	rootfs  string
	timeout time.Duration
}

// WithRootfs gives the host path of the plugin's rootfs. The log driver
// probes need it: like dockerd, they create the log FIFO inside the rootfs
// (at /run/docker/logging/<id>). Without it those probes are skipped.
func WithRootfs(dir string) Option { return func(o *options) { o.rootfs = dir } }

// WithCallTimeout bounds each call (default 10 s).
func WithCallTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// prober runs the checks of one Run.
type prober struct {
	c    *Client
	o    options
	rep  *Report
	ctx  context.Context
	name string // random suffix for the objects the probes create
}

// Run probes the plugin on socket for each declared interface type: the
// activation handshake, then, per type, valid requests (which must succeed
// with a well-formed answer) and invalid ones (which must fail with the
// error in the field dockerd reads: Err, or Error for IPAM).
func Run(ctx context.Context, socket string, types []string, opts ...Option) *Report {
	o := options{timeout: 10 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	p := &prober{
		c:    NewClient(socket, WithHTTPTimeout(o.timeout)),
		o:    o,
		rep:  &Report{Socket: socket, Types: types, Checks: []Check{}},
		ctx:  ctx,
		name: "dplug-probe-" + randHex(4),
	}
	p.activate(types)
	for _, t := range types {
		switch t {
		case plugin.TypeVolume:
			p.volume()
		case plugin.TypeNetwork:
			p.network()
		case plugin.TypeIPAM:
			p.ipam()
		case plugin.TypeAuthz:
			p.authz()
		case plugin.TypeLog:
			p.logDriver()
		case plugin.TypeMetrics:
			p.metrics()
		default:
			p.rep.Checks = append(p.rep.Checks, Check{Interface: t, Name: "no probes for this interface type", Skipped: true})
		}
	}
	return p.rep
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// outcome is what a probe learnt from one call.
type outcome struct {
	resp   *Response
	fields map[string]json.RawMessage // top-level keys of a JSON object answer
	errMsg string                     // the Err/Error field
}

// expect says how a call must turn out.
type expect int

const (
	wantOK      expect = iota // HTTP 200, empty Err
	wantErr                   // non-empty Err (any status)
	wantRefused               // non-200 or non-empty Err: for malformed requests
	optional                  // like wantOK, but HTTP 404 means "not implemented" and passes
)

// call runs one check. check, if not nil, validates a successful answer
// decoded into out.
func (p *prober) call(iface, name, method string, req any, errField string, exp expect, out any, check func() error) *outcome {
	begin := time.Now()
	c := Check{Interface: iface, Name: name, Method: method}
	oc, detail := p.do(method, req, errField, exp, out, check)
	c.Pass = detail == ""
	if !c.Pass {
		c.Detail = detail
	} else if oc != nil && oc.resp.Status == http.StatusNotFound && exp == optional {
		c.Detail = "not implemented (optional)"
	}
	c.Duration = time.Since(begin)
	p.rep.Checks = append(p.rep.Checks, c)
	return oc
}

func (p *prober) do(method string, req any, errField string, exp expect, out any, check func() error) (*outcome, string) {
	var r *Response
	var err error
	if raw, ok := req.([]byte); ok {
		r, err = p.c.CallRaw(p.ctx, method, raw)
	} else {
		r, err = p.c.Call(p.ctx, method, req)
	}
	if err != nil {
		return nil, err.Error()
	}
	oc := &outcome{resp: r}
	if exp == optional && r.Status == http.StatusNotFound {
		return oc, ""
	}
	// On a non-200 status dockerd's plugin client reads the error from
	// "Err" whatever the interface; on 200 the interface's own field counts.
	field := errField
	if r.Status != http.StatusOK {
		field = "Err"
	}
	if json.Unmarshal(r.Body, &oc.fields) == nil {
		if v, ok := oc.fields[field]; ok {
			_ = json.Unmarshal(v, &oc.errMsg)
		}
	}
	switch exp {
	case wantRefused:
		if r.Status == http.StatusOK && oc.errMsg == "" {
			return oc, fmt.Sprintf("accepted: HTTP 200 with no %s: %s", errField, snippet(r.Body))
		}
		return oc, ""
	case wantErr:
		if oc.fields == nil {
			return oc, fmt.Sprintf("HTTP %d, answer is not a JSON object with %q: %s", r.Status, field, snippet(r.Body))
		}
		if oc.errMsg == "" {
			return oc, fmt.Sprintf("HTTP %d with an empty %q: the error must be reported in %q", r.Status, field, field)
		}
		return oc, ""
	}
	if oc.fields == nil {
		return oc, fmt.Sprintf("HTTP %d, answer is not a JSON object: %s", r.Status, snippet(r.Body))
	}
	if oc.errMsg != "" {
		return oc, fmt.Sprintf("HTTP %d, %s: %s", r.Status, field, oc.errMsg)
	}
	if r.Status != http.StatusOK {
		return oc, fmt.Sprintf("HTTP %d: %s", r.Status, snippet(r.Body))
	}
	if out != nil {
		if err := json.Unmarshal(r.Body, out); err != nil {
			return oc, fmt.Sprintf("answer does not decode: %v: %s", err, snippet(r.Body))
		}
	}
	if check != nil {
		if err := check(); err != nil {
			return oc, err.Error()
		}
	}
	return oc, ""
}

func (p *prober) activate(types []string) {
	c := Check{Interface: "Plugin", Name: "activation handshake lists the declared interfaces", Method: "Plugin.Activate"}
	begin := time.Now()
	impl, err := Activate(p.ctx, p.c.socket)
	switch {
	case err != nil:
		// dockerd never calls it for v2 plugins.
		c.Pass, c.Detail = true, "not answered (fine: dockerd does not call it for v2 plugins)"
	default:
		if m := MissingImplements(types, impl); len(m) > 0 {
			c.Detail = fmt.Sprintf("Implements %v lacks %v", impl, m)
		} else {
			c.Pass = true
		}
	}
	c.Duration = time.Since(begin)
	p.rep.Checks = append(p.rep.Checks, c)
}
