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
reg_pid= dd_pid=
cleanup() {
  set +e
  if [ -n "$dd_pid" ]; then
    for id in $(docker_ plugin ls -q --no-trunc 2>/dev/null); do
      docker_ plugin rm -f "$id" >/dev/null 2>&1
    done
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

# The plugin: a volume-plugin config and a rootfs of real binaries and
# libraries (the first $size_mib MiB of regular files under /usr/lib and
# /usr/bin in sorted order), so that compression behaves as on a real plugin.
dir=$work/plugin
mkdir -p "$dir/rootfs"
cat > "$dir/config.json" <<'JSON'
{"Description": "bench plugin", "Documentation": "https://example.invalid",
 "Entrypoint": ["/usr/bin/true"], "Interface": {"Socket": "bench.sock", "Types": ["docker.volumedriver/1.0"]},
 "Network": {"Type": "host"}}
JSON
find /usr/lib /usr/bin -xdev -type f -links 1 -size -40M -printf '%s %p\n' 2>/dev/null | LC_ALL=C sort -k2 > "$work/all" || true
awk -v limit=$((size_mib << 20)) '{ if (n + $1 > limit) next; n += $1; print $2 }' "$work/all" > "$work/files"
tar -C / -cf - -T <(sed 's|^/||' "$work/files") 2>/dev/null | tar -C "$dir/rootfs" -xf -
bytes=$(du -sb "$dir/rootfs" | cut -f1)
echo "bench: rootfs $(( bytes >> 20 )) MiB in $(wc -l < "$work/files") files" >&2

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
reg=127.0.0.1:$port

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
