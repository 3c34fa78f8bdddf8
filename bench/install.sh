#!/usr/bin/env bash
# Benchmarks installing a plugin from a loopback docker-registry:
# `dplug install REF` into dplug's store against `docker plugin install REF`
# on a private dockerd (Debian docker.io 20.10), same plugin, same registry.
# Both download the gzip layer, verify it and extract the rootfs; neither
# starts the plugin (docker gets --disable). The sides alternate for RUNS
# rounds (default 3), removing the plugin in between; the table shows the
# medians of wall time and of CPU time (user + sys), the fairer number when
# other work loads the machine.
#
# Needs root, docker-registry, docker.io, GNU time (apt-get install -y
# docker-registry docker.io time). Prints a Markdown table (also written to
# bench/out/install.md, and JSON to bench/out/install-SHAPE.json).
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
for b in /usr/bin/docker-registry /usr/sbin/dockerd /usr/bin/docker /usr/bin/time; do
  [ -x "$b" ] || { echo "bench: $b missing: apt-get install -y docker-registry docker.io time" >&2; exit 2; }
done
if [ -z "${DPLUG:-}" ]; then
  go build -trimpath $(scripts/gotags) -o bin/dplug ./cmd/dplug
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

# CPU time (user + sys, seconds): dplug's process from GNU time; docker's
# is the client's plus what dockerd and the children it reaped (the
# layer-extracting re-exec) used meanwhile, from /proc/PID/stat. The
# registry serves both the same way and is counted for neither.
ticks=$(getconf CLK_TCK)
proc_cpu() { awk -v t="$ticks" '{ printf "%.3f", ($14 + $15 + $16 + $17) / t }' "/proc/$1/stat"; }
timed() { /usr/bin/time -f "%e %U %S" -o "$work/time.txt" "$@" > /dev/null; read -r tw tu ts < "$work/time.txt"; }

# DPLUG_BASE=/path/to/older/dplug adds a third contender, alternated in the
# same rounds (before/after comparisons on a loaded machine).
declare -A wall cpu
sides="dplug docker"
[ -n "${DPLUG_BASE:-}" ] && sides="dplug base docker"
for i in $(seq 1 "$runs"); do
  for side in $sides; do
    sync
    case $side in
    dplug|base)
      bin=$dplug; [ "$side" = base ] && bin=$DPLUG_BASE
      timed "$bin" --root "$work/dplug-root" install "$ref" --grant-all-permissions --alias "bench/$side:$i"
      c=$(python3 -c "print(f'{$tu + $ts:.3f}')")
      "$bin" --root "$work/dplug-root" rm -f "bench/$side:$i" > /dev/null ;;
    docker)
      c0=$(proc_cpu "$dd_pid")
      timed env DOCKER_CONFIG="$work/client" DOCKER_API_VERSION=1.41 /usr/bin/docker -H "unix://$work/docker.sock" plugin install --grant-all-permissions --disable --alias "bench/docker:$i" "$ref"
      c=$(python3 -c "print(f'{$(proc_cpu "$dd_pid") - $c0 + $tu + $ts:.3f}')")
      docker_ plugin rm -f "bench/docker:$i" > /dev/null ;;
    esac
    wall[$side]+="$tw " cpu[$side]+="$c "
  done
done

python3 - "$(( bytes >> 20 ))" "$nfiles" "$dd_driver" "$out" "${ROOTFS:-fill}" "$(cut -d' ' -f1 /proc/loadavg)" "$(nproc)" \
  "dplug=${wall[dplug]}" "docker=${wall[docker]}" "base=${wall[base]:-}" \
  "dplug=${cpu[dplug]}" "docker=${cpu[docker]}" "base=${cpu[base]:-}" <<'PY' | tee "$out/install.md"
import json, statistics, sys
mib, n, driver, out, shape, load, ncpu = int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:8]
def parse(args):
    return {k: [float(x) for x in v.split()] for k, v in (a.split("=", 1) for a in args) if v.strip()}
wall, cpu = parse(sys.argv[8:11]), parse(sys.argv[11:14])
med = lambda d: {k: statistics.median(v) for k, v in d.items()}
mw, mc = med(wall), med(cpu)
json.dump({"bench": "install", "rootfs_mib": mib, "files": n, "shape": shape, "driver": driver, "cpus": int(ncpu), "load_end": float(load),
           "seconds": wall, "median": mw, "ratio": mw["dplug"] / mw["docker"],
           "cpu_seconds": cpu, "cpu_median": mc, "cpu_ratio": mc["dplug"] / mc["docker"]},
          open(f"{out}/install-{shape}.json", "w"), indent=1)
print(f"Install of a {mib} MiB, {n}-file plugin from a loopback docker-registry 2.8, {ncpu} cores (load average {load} at the end), "
      f"{len(wall['dplug'])} interleaved rounds; dockerd 20.10 with {driver}. CPU = user + sys of the command (docker: client + dockerd "
      f"and its re-exec children; the registry is counted for neither):\n")
print("| what | wall median | wall runs | CPU median | CPU runs |")
print("|---|---:|---|---:|---|")
names = {"dplug": "`dplug install REF --grant-all-permissions`", "base": "same, DPLUG_BASE",
         "docker": "`docker plugin install --disable REF` (dockerd 20.10)"}
for k in ("dplug", "base", "docker"):
    if k in wall:
        print(f"| {names[k]} | {mw[k]:.2f} s | {' '.join(f'{x:.2f}' for x in wall[k])} | {mc[k]:.2f} s | {' '.join(f'{x:.2f}' for x in cpu[k])} |")
print()
print(f"dplug / docker (medians, lower is better): wall **{mw['dplug']/mw['docker']:.2f}**, CPU **{mc['dplug']/mc['docker']:.2f}**.")
if "base" in wall:
    print(f"dplug / DPLUG_BASE: wall {mw['dplug']/mw['base']:.2f}, CPU {mc['dplug']/mc['base']:.2f}.")
PY
