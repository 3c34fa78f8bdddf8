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
dockerd_pid=""
dd="$work/dd"
t0=$(date +%s%N)

# docker runs Debian's docker 20.10 client against the demo's private dockerd.
docker() { /usr/bin/docker -H "unix://$dd/docker.sock" "$@"; }

stop_dockerd() {
  [ -n "$dockerd_pid" ] || return 0
  for id in $(docker plugin ls -q --no-trunc 2>/dev/null); do
    docker plugin disable -f "$id" >/dev/null 2>&1 || true
    docker plugin rm -f "$id" >/dev/null 2>&1 || true
    # dockerd keeps plugin sockets in /run/docker/plugins/<id> whatever its exec-root.
    grep -o " /run/docker/plugins/$id[^ ]*" /proc/self/mountinfo 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "/run/docker/plugins/$id"
  done
  kill "$dockerd_pid" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$dockerd_pid" 2>/dev/null || true
  grep -o " $dd/[^ ]*" /proc/self/mountinfo 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  dockerd_pid=""
}

cleanup() {
  status=$?
  stop_dockerd
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

# The compatibility oracle: a real dockerd installs and enables what dplug
# pushed, and serves a volume from it.
if [ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ]; then
  mkdir -p "$dd"
  echo '{}' > "$dd/daemon.json"
  PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$dd" /usr/sbin/dockerd \
    --iptables=false --ip6tables=false --bridge=none --ip-forward=false --ip-masq=false \
    --storage-driver=vfs --data-root "$dd/data" --exec-root "$dd/exec" --pidfile "$dd/docker.pid" \
    --config-file "$dd/daemon.json" -H "unix://$dd/docker.sock" >"$dd/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 600); do docker version >/dev/null 2>&1 && break; sleep 0.1; done
  export DOCKER_CONFIG="$dd/client"
  step "a real dockerd ($(docker version --format '{{.Server.Version}}')) installs and enables the pushed plugin" \
    docker plugin install --grant-all-permissions --alias demo-volume "$ref"
  step "and creates a volume with it" docker volume create -d demo-volume demo-vol
  docker volume ls
  docker volume rm demo-vol >/dev/null
else
  echo "demo: dockerd not installed (apt-get install docker.io): skipping the dockerd check"
fi
