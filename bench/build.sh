#!/usr/bin/env bash
# Benchmarks building and publishing a small plugin (a static Go volume
# plugin binary copied through a two-stage Dockerfile on a busybox-static
# base) to a loopback docker-registry:
#
#   dplug:   dplug build --push REF CONTEXT     (BuildKit, dplug's own buildkitd)
#   classic: docker build -> docker create -> docker export -> docker plugin
#            create -> docker plugin push       (a private dockerd 20.10)
#
# cold: empty build caches, a repository the registry has no blob of (each
# cold run empties dplug's buildkitd state and layer cache, and docker's build
# cache); warm: the same again, nothing changed (SPEC §7: cold <= 0.5x classic,
# warm <= 0.3x classic's warm run). dplug and classic runs alternate; both
# rows are medians of RUNS.
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
go build -trimpath $(scripts/gotags) -o "$work/dplug" ./cmd/dplug
dplug() { DPLUG_BUILDKITD_IDLE=0 XDG_CACHE_HOME="$work/cache" "$work/dplug" --root "$work/dplug-root" "$@"; }
. scripts/lib.sh
cleanup() { set +e; dplug buildkitd stop >/dev/null 2>&1; lib_teardown; }
trap cleanup EXIT

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
lib_start_registry
lib_start_dockerd
docker_ load -i "$work/base.tar" >/dev/null
reg=$registry

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.2f}')" "$@"; }

dplug_build() { # $1: tag, $2: repository (default bench/dplug)
  dplug build --progress quiet --build-context "base=$base" --push "$reg/${2:-bench/dplug}:$1" "$ctx" > /dev/null
}
classic() { # $1: tag, $2: repository (default bench/docker); build, create, export, plugin create, plugin push
  local d=$work/classic-$1 repo=${2:-bench/docker}
  docker_ build -q -t "bench-rootfs:$1" "$ctx" > /dev/null
  local id; id=$(docker_ create "bench-rootfs:$1" true)
  mkdir -p "$d/rootfs"
  docker_ export "$id" | tar -C "$d/rootfs" -xf -
  docker_ rm "$id" > /dev/null
  cp "$ctx/config.json" "$d/config.json"
  docker_ plugin create "$reg/$repo:$1" "$d" > /dev/null
  docker_ plugin push "$reg/$repo:$1" > /dev/null
  rm -rf "$d"
}

# Cold: empty caches, a new repository. dplug's buildkitd is started (untimed:
# paid once per machine, like dockerd being up) on an empty state dir.
dc=() cc=() st=()
for i in $(seq 1 "$runs"); do
  dplug buildkitd stop > /dev/null 2>&1 || true
  rm -rf "$work/dplug-root/buildkit" "$work/dplug-root/build" "$work/cache"
  t0=$(now); dplug buildkitd start > /dev/null 2>&1; t1=$(now); st+=("$(secs "$t0" "$t1")")
  t0=$(now); dplug_build cold "bench/dplug-cold$i"; t1=$(now); dc+=("$(secs "$t0" "$t1")")
  docker_ builder prune -af > /dev/null
  docker_ image rm -f $(docker_ image ls -q bench-rootfs) > /dev/null 2>&1 || true
  t0=$(now); classic "cold$i" "bench/docker-cold$i"; t1=$(now); cc+=("$(secs "$t0" "$t1")")
done
dplug_cold=$(median "${dc[@]}")
classic_cold=$(median "${cc[@]}")
start_s=$(median "${st[@]}")

# Warm: nothing changed, into the last cold run's repositories.
dw=() cw=()
for i in $(seq 1 "$runs"); do
  t0=$(now); dplug_build "warm$i" "bench/dplug-cold$runs"; t1=$(now); dw+=("$(secs "$t0" "$t1")")
  t0=$(now); classic "warm$i" "bench/docker-cold$runs"; t1=$(now); cw+=("$(secs "$t0" "$t1")")
done
dplug_warm=$(median "${dw[@]}")
classic_warm=$(median "${cw[@]}")

python3 - "$dplug_cold" "$classic_cold" "$dplug_warm" "$classic_warm" "$start_s" "$runs" "$dd_driver" <<'PY' | tee "$out/build.md"
import sys
dc, cc, dw, cw, st = map(float, sys.argv[1:6])
runs, driver = sys.argv[6], sys.argv[7]
print("Build + push of a small volume plugin (two-stage Dockerfile, busybox-static base) to a loopback docker-registry 2.8:\n")
print(f"| run | dplug `build --push` | classic (docker build/create/export, plugin create/push; dockerd 20.10, {driver}) | dplug / classic | target |")
print("|---|---:|---:|---:|---:|")
print(f"| cold (empty caches, median of {runs}) | {dc:.2f} s | {cc:.2f} s | {dc/cc:.2f}x | <= 0.5x |")
print(f"| warm, no change (median of {runs}) | {dw:.2f} s | {cw:.2f} s | {dw/cw:.2f}x | <= 0.3x, < 2 s |")
print()
print(f"dplug's own buildkitd start-up (once, then reused; median): {st:.2f} s.")
PY
