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
registry_pid=""
t0=$(date +%s%N)

cleanup() {
  status=$?
  "$dplug" stop demo/volume:1.0 >/dev/null 2>&1 || true
  "$dplug" buildkitd stop >/dev/null 2>&1 || true
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null || true
  rm -rf "$work"
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

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/registry"
cat > "$work/registry.yml" <<YML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $work/registry}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
YML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
ref="127.0.0.1:$port/demo/volume:1.0"
echo "demo: loopback registry on 127.0.0.1:$port, store at $DPLUG_ROOT"

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
