#!/usr/bin/env bash
# Benchmarks starting a plugin until its socket answers (SPEC §7: `dplug run`
# to activated < 1 s for the example volume plugin, and no slower than
# `docker plugin enable` of the same plugin):
#
#   dplug:   dplug run --detach DIR   (returns once the socket accepts a
#            connection and /Plugin.Activate has been checked), then dplug stop
#   dockerd: docker plugin enable NAME on a private dockerd 20.10 (returns once
#            dockerd could dial the socket), then docker plugin disable
#
# The plugin is examples/volume built straight into a plugin dir with go build
# (the binary its Dockerfile builds). Needs root, runc, docker.io
# (apt-get install -y docker.io). RUNS=N timed runs each (default 10, median
# and min reported). Prints a Markdown table (also bench/out/run.md).
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
runs=${RUNS:-10}
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 2; }
for b in /usr/sbin/dockerd /usr/bin/docker; do
  [ -x "$b" ] || { echo "bench: $b missing: apt-get install -y docker.io" >&2; exit 2; }
done

work=$(mktemp -d /tmp/dplug-rbench-XXXXXX)
. scripts/lib.sh
cleanup() { set +e; [ -x "$work/dplug" ] && "$work/dplug" --root "$work/r" stop "$work/plugin" >/dev/null 2>&1; lib_teardown; }
trap cleanup EXIT

go build -trimpath $(scripts/gotags) -o "$work/dplug" ./cmd/dplug
dir=$work/plugin
mkdir -p "$dir/rootfs"
CGO_ENABLED=0 go build -trimpath -ldflags=-s\ -w -o "$dir/rootfs/example-volume" ./examples/volume
cp examples/volume/config.json "$dir/"
dplug() { "$work/dplug" --root "$work/r" "$@"; }

lib_start_dockerd
docker_ plugin create bench-volume "$dir" >/dev/null

now() { date +%s.%N; }
dplug_t=() docker_t=()
# One untimed warm-up each (page cache, dockerd's first containerd shim).
dplug run --detach "$dir" >/dev/null && dplug stop "$dir"
docker_ plugin enable bench-volume >/dev/null && docker_ plugin disable bench-volume >/dev/null
for _ in $(seq 1 "$runs"); do
  t0=$(now); dplug run --detach "$dir" >/dev/null; t1=$(now)
  dplug stop "$dir"
  dplug_t+=("$(python3 -c "print($t1 - $t0)")")
  t0=$(now); docker_ plugin enable bench-volume >/dev/null; t1=$(now)
  docker_ plugin disable bench-volume >/dev/null
  docker_t+=("$(python3 -c "print($t1 - $t0)")")
done

python3 - "$runs" "${dplug_t[*]}" "${docker_t[*]}" <<'PY' | tee "$out/run.md"
import statistics, sys
runs, d, k = int(sys.argv[1]), [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
md, mk = statistics.median(d), statistics.median(k)
print(f"Start of examples/volume until its socket answers, {runs} runs each, same machine:\n")
print("| what | median | min | vs docker |")
print("|---|---|---|---|")
print(f"| `dplug run --detach` (libcontainer, + Activate check) | {md*1000:.0f} ms | {min(d)*1000:.0f} ms | {md/mk:.2f}x |")
print(f"| `docker plugin enable` (dockerd 20.10) | {mk*1000:.0f} ms | {min(k)*1000:.0f} ms | 1.00x |")
PY
