package testenv

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// SeedEnv names the environment variable that fixes the seed of the
// randomized tests: DPLUG_SEED=N go test -run TestX ./pkg/ replays a run.
const SeedEnv = "DPLUG_SEED"

// Seed returns the seed for a randomized test: $DPLUG_SEED when set, a new
// random one otherwise. It logs the seed at the start and again, with the
// command that replays the run, if t fails.
func Seed(t testing.TB) uint64 {
	t.Helper()
	return seed(t, rand.Uint64(), "random")
}

// SeedDefault is Seed with a fixed default: the test explores the same
// inputs on every run unless $DPLUG_SEED says otherwise (DPLUG_SEED=random
// picks a new seed).
func SeedDefault(t testing.TB, def uint64) uint64 {
	t.Helper()
	if os.Getenv(SeedEnv) == "random" {
		return seed(t, rand.Uint64(), "random")
	}
	return seed(t, def, "the default")
}

func seed(t testing.TB, seed uint64, from string) uint64 {
	t.Helper()
	if v := os.Getenv(SeedEnv); v != "" && v != "random" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: want an unsigned integer", SeedEnv, v)
		}
		seed, from = n, "from $"+SeedEnv
	}
	t.Logf("seed %d (%s; %s=%d replays this run)", seed, from, SeedEnv, seed)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("FAILED with seed %d: replay with %s=%d go test -run '^%s$'", seed, SeedEnv, seed, t.Name())
		}
	})
	return seed
}
