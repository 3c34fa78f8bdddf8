package build

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Settings are a build's inputs as `dplug build` takes them (buildx's flag
// names), still as typed: Options checks them and returns the Options
// they stand for.
type Settings struct {
	File, Config, Target, Network string
	// BuildArgs are KEY=VALUE (KEY alone takes it from the environment);
	// Contexts are NAME=VALUE.
	BuildArgs, Contexts    []string
	Platforms              []string
	Secrets, SSH           []string
	CacheFrom, CacheTo     []string
	NoCache                bool
	ExportTimeout          time.Duration
	Addr, Builder          string
	TLSCA, TLSCert, TLSKey string
	// Progress is the display mode ("": BUILDKIT_PROGRESS, else auto),
	// shown on ProgressOut.
	Progress    string
	ProgressOut io.Writer
}

// Options returns the options s stands for; a bad setting is an
// *InputError.
func (s Settings) Options() ([]Option, error) {
	progress, err := progressMode(s.Progress)
	if err != nil {
		return nil, err
	}
	args, err := ParseKV("build-arg", s.BuildArgs, true)
	if err != nil {
		return nil, err
	}
	contexts, err := ParseKV("build-context", s.Contexts, false)
	if err != nil {
		return nil, err
	}
	opts := []Option{
		WithProgress(progress, s.ProgressOut),
		WithBuildArgs(args),
		WithBuildContexts(contexts),
		WithTarget(s.Target),
		WithSecrets(s.Secrets...),
		WithSSH(s.SSH...),
		WithCacheFrom(s.CacheFrom...),
		WithCacheTo(s.CacheTo...),
		WithNoCache(s.NoCache),
		WithNetwork(s.Network),
		WithExportTimeout(s.ExportTimeout),
		WithTLS(s.TLSCA, s.TLSCert, s.TLSKey),
	}
	if len(s.Platforms) > 0 {
		opts = append(opts, WithPlatforms(s.Platforms...))
	}
	if s.Addr != "" {
		opts = append(opts, WithAddr(s.Addr))
	}
	if s.Builder != BuilderAuto && s.Builder != "" {
		if s.Addr != "" {
			return nil, &InputError{errors.New("--addr and --builder both name a builder: give one")}
		}
		opts = append(opts, WithBuilder(s.Builder))
	}
	if s.File != "" {
		opts = append(opts, WithDockerfile(s.File))
	}
	if s.Config != "" {
		opts = append(opts, WithConfigFile(s.Config))
	}
	return opts, nil
}

// progressMode is the display mode asked for, BUILDKIT_PROGRESS's, or auto.
func progressMode(mode string) (string, error) {
	if mode == "" {
		mode = os.Getenv("BUILDKIT_PROGRESS")
	}
	if mode == "" {
		mode = "auto"
	}
	switch mode {
	case "auto", "plain", "tty", "quiet", "rawjson":
		return mode, nil
	}
	return "", &InputError{fmt.Errorf("invalid --progress %q: use auto, plain, tty, quiet or rawjson", mode)}
}

// ParseKV splits KEY=VALUE flags; with fromEnv, a bare KEY takes its value
// from the environment (like docker build --build-arg).
func ParseKV(flag string, vals []string, fromEnv bool) (map[string]string, error) {
	m := map[string]string{}
	for _, v := range vals {
		k, val, ok := strings.Cut(v, "=")
		if k == "" {
			return nil, &InputError{fmt.Errorf("invalid --%s %q: want KEY=VALUE", flag, v)}
		}
		if !ok {
			if !fromEnv {
				return nil, &InputError{fmt.Errorf("invalid --%s %q: want NAME=VALUE", flag, v)}
			}
			e, found := os.LookupEnv(k)
			if !found {
				continue
			}
			val = e
		}
		m[k] = val
	}
	return m, nil
}
