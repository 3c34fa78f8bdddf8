#!/usr/bin/env bash
# Benchmarks publishing a plugin with a 200 MiB rootfs to a loopback
# docker-registry: `dplug push DIR REF` against the classic
# `docker plugin create REF DIR && docker plugin push REF` on a private
# dockerd (Debian docker.io 20.10, storage driver overlay2 where the kernel
# allows, else vfs: printed), plus `tar | gzip -6` on the same bytes as the
# throughput yardstick (SPEC §7). Also times an unchanged re-push (layer
# cache: packs nothing, uploads no blob).
#
# Each round runs the yardstick, dplug (cold: a fresh repository and an
# empty layer cache), dplug again unchanged, and the classic flow, one
# after the other (interleaved, so background load hits both); RUNS rounds
# (default 3), medians reported.
#
# Needs root, docker-registry, docker.io, GNU time (apt-get install -y
# docker-registry docker.io time). Prints a Markdown table (also written to
# bench/out/push.md) and writes bench/out/push.json. SIZE_MIB overrides the
# rootfs size (default 200); DPLUG=/path/to/dplug skips building it.
# BENCH_SMOKE=1: 8 MiB, one round, no targets: checks the script still works.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
smoke=${BENCH_SMOKE:-0}
size_mib=${SIZE_MIB:-200}
runs=${RUNS:-3}
if [ "$smoke" = 1 ]; then size_mib=${SIZE_MIB:-8}; runs=1; fi
[ "$(id -u)" = 0 ] || { echo "bench: needs root (dockerd)" >&2; exit 2; }
for b in /usr/bin/docker-registry /usr/sbin/dockerd /usr/bin/docker /usr/bin/time; do
  [ -x "$b" ] || { echo "bench: $b missing: apt-get install -y docker-registry docker.io time" >&2; exit 2; }
done

# DPLUG=path uses an already built binary.
if [ -z "${DPLUG:-}" ]; then
  go build -trimpath $(scripts/gotags) -o bin/dplug ./cmd/dplug
  DPLUG=$PWD/bin/dplug
fi
dplug=$DPLUG

work=$(mktemp -d /tmp/dplug-bench-XXXXXX)
. scripts/lib.sh
trap lib_teardown EXIT

# The plugin: a volume-plugin config and a rootfs of real binaries and
# libraries, so that compression behaves as on a real plugin.
dir=$work/plugin
mkdir -p "$dir/rootfs"
lib_bench_config "$dir/config.json"
nfiles=$(lib_real_rootfs "$dir/rootfs" "$size_mib")
bytes=$(du -sb "$dir/rootfs" | cut -f1)
echo "bench: rootfs $(( bytes >> 20 )) MiB in $nfiles files" >&2

# Registry and dockerd, private, on loopback.
lib_start_registry
lib_start_dockerd
reg=$registry
echo "bench: dockerd storage driver $dd_driver" >&2

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.3f}')"; }
blobs() { find "$work/registry" -path '*/_layers/sha256/*' -name link 2>/dev/null | wc -l; }

