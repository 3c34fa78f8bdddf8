package probe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"time"

	"github.com/dplug/dplug/plugin"
)

// Kind says what a failed check means.
type Kind string

const (
	// Required checks test what dockerd relies on: when one fails, dockerd
	// fails the operation (or silently misbehaves) with this plugin. Each
	// one names the moby code path in a comment where it is made.
	Required Kind = "required"
	// Advisory checks test a convention dockerd does not depend on (an
	// error message in the usual field, refusing malformed JSON, answering
	// the optional endpoints). A failed advisory check is a WARN, or a
	// FAIL with WithStrict.
	Advisory Kind = "advisory"
)

// Status is the verdict of one check.
type Status string

// The verdicts.
const (
	StatusPass Status = "PASS"
	StatusFail Status = "FAIL"
	StatusWarn Status = "WARN" // an advisory check failed (not under --strict)
	StatusSkip Status = "SKIP" // a step it depends on failed; Reason says which
)

// Check is the outcome of one probe.
type Check struct {
	Interface string `json:"interface"` // VolumeDriver, NetworkDriver, ..., or Plugin
	Name      string `json:"name"`      // what was checked, in words
	Method    string `json:"method"`    // the endpoint called, e.g. VolumeDriver.Get
	Kind      Kind   `json:"kind"`
	Status    Status `json:"status"`
	// Reason says why the check failed, warned or was skipped, or holds a
	// note on a pass (an authz decision, "not implemented").
	Reason string `json:"reason,omitempty"`
	// Decision is an authorization plugin's answer: "allow" or "deny".
	Decision string        `json:"decision,omitempty"`
	Duration time.Duration `json:"durationNs"`
}

// Failed reports whether the check counts as a failure.
func (c Check) Failed() bool { return c.Status == StatusFail }

// Report is the result of Run: every check, in the order they ran.
type Report struct {
	Socket string   `json:"socket"`
	Types  []string `json:"types"`
	Strict bool     `json:"strict,omitempty"`
	Checks []Check  `json:"checks"`
}

// Failed counts the checks whose status is FAIL (a skipped check and an
// advisory warning are not failures).
func (r *Report) Failed() int { return r.count(StatusFail) }

// Warned counts the advisory checks that failed without WithStrict.
func (r *Report) Warned() int { return r.count(StatusWarn) }

// Skipped counts the checks that did not run because a step they depend on
// failed.
func (r *Report) Skipped() int { return r.count(StatusSkip) }

func (r *Report) count(s Status) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

// Option configures Run.
type Option func(*options)

type options struct {
	rootfs     string
	timeout    time.Duration
	strict     bool
	driverOpts map[string]string
	subnet     string
	ip         string
}

// WithRootfs gives the host path of the root filesystem the plugin is
// running on (for a run on an overlay, its merged view, never the
// installed rootfs). The log driver probes need it: like dockerd
// (daemon/logger/plugin.go makePluginCreator, p.ScopedPath), they create
// the log FIFO there, at /run/docker/logging/<id>. Without it those probes
// are skipped.
func WithRootfs(dir string) Option { return func(o *options) { o.rootfs = dir } }

// WithCallTimeout bounds each call (default 10 s).
func WithCallTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithStrict makes a failed advisory check a FAIL instead of a WARN.
func WithStrict(strict bool) Option { return func(o *options) { o.strict = strict } }

// WithDriverOptions passes opts as the driver options of the objects the
// probes create, where dockerd puts the user's: a volume's Opts (`docker
// volume create -o`), a network's com.docker.network.generic option
// (`docker network create -o`), an IPAM pool's Options (`--ipam-opt`).
func WithDriverOptions(opts map[string]string) Option {
	return func(o *options) { o.driverOpts = maps.Clone(opts) }
}

// WithIPAMSubnet requests this pool from an IPAM driver (and uses it for a
// network driver's IPv4Data), as `docker network create --subnet` does.
// Without it RequestPool asks for any pool (Pool ""), as dockerd does when
// no subnet is given.
func WithIPAMSubnet(cidr string) Option { return func(o *options) { o.subnet = cidr } }

// WithIPAMAddress requests this address for the container endpoint, as
// `docker run --ip` does. Without it RequestAddress asks for any address.
func WithIPAMAddress(ip string) Option { return func(o *options) { o.ip = ip } }

// prober runs the checks of one Run.
type prober struct {
	c    *Client
	o    options
	rep  *Report
	ctx  context.Context
	name string // random suffix for the objects the probes create

	iface    string // the interface being probed
	prefix   string // its method prefix, e.g. "VolumeDriver."
	errField string // the answer's error field dockerd reads: Err, or Error for IPAM
}

