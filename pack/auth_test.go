//go:build linux

package pack

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/dplug/dplug/internal/testenv"
)

// TestInteropRegistryAuth runs against a real docker-registry with htpasswd
// auth: no credentials is a clear 401 error; credentials from a docker
// config.json (authn.DefaultKeychain, the default) work; the password never
// appears in errors or debug logs.
func TestInteropRegistryAuth(t *testing.T) {
	const user, pass = "dplug", "s3cr3t-Pa55word"
	ctx := context.Background()
	reg := testenv.StartRegistry(t, testenv.RegistryAuth(user, pass))
	dir := testDir(t)
	ref := reg.Host + "/private/plug:1"
	var logs bytes.Buffer
	logger := WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))

	_, err := Push(ctx, mustImage(t, dir), ref, anon, logger)
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Push without credentials = %v; want ErrUnauthorized", err)
	}
	t.Log(err)
	if !strings.Contains(err.Error(), "docker login "+reg.Host) {
		t.Errorf("error %q does not say to log in to %s", err, reg.Host)
	}

	// The default keychain reads $DOCKER_CONFIG/config.json.
	cfgDir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	if err := os.WriteFile(filepath.Join(cfgDir, "config.json"),
		[]byte(`{"auths":{"`+reg.Host+`":{"auth":"`+auth+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", cfgDir)
	dg, err := Push(ctx, mustImage(t, dir), ref, logger, WithKeychain(authn.DefaultKeychain))
	if err != nil {
		t.Fatalf("Push with credentials: %v", err)
	}
	out := filepath.Join(t.TempDir(), "out")
	if err := Pull(ctx, ref, out, logger); err != nil { // default keychain
		t.Fatalf("Pull with credentials: %v", err)
	}
	p, err := Fetch(ctx, ref, logger)
	if err != nil || p.Digest() != dg {
		t.Fatalf("Fetch = %v, %v; want %s", p, err, dg)
	}
	// A wrong password is a 401 too, and is not echoed.
	if err := os.WriteFile(filepath.Join(cfgDir, "config.json"),
		[]byte(`{"auths":{"`+reg.Host+`":{"auth":"`+base64.StdEncoding.EncodeToString([]byte(user+":wrong-"+pass))+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Fetch(ctx, ref, logger)
	if !errors.Is(err, ErrUnauthorized) {
		t.Errorf("Fetch with a wrong password = %v; want ErrUnauthorized", err)
	}
	for _, secret := range []string{pass, auth} {
		if strings.Contains(logs.String(), secret) || (err != nil && strings.Contains(err.Error(), secret)) {
			t.Errorf("a credential leaked into logs or errors")
		}
	}
}
