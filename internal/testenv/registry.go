package testenv

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/dplug/dplug/internal/pinned"
	"golang.org/x/crypto/bcrypt"
)

// InstallRegistry is how CI and developers get docker-registry.
const InstallRegistry = "apt-get install docker-registry"

// Registry is a private docker-registry (the distribution registry 2.x, the
// same code as registry:2) listening on 127.0.0.1.
type Registry struct {
	Host    string // 127.0.0.1:PORT, for references: Host + "/name:tag"
	Storage string // its filesystem storage root
	LogFile string // its log (access log included)

	cmd *exec.Cmd
}

// RegistryOption configures StartRegistry.
type RegistryOption func(*registryOptions)

type registryOptions struct{ user, password string }

// RegistryAuth makes the registry require HTTP basic auth (htpasswd, bcrypt)
// for user and password.
func RegistryAuth(user, password string) RegistryOption {
	return func(o *registryOptions) { o.user, o.password = user, password }
}

// StartRegistry starts docker-registry on a free loopback port with a temp
// storage dir and a generated config.yml, waits until /v2/ answers, and
// stops it (removing its storage) in t.Cleanup.
func StartRegistry(t testing.TB, opts ...RegistryOption) *Registry {
	t.Helper()
	var ro registryOptions
	for _, o := range opts {
		o(&ro)
	}
	bin := "/usr/bin/docker-registry"
	if _, err := os.Stat(bin); err != nil {
		bin = RequireBinary(t, "docker-registry", InstallRegistry)
	}
	dir := t.TempDir()
	r := &Registry{Storage: filepath.Join(dir, "storage"), LogFile: filepath.Join(dir, "registry.log")}
	auth := ""
	if ro.user != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(ro.password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(ro.user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: dplug-test\n    path: %s\n", htpasswd)
	}
	var lastErr error
	// The port is free when picked but could be taken before the registry
	// binds it: retry with another.
	for attempt := 0; attempt < 3; attempt++ {
		port := FreePort(t)
		r.Host = "127.0.0.1:" + strconv.Itoa(port)
		cfg := filepath.Join(dir, "config.yml")
		conf := fmt.Sprintf(`version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  secret: dplug-test-secret
%s`, r.Storage, r.Host, auth)
		if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		logf, err := os.OpenFile(r.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "serve", cfg)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := pinned.Start(cmd); err != nil {
			logf.Close()
			t.Fatalf("starting docker-registry: %v", err)
		}
		logf.Close()
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		if lastErr = waitHTTP("http://"+r.Host+"/v2/", exited, 15*time.Second); lastErr == nil {
			r.cmd = cmd
			t.Cleanup(func() {
				_ = cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(5 * time.Second):
					_ = cmd.Process.Kill()
					<-exited
				}
			})
			return r
		}
		_ = cmd.Process.Kill()
		<-exited
	}
	log, _ := os.ReadFile(r.LogFile)
	t.Fatalf("docker-registry did not come up: %v\n%s", lastErr, log)
	return nil
}

// Log returns the registry's log so far.
func (r *Registry) Log() string {
	b, _ := os.ReadFile(r.LogFile)
	return string(b)
}

// waitHTTP polls url until it answers 200 or 401, the process exits, or
// the timeout passes.
func waitHTTP(url string, exited <-chan struct{}, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("exited early")
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no answer from %s within %s", url, timeout)
}
