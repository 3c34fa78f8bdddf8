package main

import (
	"strings"
	"testing"

	"github.com/docker/go-plugins-helpers/authorization"
)

func TestPolicy(t *testing.T) {
	const exec = `^(/v[0-9.]+)?/containers/[^/]+/exec$`
	tests := []struct {
		name           string
		methods, paths string
		method, uri    string
		allow          bool
	}{
		{"empty policy allows", "", "", "POST", "/v1.41/containers/x/exec", true},
		{"exec denied", "^POST$", exec, "POST", "/v1.41/containers/x/exec", false},
		{"unversioned exec denied", "^POST$", exec, "POST", "/containers/x/exec", false},
		{"query string ignored", "^POST$", exec, "POST", "/v1.41/containers/x/exec?a=b", false},
		{"other path allowed", "^POST$", exec, "POST", "/v1.41/containers/create", true},
		{"other method allowed", "^POST$", exec, "GET", "/v1.41/containers/x/exec", true},
		{"methods only", "^DELETE$", "", "DELETE", "/v1.41/volumes/v", false},
		{"paths only", "", "^/v[0-9.]+/volumes", "GET", "/v1.41/volumes", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newPolicy(tt.methods, tt.paths)
			if err != nil {
				t.Fatal(err)
			}
			res := p.AuthZReq(authorization.Request{RequestMethod: tt.method, RequestURI: tt.uri})
			if res.Allow != tt.allow {
				t.Fatalf("Allow = %v, want %v (%s)", res.Allow, tt.allow, res.Msg)
			}
			if !res.Allow && !strings.Contains(res.Msg, "denied by policy") {
				t.Errorf("deny message %q does not say why", res.Msg)
			}
			if !p.AuthZRes(authorization.Request{}).Allow {
				t.Errorf("AuthZRes denied")
			}
		})
	}
}

func TestPolicyInvalid(t *testing.T) {
	if _, err := newPolicy("(", ""); err == nil || !strings.Contains(err.Error(), "DENY_METHODS") {
		t.Errorf("newPolicy(\"(\") = %v, want an error naming DENY_METHODS", err)
	}
	if _, err := newPolicy("", "[a-"); err == nil || !strings.Contains(err.Error(), "DENY_PATHS") {
		t.Errorf("newPolicy(, \"[a-\") = %v, want an error naming DENY_PATHS", err)
	}
}
