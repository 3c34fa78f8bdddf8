#!/usr/bin/env bash
# Benchmarks installing a plugin from a loopback docker-registry:
# `dplug install REF` into dplug's store against `docker plugin install REF`
# on a private dockerd (Debian docker.io 20.10), same plugin, same registry.
# Both download the gzip layer, verify it and extract the rootfs; neither
# starts the plugin (docker gets --disable). Each side runs RUNS times
# (default 3), removing the plugin in between; the table shows the first
# (cold) run and the median.
#
# Needs root, docker-registry, docker.io (apt-get install -y docker-registry
# docker.io). Prints a Markdown table (also written to bench/out/install.md).
# ROOTFS=fill (default: many small files) or ROOTFS=prefix (fewer, larger files)
# picks the rootfs shape. SIZE_MIB sets its size (default 100); DPLUG=/path/to/dplug skips
# building it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
size_mib=${SIZE_MIB:-100}
runs=${RUNS:-3}
# BENCH_SMOKE=1: 8 MiB, one run: checks the script still works.
if [ "${BENCH_SMOKE:-0}" = 1 ]; then size_mib=${SIZE_MIB:-8}; runs=1; fi
[ "$(id -u)" = 0 ] || { echo "bench: needs root (dockerd)" >&2; exit 2; }
for b in /usr/bin/docker-registry /usr/sbin/dockerd /usr/bin/docker; do
  [ -x "$b" ] || { echo "bench: $b missing: apt-get install -y docker-registry docker.io" >&2; exit 2; }
done
if [ -z "${DPLUG:-}" ]; then
  go build -trimpath -o bin/dplug ./cmd/dplug
  DPLUG=$PWD/bin/dplug
fi
dplug=$DPLUG

work=$(mktemp -d /tmp/dplug-bench-install-XXXXXX)
. scripts/lib.sh
trap lib_teardown EXIT

# The plugin: real binaries and libraries, so that sizes and file counts
# look like a real rootfs.
dir=$work/plugin
mkdir -p "$dir/rootfs"
lib_bench_config "$dir/config.json"
nfiles=$(lib_real_rootfs "$dir/rootfs" "$size_mib" "${ROOTFS:-fill}")
bytes=$(du -sb "$dir/rootfs" | cut -f1)
echo "bench: rootfs $(( bytes >> 20 )) MiB in $nfiles files" >&2

lib_start_registry
lib_start_dockerd
echo "bench: dockerd storage driver $dd_driver" >&2
ref=$registry/bench/plugin:1
"$dplug" push "$dir" "$ref" > /dev/null 2>&1

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.3f}')"; }

dplug_times=() docker_times=()
for i in $(seq 1 "$runs"); do
  sync
  t0=$(now)
  "$dplug" --root "$work/dplug-root" install "$ref" --grant-all-permissions --alias "bench/dplug:$i" > /dev/null
  t1=$(now)
  dplug_times+=("$(secs "$t0" "$t1")")
  "$dplug" --root "$work/dplug-root" rm -f "bench/dplug:$i" > /dev/null

  sync
  t0=$(now)
  docker_ plugin install --grant-all-permissions --disable --alias "bench/docker:$i" "$ref" > /dev/null
  t1=$(now)
  docker_times+=("$(secs "$t0" "$t1")")
  docker_ plugin rm -f "bench/docker:$i" > /dev/null
done

python3 - "$(( bytes >> 20 ))" "$nfiles" "${dplug_times[*]}" "${docker_times[*]}" "$dd_driver" "$out" "${ROOTFS:-fill}" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY' | tee "$out/install.md"
import json, statistics, sys
mib, n, dp, dk = int(sys.argv[1]), int(sys.argv[2]), [float(x) for x in sys.argv[3].split()], [float(x) for x in sys.argv[4].split()]
driver, out, shape, load = sys.argv[5:9]
mdp, mdk = statistics.median(dp), statistics.median(dk)
json.dump({"bench": "install", "rootfs_mib": mib, "files": n, "shape": shape, "driver": driver, "load_end": float(load),
           "seconds": {"dplug": dp, "docker": dk}, "median": {"dplug": mdp, "docker": mdk}, "ratio": mdp / mdk},
          open(f"{out}/install-{shape}.json", "w"), indent=1)
print(f"Install of a {mib} MiB, {n}-file plugin from a loopback docker-registry 2.8, same machine (load average {load} at the end), "
      f"{len(dp)} interleaved runs each; dockerd 20.10 with {driver}:\n")
print("| what | first run | median | runs |")
print("|---|---:|---:|---|")
print(f"| `dplug install REF --grant-all-permissions` | {dp[0]:.2f} s | {mdp:.2f} s | {' '.join(f'{x:.2f}' for x in dp)} |")
print(f"| `docker plugin install --disable REF` (dockerd 20.10) | {dk[0]:.2f} s | {mdk:.2f} s | {' '.join(f'{x:.2f}' for x in dk)} |")
print()
print(f"dplug / docker wall-time ratio (median): **{mdp/mdk:.2f}** (lower is better).")
PY
