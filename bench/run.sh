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
dd_pid=
cleanup() {
  set +e
  [ -x "$work/dplug" ] && "$work/dplug" --root "$work/r" stop "$work/plugin" >/dev/null 2>&1
  if [ -n "$dd_pid" ]; then
    for id in $(docker_ plugin ls -q --no-trunc 2>/dev/null); do docker_ plugin rm -f "$id" >/dev/null 2>&1; done
    kill "$dd_pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$dd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$dd_pid" 2>/dev/null
  fi
  grep " $work/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
docker_() { DOCKER_CONFIG=$work/client DOCKER_API_VERSION=1.41 /usr/bin/docker -H "unix://$work/docker.sock" "$@"; }

go build -trimpath -o "$work/dplug" ./cmd/dplug
dir=$work/plugin
mkdir -p "$dir/rootfs"
CGO_ENABLED=0 go build -trimpath -ldflags=-s\ -w -o "$dir/rootfs/example-volume" ./examples/volume
cp examples/volume/config.json "$dir/"
dplug() { "$work/dplug" --root "$work/r" "$@"; }

mkdir -p "$work/client"
echo '{}' > "$work/daemon.json"
/usr/sbin/dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
  --data-root "$work/data" --exec-root "$work/exec" --pidfile "$work/docker.pid" \
  --config-file "$work/daemon.json" -H "unix://$work/docker.sock" > "$work/dockerd.log" 2>&1 & dd_pid=$!
for _ in $(seq 1 200); do docker_ version >/dev/null 2>&1 && break; sleep 0.1; done
docker_ version >/dev/null
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
