#!/usr/bin/env bash
# The dplug demo: takes the example volume plugin (examples/volume) from
# source to a pushed plugin with no Docker daemon —
#   validate → build (BuildKit) → install → test (under libcontainer) →
#   push to a loopback registry → pull it back → install the pulled copy and test it.
# Run as root after `make setup` (`make demo` does both). Everything it starts
# (registry, plugin, buildkitd) is stopped on exit; its files live in a temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo: run as root (dplug run needs it): sudo make demo" >&2; exit 2; }

dplug="$PWD/bin/dplug"
work=$(mktemp -d /tmp/dplug-demo.XXXXXX)
export DPLUG_ROOT="$work/root"
. scripts/lib.sh
t0=$(date +%s%N)

# docker is Debian's docker 20.10 client on the demo's private dockerd.
docker() { docker_ "$@"; }

cleanup() {
  status=$?
  set +e
  "$dplug" stop demo/volume:1.0 >/dev/null 2>&1
  "$dplug" buildkitd stop >/dev/null 2>&1
  lib_teardown
  if [ $status = 0 ]; then
    printf '\n\033[1mdemo: done in %s ms\033[0m\n' "$(( ($(date +%s%N) - t0) / 1000000 ))"
  else
    echo "demo: FAILED (exit $status)" >&2
  fi
}
trap cleanup EXIT

# step TITLE CMD...: run one step, show the command and how long it took.
step() {
  local title=$1; shift
  printf '\n\033[1m== %s\033[0m\n$ %s\n' "$title" "$*"
  local s; s=$(date +%s%N)
  "$@"
  printf '\033[2m(%s ms)\033[0m\n' "$(( ($(date +%s%N) - s) / 1000000 ))"
}

lib_start_registry
ref="$registry/demo/volume:1.0"
echo "demo: loopback registry on $registry, store at $DPLUG_ROOT"

step "validate the config (what dockerd would only reject at enable)" \
  "$dplug" validate --strict examples/volume/config.json
echo "valid"

# No Docker Hub here: the Dockerfile's Go build stage (golang:1.26) comes
# from this machine's Go toolchain, handed to BuildKit as a named context.
goctx=$(go run ./internal/testenv/cmd/goimage)

step "build the rootfs with BuildKit into the local store" \
  "$dplug" build examples/volume -t demo/volume:1.0 --build-context "$goctx" --progress plain

step "list the store" "$dplug" ls
step "enable it" "$dplug" enable demo/volume:1.0

step "run it under libcontainer and probe its VolumeDriver interface" \
  "$dplug" test demo/volume:1.0

step "push it to the loopback registry" "$dplug" push demo/volume:1.0 "$ref"

step "pull it back into a plugin dir" "$dplug" pull "$ref" "$work/pulled"
ls -l "$work/pulled" "$work/pulled/rootfs"

step "install the pushed plugin from the registry under another name" \
  "$dplug" install "$ref" --alias demo/volume-copy:1.0 --grant-all-permissions

step "probe the copy too" "$dplug" test demo/volume-copy:1.0

# The compatibility oracle: a real dockerd installs and enables what dplug
# pushed, and serves a volume from it.
if [ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ]; then
  lib_start_dockerd
  step "a real dockerd ($(docker version --format '{{.Server.Version}}')) installs and enables the pushed plugin" \
    docker plugin install --grant-all-permissions --alias demo-volume "$ref"
  step "and creates a volume with it" docker volume create -d demo-volume demo-vol
  docker volume ls
  docker volume rm demo-vol >/dev/null
else
  echo "demo: dockerd not installed (apt-get install docker.io): skipping the dockerd check"
fi