// Run probes the plugin on socket for each declared interface type: the
// activation handshake, then, per type, the requests dockerd sends in the
// order it sends them. Each check is Required or Advisory; a check whose
// prerequisite failed is skipped (StatusSkip) with the cause.
func Run(ctx context.Context, socket string, types []string, opts ...Option) *Report {
	o := options{timeout: 10 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	p := &prober{
		c:    NewClient(socket, WithHTTPTimeout(o.timeout)),
		o:    o,
		rep:  &Report{Socket: socket, Types: types, Strict: o.strict, Checks: []Check{}},
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
			p.rep.Checks = append(p.rep.Checks, Check{Interface: t, Name: "no probes for this interface type",
				Kind: Advisory, Status: StatusSkip, Reason: "dplug has no probes for " + t})
		}
	}
	return p.rep
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (p *prober) enter(iface, prefix, errField string) {
	p.iface, p.prefix, p.errField = iface, prefix, errField
}

// step is a check's outcome as later checks see it.
type step struct {
	name  string
	ok    bool   // the step succeeded (or failed only an advisory rule), dependents may run
	cause string // why not, for the dependents' SKIP reason
	resp  *Response
	// fields are the top-level keys of a JSON object answer; errMsg is the
	// error field dockerd reads.
	fields map[string]json.RawMessage
	errMsg string
}

// expect says how a call must turn out.
type expect int

const (
	wantOK      expect = iota // HTTP 200, a JSON object, empty error field (what dockerd's proxies decode)
	wantStatus                // HTTP 200, body ignored (dockerd calls with a nil answer)
	wantRefused               // non-200 or a non-empty error field: for malformed requests
	wantAnswer                // any HTTP answer; check judges it
	optional                  // like wantOK, but HTTP 404 means "not implemented" and passes
)

// probeCall is one check that calls the plugin.
type probeCall struct {
	name   string
	method string // without the interface prefix
	kind   Kind
	req    any // []byte is sent as it is
	expect expect
	out    any               // decoded from a 200 answer before check
	check  func(*step) error // judges the answer
	needs  []*step           // prerequisites: if one did not succeed, the check is skipped
}

// skipCause returns why a check depending on needs cannot run ("" if it can).
func skipCause(needs []*step) string {
	for _, n := range needs {
		if n == nil {
			return "skipped: a prerequisite did not run"
		}
		if !n.ok {
			return n.cause
		}
	}
	return ""
}

// record appends a check with the verdict for a problem detail ("" = pass)
// and returns the step dependents see.
func (p *prober) record(c Check, kind Kind, detail, note string, begin time.Time) *step {
	c.Kind = kind
	st := &step{name: c.Name, ok: true}
	switch {
	case detail == "":
		c.Status, c.Reason = StatusPass, note
	case kind == Advisory && !p.o.strict:
		c.Status, c.Reason = StatusWarn, detail
	default:
		c.Status, c.Reason = StatusFail, detail
	}
	if detail != "" {
		st.cause = fmt.Sprintf("skipped: %q failed: %s", c.Name, detail)
		// An advisory rule broken does not stop what follows.
		st.ok = kind == Advisory
	}
	c.Duration = time.Since(begin)
	p.rep.Checks = append(p.rep.Checks, c)
	return st
}

// skip records a skipped check and returns a step that carries the cause on.
func (p *prober) skip(c Check, kind Kind, cause string) *step {
	c.Kind, c.Status, c.Reason = kind, StatusSkip, cause
	p.rep.Checks = append(p.rep.Checks, c)
	return &step{name: c.Name, cause: cause}
}

// call runs one check that calls the plugin.
func (p *prober) call(pc probeCall) *step {
	method := p.prefix + pc.method
	c := Check{Interface: p.iface, Name: pc.name, Method: method}
	if cause := skipCause(pc.needs); cause != "" {
		return p.skip(c, pc.kind, cause)
	}
	begin := time.Now()
	st, detail, note := p.do(method, pc)
	rst := p.record(c, pc.kind, detail, note, begin)
	if st != nil {
		st.name, st.ok, st.cause = rst.name, rst.ok, rst.cause
		return st
	}
	return rst
}

// judge records a check computed from earlier answers, without a call.
func (p *prober) judge(name, method string, kind Kind, needs []*step, fn func() error) *step {
	c := Check{Interface: p.iface, Name: name, Method: p.prefix + method}
	if cause := skipCause(needs); cause != "" {
		return p.skip(c, kind, cause)
	}
	detail := ""
	if err := fn(); err != nil {
		detail = err.Error()
	}
	return p.record(c, kind, detail, "", time.Now())
}

// do makes the call and judges it: detail is "" when it passed; note is a
// remark on a pass.
func (p *prober) do(method string, pc probeCall) (st *step, detail, note string) {
	st, field, err := p.send(method, pc.req)
	if err != nil {
		return nil, err.Error(), ""
	}
	detail, note = p.verdict(pc, st, field)
	return st, detail, note
}

// send makes the call and reads the error field dockerd reads, which it
// returns with the answer.
func (p *prober) send(method string, req any) (st *step, field string, err error) {
	var r *Response
	if raw, ok := req.([]byte); ok {
		r, err = p.c.CallRaw(p.ctx, method, raw)
	} else {
		r, err = p.c.Call(p.ctx, method, req)
	}
	if err != nil {
		return nil, "", err
	}
	st = &step{resp: r}
	// On a non-200 status dockerd's plugin client reads the error from
	// "Err" whatever the interface (pkg/plugins/client.go callWithRetry);
	// on 200 the interface's own field counts.
	field = p.errField
	if r.Status != http.StatusOK {
		field = "Err"
	}
	if json.Unmarshal(r.Body, &st.fields) == nil {
		if v, ok := st.fields[field]; ok {
			_ = json.Unmarshal(v, &st.errMsg)
		}
	}
	return st, field, nil
}

// verdict judges an answer as pc expects it.
func (p *prober) verdict(pc probeCall, st *step, field string) (detail, note string) {
	r := st.resp
	switch pc.expect {
	case optional:
		if r.Status == http.StatusNotFound {
			return "", "not implemented (optional)"
		}
	case wantAnswer:
		return pc.judge(st), ""
	case wantStatus:
		if r.Status != http.StatusOK {
			return fmt.Sprintf("HTTP %d: %s", r.Status, snippet(r.Body)), ""
		}
		return pc.judge(st), ""
	case wantRefused:
		if r.Status == http.StatusOK && st.errMsg == "" {
			return fmt.Sprintf("accepted: HTTP 200 with no %s: %s", p.errField, snippet(r.Body)), ""
		}
		return "", ""
	}
	// Any non-200 status is an error to dockerd's plugin client
	// (pkg/plugins/client.go callWithRetry), and its proxies decode a 200
	// answer as a JSON object and fail on a non-empty error field.
	if r.Status != http.StatusOK {
		if st.errMsg != "" {
			return fmt.Sprintf("HTTP %d, Err: %s", r.Status, st.errMsg), ""
		}
		return fmt.Sprintf("HTTP %d: %s", r.Status, snippet(r.Body)), ""
	}
	if st.fields == nil {
		return fmt.Sprintf("HTTP %d, answer is not a JSON object: %s", r.Status, snippet(r.Body)), ""
	}
	if st.errMsg != "" {
		return fmt.Sprintf("%s: %s", field, st.errMsg), ""
	}
	if pc.out != nil {
		if err := json.Unmarshal(r.Body, pc.out); err != nil {
			return fmt.Sprintf("answer does not decode: %v: %s", err, snippet(r.Body)), ""
		}
	}
	return pc.judge(st), ""
}

// judge runs the call's own check on its answer ("" = pass).
func (pc *probeCall) judge(st *step) string {
	if pc.check != nil {
		if err := pc.check(st); err != nil {
			return err.Error()
		}
	}
	return ""
}

// malformed is the advisory check every interface gets: dockerd never sends
// a body that is not JSON, but refusing one is what a careful server does.
func (p *prober) malformed(method string) {
	p.call(probeCall{name: "a malformed request is refused", method: method, kind: Advisory,
		req: []byte("{not json\n"), expect: wantRefused})
}

// malformedAuthz is malformed for an authorization plugin, for which a
// deny ("Allow": false) is a refusal too.
func (p *prober) malformedAuthz(method string) {
	p.call(probeCall{name: "a malformed request is refused", method: method, kind: Advisory,
		req: []byte("{not json\n"), expect: wantAnswer, check: func(st *step) error {
			var a struct{ Allow bool }
			if st.resp.Status == http.StatusOK && st.errMsg == "" && json.Unmarshal(st.resp.Body, &a) == nil && a.Allow {
				return fmt.Errorf("allowed: HTTP 200 %s", snippet(st.resp.Body))
			}
			return nil
		}})
}

func (p *prober) activate(types []string) {
	// Advisory: dockerd never calls /Plugin.Activate for managed (v2)
	// plugins (daemon/pkg/plugin/manager_linux.go pluginPostStart only
	// dials the socket), so a wrong answer is only noted.
	c := Check{Interface: "Plugin", Name: "activation handshake lists the declared interfaces", Method: "Plugin.Activate"}
	begin := time.Now()
	impl, err := Activate(p.ctx, p.c.socket)
	detail, note := "", ""
	switch {
	case err != nil:
		note = "not answered (fine: dockerd does not call it for v2 plugins)"
	default:
		if m := MissingImplements(types, impl); len(m) > 0 {
			detail = fmt.Sprintf("Implements %v lacks %v", impl, m)
		}
	}
	p.record(c, Advisory, detail, note, begin)
}
