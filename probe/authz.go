package probe

import (
	"encoding/json"
	"fmt"
)

// authzRequest is a Docker API request as dockerd's authorization
// middleware describes it to the plugin (pkg/authorization/authz.go
// AuthZRequest): the body goes along only for JSON requests.
type authzRequest struct {
	label    string // for the check names
	method   string
	uri      string
	headers  map[string]string
	body     []byte
	status   int // the daemon's answer, for AuthZRes
	rheaders map[string]string
	rbody    []byte
}

// authzAnswer is pkg/authorization/api.go Response.
type authzAnswer struct {
	Allow bool
	Msg   string
	Err   string
}

// authz sends real requests through the plugin as dockerd's authorization
// middleware does for each API call: AuthZReq before the daemon handles it
// and, when allowed, AuthZRes with the daemon's answer. An allow and a deny
// are both results; only an answer dockerd cannot read fails. The requests
// come from a local client on the unix socket, so there is no user (the
// User fields are set only for TLS clients).
func (p *prober) authz() {
	p.enter("authz", "AuthZPlugin.", "Err")
	name := p.name
	reqs := []authzRequest{
		{
			label: "GET /_ping", method: "GET", uri: "/v1.41/_ping",
			headers: map[string]string{"User-Agent": "Docker-Client/20.10.24 (linux)"},
			status:  200, rheaders: map[string]string{"Content-Type": "text/plain; charset=utf-8", "Api-Version": "1.41"},
		},
		{
			label: "POST /containers/create", method: "POST", uri: "/v1.41/containers/create?name=" + name,
			headers: map[string]string{"User-Agent": "Docker-Client/20.10.24 (linux)", "Content-Type": "application/json"},
			body: mustJSON(map[string]any{
				"Image": "busybox", "Cmd": []string{"true"}, "Env": []string{}, "Labels": map[string]string{},
				"HostConfig": map[string]any{"Binds": []string{"/etc:/host-etc:ro"}, "Privileged": false, "NetworkMode": "default"},
			}),
			status: 201, rheaders: map[string]string{"Content-Type": "application/json", "Api-Version": "1.41"},
			rbody: mustJSON(map[string]any{"Id": randHex(32), "Warnings": []string{}}),
		},
	}
	for _, r := range reqs {
		p.authzOne(r)
	}
	p.malformedAuthz("AuthZReq")
}

func (p *prober) authzOne(r authzRequest) {
	req := map[string]any{
		"RequestMethod": r.method, "RequestUri": r.uri, "RequestHeaders": r.headers,
	}
	if r.body != nil {
		req["RequestBody"] = r.body // []byte: base64, as dockerd's encoder sends it
	}
	var a authzAnswer
	// Required: dockerd fails the API call with "plugin ... failed with
	// error" on a non-200 answer or one that does not decode
	// (pkg/authorization/authz.go AuthZRequest, plugin.go); a 200 answer
	// is an allow only with "Allow": true, otherwise a deny with Msg.
	st := p.call(probeCall{name: "AuthZReq answers " + r.label, method: "AuthZReq", kind: Required,
		req: req, expect: wantAnswer, check: func(st *step) error { return decodeAuthz(st, &a) }})
	p.decide(a)
	if st.ok && !a.Allow {
		p.skip(Check{Interface: p.iface, Name: "AuthZRes answers " + r.label, Method: p.prefix + "AuthZRes"}, Required,
			"skipped: the plugin denied the request, so dockerd sends no AuthZRes")
		return
	}
	res := map[string]any{}
	for k, v := range req {
		res[k] = v
	}
	res["ResponseStatusCode"] = r.status
	res["ResponseHeaders"] = r.rheaders
	if r.rbody != nil {
		res["ResponseBody"] = r.rbody
	}
	var b authzAnswer
	// Required: the same for the answer (pkg/authorization/authz.go
	// AuthZResponse): a deny replaces the daemon's answer with an error.
	p.call(probeCall{name: "AuthZRes answers " + r.label, method: "AuthZRes", kind: Required,
		req: res, expect: wantAnswer, needs: []*step{st}, check: func(st *step) error { return decodeAuthz(st, &b) }})
	p.decide(b)
}

// decodeAuthz judges an authz answer the way dockerd reads it.
func decodeAuthz(st *step, a *authzAnswer) error {
	if st.resp.Status != 200 {
		msg := st.errMsg
		if msg == "" {
			msg = snippet(st.resp.Body)
		}
		return fmt.Errorf("HTTP %d: %s (dockerd fails the API call with this error)", st.resp.Status, msg)
	}
	if err := json.Unmarshal(st.resp.Body, a); err != nil {
		return fmt.Errorf("answer does not decode: %v: %s", err, snippet(st.resp.Body))
	}
	return nil
}

// decide notes the plugin's decision on the check just recorded.
func (p *prober) decide(a authzAnswer) {
	c := &p.rep.Checks[len(p.rep.Checks)-1]
	if c.Status != StatusPass {
		return
	}
	if a.Allow {
		c.Decision, c.Reason = "allow", "allowed"
		return
	}
	c.Decision = "deny"
	switch {
	case a.Msg != "":
		c.Reason = "denied: " + a.Msg
	case a.Err != "":
		c.Reason = "denied: " + a.Err
	default:
		c.Reason = "denied (no Msg)"
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
