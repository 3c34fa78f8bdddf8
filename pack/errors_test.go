package pack

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestParseReferenceMessages(t *testing.T) {
	tests := []struct {
		ref  string
		want string // "" means valid
	}{
		{"me/plug:1.0", ""},
		{"127.0.0.1:5000/me/plug:V1", ""},
		{"UPPER/case", "repository names must be lowercase"},
		{"Registry.Example.com/me/Plug", "repository names must be lowercase"},
		{"a:b:c", "more than one ':'"},
		{"me/plug@md5:abc", "a digest looks like @sha256:"},
		{"me/plug@sha256:0000", "a digest looks like @sha256:"},
		{"", "it is empty"},
	}
	for _, tt := range tests {
		err := ParseReference(tt.ref)
		if tt.want == "" {
			if err != nil {
				t.Errorf("ParseReference(%q) = %v; want nil", tt.ref, err)
			}
			continue
		}
		if !errors.Is(err, ErrBadReference) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseReference(%q) = %v; want ErrBadReference saying %q", tt.ref, err, tt.want)
			continue
		}
		// go-containerregistry's "could not parse reference" only repeats
		// the input, which callers already name.
		if strings.Contains(err.Error(), "could not parse") || tt.ref != "" && strings.Contains(err.Error(), tt.ref) {
			t.Errorf("ParseReference(%q) = %q; want the reason without the reference or library noise", tt.ref, err)
		}
	}
}

// TestFetchErrorMessages: registry failures read as one line naming the
// registry or reference and the cause, without request URLs or Go maps.
func TestFetchErrorMessages(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t, nil)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedHost := strings.TrimPrefix(closed.URL, "http://")
	closed.Close()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	imgRef, err := name.ParseReference(host + "/an/image:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(imgRef, img); err != nil {
		t.Fatal(err)
	}
	refusing := newRegistry(t, func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v2/" {
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"errors":[{"code":"UNSUPPORTED","message":"the operation is unsupported"}]}`))
		})
	})
	tests := []struct {
		name, ref string
		want      []string
	}{
		{"other registry error", refusing + "/p:1", []string{"pulling " + refusing + "/p:1: the registry answered UNSUPPORTED: the operation is unsupported"}},
		{"container image", host + "/an/image:1", []string{"pulling " + host + "/an/image:1: not a Docker plugin: it is a container image", "push a plugin there"}},
		{"closed port", closedHost + "/p:1", []string{"cannot connect to " + closedHost, "connection refused", "registry is running"}},
		{"unknown host", "nosuchhost.invalid/p:1", []string{"cannot resolve the registry host nosuchhost.invalid"}},
		{"missing tag", host + "/nothing:here", []string{"pulling " + host + "/nothing:here: not found in the registry (", "_UNKNOWN: ", "check the repository name and tag"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Fetch(ctx, tt.ref, anon)
			if err == nil {
				t.Fatal("Fetch succeeded")
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			if strings.Count(msg, tt.ref) > 1 {
				t.Errorf("error %q names %s more than once", msg, tt.ref)
			}
			for _, noise := range []string{"map[", `Get "`, "GET http", "\n", "%!"} {
				if strings.Contains(msg, noise) {
					t.Errorf("error %q contains %q", msg, noise)
				}
			}
		})
	}
}