gz=() dp=() re=() dk=() rss=() reblobs=()
gz_bytes=0
for i in $(seq 1 "$runs"); do
  sync
  # 1. gzip -6 yardstick over the same bytes (tar | gzip, as one stream).
  t0=$(now); tar -C "$dir/rootfs" -cf - . | gzip -6 > "$work/yardstick.tar.gz"; t1=$(now)
  gz+=("$(secs "$t0" "$t1")")
  gz_bytes=$(stat -c %s "$work/yardstick.tar.gz"); rm -f "$work/yardstick.tar.gz"

  # 2. dplug push, cold: a new repository, an empty layer cache.
  export XDG_CACHE_HOME=$work/cache-$i
  t0=$(now)
  /usr/bin/time -v -o "$work/time.txt" "$dplug" push "$dir" "$reg/bench/dplug-$i:1" > "$work/dplug.out" 2> "$work/dplug.err"
  t1=$(now)
  dp+=("$(secs "$t0" "$t1")")
  rss+=("$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")")

  # 3. dplug push again, unchanged: the layer cache knows the digests, the
  # registry has the blobs: nothing packed, nothing uploaded.
  before=$(blobs)
  t0=$(now); "$dplug" push "$dir" "$reg/bench/dplug-$i:2" > /dev/null 2>&1; t1=$(now)
  re+=("$(secs "$t0" "$t1")")
  reblobs+=("$(( $(blobs) - before ))")
  unset XDG_CACHE_HOME

  # 4. classic: docker plugin create + docker plugin push.
  t0=$(now)
  docker_ plugin create "$reg/bench/docker-$i:1" "$dir" > /dev/null
  docker_ plugin push "$reg/bench/docker-$i:1" > /dev/null
  t1=$(now)
  dk+=("$(secs "$t0" "$t1")")
  docker_ plugin rm -f "$reg/bench/docker-$i:1" > /dev/null
done

python3 - "$out" "$smoke" "$((bytes >> 20))" "$nfiles" "$gz_bytes" "$dd_driver" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" \
  "${gz[*]}" "${dp[*]}" "${re[*]}" "${dk[*]}" "${rss[*]}" "${reblobs[*]}" <<'PY' | tee "$out/push.md"
import json, statistics as st, sys
out, smoke, mib, nfiles, gz_bytes, driver, ncpu, load = sys.argv[1:9]
gz, dp, re, dk, rss, reblobs = ([float(x) for x in a.split()] for a in sys.argv[9:15])
mib, med = int(mib), st.median
g, d, r, k = med(gz), med(dp), med(re), med(dk)
print(f"Push of a {mib} MiB rootfs ({nfiles} files, {int(gz_bytes) >> 20} MiB gzipped) to a loopback docker-registry 2.8, "
      f"{ncpu} cores (load average {load} at the end), {len(dp)} interleaved rounds, medians; dockerd 20.10 with {driver}:\n")
print("| what | median | runs | vs classic |")
print("|---|---:|---|---:|")
runs = lambda xs: " ".join(f"{x:.2f}" for x in xs)
print(f"| `dplug push DIR REF` (cold: new repository, empty layer cache) | {d:.2f} s | {runs(dp)} | {d/k:.2f}x |")
print(f"| `dplug push` again, unchanged ({int(max(reblobs))} blobs uploaded) | {r:.2f} s | {runs(re)} | {r/k:.3f}x |")
print(f"| `docker plugin create` + `docker plugin push` | {k:.2f} s | {runs(dk)} | 1.00x |")
print(f"| `tar \\| gzip -6` on the same bytes (yardstick) | {g:.2f} s | {runs(gz)} | {g/k:.2f}x |")
print()
print(f"dplug cold push / classic: **{d/k:.2f}** (target <= 0.25); dplug push throughput = **{g/d:.2f}x** single-stream gzip -6's "
      f"(target >= 1.7x on 2 cores); unchanged re-push **{r:.2f} s** (target <= 0.2 s, no blob); dplug peak RSS "
      f"**{max(rss)/1024:.0f} MiB** (target < 150 MiB).")
json.dump({"bench": "push", "smoke": smoke == "1", "rootfs_mib": mib, "files": int(nfiles), "driver": driver, "cpus": int(ncpu),
           "load_end": float(load), "runs": len(dp), "seconds": {"gzip6": gz, "dplug_cold": dp, "dplug_unchanged": re, "classic": dk},
           "median": {"gzip6": g, "dplug_cold": d, "dplug_unchanged": r, "classic": k},
           "ratio": {"dplug_vs_classic": d/k, "throughput_vs_gzip6": g/d}, "unchanged_blobs_uploaded": max(reblobs),
           "peak_rss_mib": max(rss)/1024}, open(f"{out}/push.json", "w"), indent=1)
PY
