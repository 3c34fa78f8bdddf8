#!/usr/bin/env bash
# Benchmarks building and publishing a small plugin (a static Go volume
# plugin binary copied through a two-stage Dockerfile on a busybox-static
# base) to a loopback docker-registry:
#
#   dplug:   dplug build --push REF CONTEXT     (BuildKit, dplug's own buildkitd)
#   classic: docker build -> docker create -> docker export -> docker plugin
#            create -> docker plugin push       (a private dockerd 20.10)
#
# cold: empty build caches, empty registry; warm: the same again, nothing
# changed (SPEC §7: cold <= 0.5x classic, warm <= 0.3x classic's warm run).
# Base images come from Debian's busybox-static (bench/mkbase): an OCI layout
# for dplug (--build-context base=oci-layout://...), `docker load` for dockerd.
#
# Needs root, runc, buildkitd (bin/buildkitd or PATH), docker-registry,
# docker.io, busybox-static. Prints a Markdown table (also bench/out/build.md).
# RUNS=N repeats the warm runs (default 3, median reported).
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
runs=${RUNS:-3}
[ "$(id -u)" = 0 ] || { echo "bench: needs root (dockerd, buildkitd)" >&2; exit 2; }
for b in /usr/bin/docker-registry /usr/sbin/dockerd /usr/bin/docker /usr/bin/busybox; do
  [ -x "$b" ] || { echo "bench: $b missing: apt-get install -y docker-registry docker.io busybox-static" >&2; exit 2; }
done
export PATH=$PWD/bin:$PATH
command -v buildkitd >/dev/null || { echo "bench: buildkitd missing: go build -o bin/buildkitd github.com/moby/buildkit/cmd/buildkitd" >&2; exit 2; }

work=$(mktemp -d /tmp/dplug-bbench-XXXXXX)
go build -trimpath -o "$work/dplug" ./cmd/dplug
dplug() { DPLUG_BUILDKITD_IDLE=0 "$work/dplug" --root "$work/dplug-root" "$@"; }
reg_pid= dd_pid=
cleanup() {
  set +e
  dplug buildkitd stop >/dev/null 2>&1
  if [ -n "$dd_pid" ]; then
    for id in $(docker_ plugin ls -q --no-trunc 2>/dev/null); do docker_ plugin rm -f "$id" >/dev/null 2>&1; done
    kill "$dd_pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$dd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$dd_pid" 2>/dev/null
  fi
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null && wait "$reg_pid" 2>/dev/null
  grep " $work/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
docker_() { DOCKER_CONFIG=$work/client DOCKER_API_VERSION=1.41 /usr/bin/docker -H "unix://$work/docker.sock" "$@"; }

# The plugin project.
ctx=$work/ctx
mkdir -p "$ctx"
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$ctx/volplug" ./internal/testplugin/volplug
cat > "$ctx/Dockerfile" <<'EOF'
FROM base AS build
COPY volplug /src/volplug
RUN mkdir -p /out/data /out/run/docker/plugins && cp /src/volplug /out/volplug && chmod 0755 /out/volplug

FROM base
COPY --from=build /out/ /
EOF
cat > "$ctx/config.json" <<'EOF'
{"description": "bench volume plugin", "documentation": "https://example.invalid",
 "entrypoint": ["/volplug", "volplug"], "network": {"type": "host"}, "propagatedMount": "/data",
 "interface": {"types": ["docker.volumedriver/1.0"], "socket": "volplug.sock"},
 "linux": {"capabilities": ["CAP_SYS_ADMIN"]}}
EOF
base=$(go run ./bench/mkbase -layout "$work/base" -docker-archive "$work/base.tar" -tag base:latest)

# Registry and dockerd, private, on loopback.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/registry.yml" <<YML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $work/registry}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port, secret: bench}
YML
/usr/bin/docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 & reg_pid=$!
mkdir -p "$work/client"
echo '{}' > "$work/daemon.json"
/usr/sbin/dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
  --data-root "$work/data" --exec-root "$work/exec" --pidfile "$work/docker.pid" \
  --config-file "$work/daemon.json" -H "unix://$work/docker.sock" > "$work/dockerd.log" 2>&1 & dd_pid=$!
for _ in $(seq 1 200); do
  curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && docker_ version >/dev/null 2>&1 && break
  sleep 0.1
done
docker_ version >/dev/null
docker_ load -i "$work/base.tar" >/dev/null
reg=127.0.0.1:$port

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.2f}')" "$@"; }

dplug_build() { # $1: tag
  dplug build --progress quiet --build-context "base=$base" --push "$reg/bench/dplug:$1" "$ctx" > /dev/null
}
classic() { # $1: tag; build, create, export, plugin create, plugin push
  local d=$work/classic-$1
  docker_ build -q -t "bench-rootfs:$1" "$ctx" > /dev/null
  local id; id=$(docker_ create "bench-rootfs:$1" true)
  mkdir -p "$d/rootfs"
  docker_ export "$id" | tar -C "$d/rootfs" -xf -
  docker_ rm "$id" > /dev/null
  cp "$ctx/config.json" "$d/config.json"
  docker_ plugin create "$reg/bench/docker:$1" "$d" > /dev/null
  docker_ plugin push "$reg/bench/docker:$1" > /dev/null
  rm -rf "$d"
}

# buildkitd start-up, paid once per machine (dockerd is already up too).
t0=$(now); dplug buildkitd start > /dev/null 2>&1; t1=$(now)
start_s=$(secs "$t0" "$t1")

# Cold: empty caches and registry.
t0=$(now); dplug_build cold; t1=$(now); dplug_cold=$(secs "$t0" "$t1")
t0=$(now); classic cold; t1=$(now); classic_cold=$(secs "$t0" "$t1")

# Warm: nothing changed.
dw=() cw=()
for i in $(seq 1 "$runs"); do
  t0=$(now); dplug_build "warm$i"; t1=$(now); dw+=("$(secs "$t0" "$t1")")
  t0=$(now); classic "warm$i"; t1=$(now); cw+=("$(secs "$t0" "$t1")")
done
dplug_warm=$(median "${dw[@]}")
classic_warm=$(median "${cw[@]}")

python3 - "$dplug_cold" "$classic_cold" "$dplug_warm" "$classic_warm" "$start_s" "$runs" <<'PY' | tee "$out/build.md"
import sys
dc, cc, dw, cw, st = map(float, sys.argv[1:6])
runs = sys.argv[6]
print("Build + push of a small volume plugin (two-stage Dockerfile, busybox-static base) to a loopback docker-registry 2.8:\n")
print("| run | dplug `build --push` | classic (docker build/create/export, plugin create/push; dockerd 20.10, vfs) | dplug / classic | target |")
print("|---|---:|---:|---:|---:|")
print(f"| cold (empty caches) | {dc:.2f} s | {cc:.2f} s | {dc/cc:.2f}x | <= 0.5x |")
print(f"| warm, no change (median of {runs}) | {dw:.2f} s | {cw:.2f} s | {dw/cw:.2f}x | <= 0.3x, < 2 s |")
print()
print(f"dplug's own buildkitd start-up (once, then reused): {st:.2f} s.")
PY
