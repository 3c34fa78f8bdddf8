package cli

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/run"
)

// The flags several commands share, each defined here once: the registry
// group (--insecure, --timeout), --platform and --grace (fetchFlags, in
// source.go, adds --max-size to the registry group).

// addInsecure defines --insecure; what names the registry it applies to.
func addInsecure(f *pflag.FlagSet, insecure *bool, what string) {
	f.BoolVar(insecure, "insecure", false, "allow plain HTTP and unverified TLS for "+what)
}

// addPlatform defines --platform, the one platform a command handles
// (push, pull, install); usage says what it picks and its default.
func addPlatform(f *pflag.FlagSet, platform *string, usage string) {
	f.StringVar(platform, "platform", "", usage)
}

// addGrace defines --grace, the time between SIGTERM and SIGKILL (run,
// test, stop).
func addGrace(f *pflag.FlagSet, grace *time.Duration) {
	f.DurationVar(grace, "grace", run.DefaultGrace, "time between SIGTERM and SIGKILL when stopping the plugin")
}

// startOptions are the run timing flags `run` and `test` share.
type startOptions struct {
	timeout time.Duration
	grace   time.Duration
}

func (o *startOptions) bind(f *pflag.FlagSet) {
	f.DurationVar(&o.timeout, "timeout", run.DefaultTimeout, "how long to wait for the plugin's socket to accept a connection")
	addGrace(f, &o.grace)
}

// registryFlags are the network flags push, pull and install share.
type registryFlags struct {
	insecure bool
	timeout  time.Duration
	envErr   error // a bad DPLUG_TIMEOUT, reported when the command runs
}

func (r *registryFlags) add(f *pflag.FlagSet) {
	var def time.Duration
	def, r.envErr = pack.TimeoutFromEnv()
	addInsecure(f, &r.insecure, "the registry")
	f.DurationVar(&r.timeout, "timeout", def,
		"give up when the registry does not connect, answer or send a byte for `DURATION` (env "+pack.TimeoutEnv+")")
}

// options checks the flags and turns them into pack options.
func (r *registryFlags) options(f *pflag.FlagSet) ([]pack.Option, error) {
	if r.envErr != nil && !f.Changed("timeout") {
		return nil, usageError(r.envErr)
	}
	if r.timeout <= 0 {
		return nil, usageError(fmt.Errorf("--timeout %s: want a positive duration like 30s or 2m", r.timeout))
	}
	return []pack.Option{pack.WithInsecure(r.insecure), pack.WithTimeout(r.timeout)}, nil
}
