#!/usr/bin/env bash
# Benchmarks publishing a plugin with a 200 MiB rootfs to a loopback
# docker-registry: `dplug push DIR REF` against the classic
# `docker plugin create REF DIR && docker plugin push REF` on a private
# dockerd (Debian docker.io 20.10), plus `tar | gzip -6` on the same bytes
# as the throughput yardstick (SPEC §7: dplug >= 0.7x gzip's throughput,
# peak RSS < 150 MiB). Also times an unchanged re-push (uploads nothing).
#
# Needs root, docker-registry, docker.io, GNU time (apt-get install -y
# docker-registry docker.io time). Prints a Markdown table (also written to
# bench/out/push.md). SIZE_MIB overrides the rootfs size (default 200);
# DPLUG=/path/to/dplug skips building it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
size_mib=${SIZE_MIB:-200}
[ "$(id -u)" = 0 ] || { echo "bench: needs root (dockerd)" >&2; exit 2; }
for b in /usr/bin/docker-registry /usr/sbin/dockerd /usr/bin/docker /usr/bin/time; do
  [ -x "$b" ] || { echo "bench: $b missing: apt-get install -y docker-registry docker.io time" >&2; exit 2; }
done

# DPLUG=path uses an already built binary.
if [ -z "${DPLUG:-}" ]; then
  go build -trimpath -o bin/dplug ./cmd/dplug
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

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }

# 1. gzip -6 yardstick over the same bytes (tar | gzip, as one stream).
sync
t0=$(now); tar -C "$dir/rootfs" -cf - . | gzip -6 > "$work/yardstick.tar.gz"; t1=$(now)
gzip_s=$(secs "$t0" "$t1")
gz_mib=$(( $(stat -c %s "$work/yardstick.tar.gz") >> 20 )); rm -f "$work/yardstick.tar.gz"

# 2. dplug push, cold (registry has nothing), with peak RSS.
t0=$(now)
/usr/bin/time -v -o "$work/time.txt" "$dplug" push "$dir" "$reg/bench/dplug:1" > "$work/dplug.out" 2> "$work/dplug.err"
t1=$(now)
dplug_s=$(secs "$t0" "$t1")
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")

# 3. dplug push again, unchanged: packs again, uploads no blob.
t0=$(now); "$dplug" push "$dir" "$reg/bench/dplug:2" > /dev/null 2>&1; t1=$(now)
repush_s=$(secs "$t0" "$t1")

# 4. classic: docker plugin create + docker plugin push.
t0=$(now)
docker_ plugin create "$reg/bench/docker:1" "$dir" > /dev/null
t1=$(now)
docker_ plugin push "$reg/bench/docker:1" > /dev/null
t2=$(now)
create_s=$(secs "$t0" "$t1"); push_s=$(secs "$t1" "$t2"); docker_s=$(secs "$t0" "$t2")

mib=$(( bytes >> 20 ))
python3 - "$mib" "$gz_mib" "$gzip_s" "$dplug_s" "$repush_s" "$docker_s" "$create_s" "$push_s" "$rss_kb" <<'PY' | tee "$out/push.md"
import sys
mib, gz_mib, gz, dp, re, dk, cr, pu, rss = sys.argv[1:]
mib, gz, dp, re, dk, cr, pu, rss = int(mib), float(gz), float(dp), float(re), float(dk), float(cr), float(pu), int(rss)
print(f"Push of a {mib} MiB rootfs ({gz_mib} MiB gzipped) to a loopback docker-registry 2.8, same machine:\n")
print("| what | wall time | throughput | vs dplug |")
print("|---|---:|---:|---:|")
print(f"| `dplug push DIR REF` (cold) | {dp:.2f} s | {mib/dp:.0f} MiB/s | 1.00x |")
print(f"| `dplug push` again, unchanged (no blob uploaded) | {re:.2f} s | | {re/dp:.2f}x |")
print(f"| `docker plugin create` + `docker plugin push` (dockerd 20.10) | {dk:.2f} s ({cr:.2f} + {pu:.2f}) | {mib/dk:.0f} MiB/s | {dk/dp:.2f}x |")
print(f"| `tar \\| gzip -6` on the same bytes (yardstick) | {gz:.2f} s | {mib/gz:.0f} MiB/s | {gz/dp:.2f}x |")
print()
print(f"dplug / classic wall-time ratio: **{dp/dk:.2f}** (lower is better); "
      f"dplug throughput = **{gz/dp:.2f}x** gzip -6's (target >= 0.7x); "
      f"dplug peak RSS: **{rss/1024:.0f} MiB** (target < 150 MiB).")
PY
