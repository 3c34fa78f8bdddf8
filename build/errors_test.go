package build

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/moby/buildkit/util/grpcerrors"
	"google.golang.org/grpc/codes"

	"github.com/dplug/dplug/internal/exitcode"
)

func TestUnreachable(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		cause string
		ok    bool
	}{
		{"dead unix socket", grpcerrors.WrapCode(errors.New(`failed to dial gRPC: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix /x.sock: connect: no such file or directory"`), codes.Unavailable),
			"no such file or directory", true},
		{"closed port", grpcerrors.WrapCode(errors.New(`rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused"`), codes.Unavailable),
			"connection refused", true},
		{"other failure", fmt.Errorf("failed to solve: something"), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cause, ok := unreachable(tt.err)
			if cause != tt.cause || ok != tt.ok {
				t.Errorf("unreachable = %q, %v; want %q, %v", cause, ok, tt.cause, tt.ok)
			}
		})
	}
}

func TestMessageCleanup(t *testing.T) {
	tests := []struct {
		name     string
		re       func(string) string
		in, want string
	}{
		{"spelling suggestion", func(s string) string { return reSuggest.ReplaceAllString(s, "") },
			"dial tcp: lookup registry-1.docker.io: no such host (did you mean docker.io/libraryalpine?)",
			"dial tcp: lookup registry-1.docker.io: no such host"},
		{"process prefix", func(s string) string { return reProcess.ReplaceAllString(s, "") },
			`process "/bin/sh -c echo a && false" did not complete successfully: exit code: 1`, "exit code: 1"},
	}
	for _, tt := range tests {
		if got := tt.re(tt.in); got != tt.want {
			t.Errorf("%s: %q; want %q", tt.name, got, tt.want)
		}
	}
}

func TestCheckAddr(t *testing.T) {
	for _, tc := range []struct {
		addr    string
		wantErr string
	}{
		{"", ""},
		{"unix:///run/buildkit/buildkitd.sock", ""},
		{"tcp://127.0.0.1:1234", ""},
		{"docker-container://buildkitd", ""},
		{"kube-pod://buildkitd-0?namespace=ci", ""},
		{"bogus://x", `unknown scheme "bogus"`},
		{"/run/buildkit/buildkitd.sock", `unknown scheme ""`},
	} {
		err := checkAddr(tc.addr)
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("checkAddr(%q) = %v, want nil", tc.addr, err)
			}
			continue
		}
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("checkAddr(%q) = %v, want an InputError with %q", tc.addr, err, tc.wantErr)
		}
		if code, _ := exitcode.Of(err); code != exitcode.Usage {
			t.Errorf("exit code of checkAddr(%q)'s error = %d, want %d (usage)", tc.addr, code, exitcode.Usage)
		}
	}
}

func TestExplainNetworkHostRefused(t *testing.T) {
	err := explain(context.Background(), errors.New("failed to solve: granting entitlement network.host is not allowed by build daemon configuration"), newTracker(), "Dockerfile")
	for _, want := range []string{"--network host", "--allow-insecure-entitlement network.host", "dplug buildkitd stop"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}
