// Command example-authz is a Docker authorization plugin. Its policy comes from
// the plugin's settings, so an operator changes it without a rebuild:
//
//	docker plugin set example-authz DENY_METHODS='^(POST|DELETE)$' DENY_PATHS='/containers/[^/]+/exec$'
//
// A request is denied when its method matches DENY_METHODS and its path
// matches DENY_PATHS; an empty expression matches everything, and when both
// are empty every request is allowed.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"regexp"
	"strings"

	"github.com/docker/go-plugins-helpers/authorization"
)

func main() {
	socket := flag.String("socket", "/run/docker/plugins/example-authz.sock", "unix socket to serve the plugin API on")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("example-authz: ")

	p, err := newPolicy(os.Getenv("DENY_METHODS"), os.Getenv("DENY_PATHS"))
	if err != nil {
		// Exiting makes 'docker plugin enable' fail and the reason appear in
		// the daemon's log (and in 'dplug run').
		log.Fatal(err)
	}
	log.Printf("policy: %s", p)
	if err := serve(authorization.NewHandler(p), *socket); err != nil {
		log.Fatal(err)
	}
}

// policy implements authorization.Plugin with two regular expressions.
type policy struct {
	methods, paths *regexp.Regexp // nil: not set
}

func newPolicy(methods, paths string) (*policy, error) {
	p := &policy{}
	var err error
	if p.methods, err = compile("DENY_METHODS", methods); err != nil {
		return nil, err
	}
	if p.paths, err = compile("DENY_PATHS", paths); err != nil {
		return nil, err
	}
	return p, nil
}

func compile(name, expr string) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("setting %s=%q is not a valid regular expression: %w", name, expr, err)
	}
	return re, nil
}

func (p *policy) String() string {
	if p.methods == nil && p.paths == nil {
		return "allow everything (DENY_METHODS and DENY_PATHS are empty)"
	}
	return fmt.Sprintf("deny when method =~ %s and path =~ %s", show(p.methods), show(p.paths))
}

func show(re *regexp.Regexp) string {
	if re == nil {
		return "(any)"
	}
	return re.String()
}

// AuthZReq decides before dockerd acts on a request.
func (p *policy) AuthZReq(req authorization.Request) authorization.Response {
	if p.methods == nil && p.paths == nil {
		return authorization.Response{Allow: true}
	}
	// RequestUri is the raw URI, e.g. /v1.41/containers/json?all=1.
	path, _, _ := strings.Cut(req.RequestURI, "?")
	if (p.methods == nil || p.methods.MatchString(req.RequestMethod)) &&
		(p.paths == nil || p.paths.MatchString(path)) {
		who := req.User
		if who == "" {
			who = "anonymous"
		}
		log.Printf("denied %s %s for %s", req.RequestMethod, path, who)
		return authorization.Response{
			Allow: false,
			Msg:   fmt.Sprintf("example-authz: %s %s is denied by policy (%s)", req.RequestMethod, path, p),
		}
	}
	return authorization.Response{Allow: true}
}

// AuthZRes sees every response; this policy only looks at requests.
func (p *policy) AuthZRes(authorization.Request) authorization.Response {
	return authorization.Response{Allow: true}
}
