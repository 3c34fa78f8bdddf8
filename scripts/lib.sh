# Shell helpers shared by scripts/demo.sh and bench/*.sh: a private
# docker-registry and dockerd on loopback, and their teardown. Source it after
# setting $work (a private temp dir); call lib_teardown from the EXIT trap.
# Everything started here listens on 127.0.0.1 or on a socket under $work.

reg_pid="" dd_pid="" registry="" dd_driver=""

# docker_ runs Debian's docker 20.10 client against the private dockerd
# (/usr/local/bin/docker may be a newer client that refuses its API).
docker_() { DOCKER_CONFIG=$work/client DOCKER_API_VERSION=1.41 /usr/bin/docker -H "unix://$work/docker.sock" "$@"; }

lib_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# lib_start_registry starts docker-registry on a free loopback port, sets
# $registry to HOST:PORT and waits until it answers.
lib_start_registry() {
  local port; port=$(lib_free_port)
  mkdir -p "$work/registry"
  cat > "$work/registry.yml" <<YML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $work/registry}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port, secret: dplug-local}
YML
  /usr/bin/docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
  reg_pid=$!
  registry=127.0.0.1:$port
  for _ in $(seq 1 100); do curl -fsS "http://$registry/v2/" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "docker-registry did not answer on $registry:" >&2; cat "$work/registry.log" >&2; return 1
}

# lib_storage_driver prints the storage driver a real host would use here:
# overlay2 if the kernel mounts an overlay under $work, else vfs.
# DOCKER_STORAGE_DRIVER overrides it.
lib_storage_driver() {
  if [ -n "${DOCKER_STORAGE_DRIVER:-}" ]; then echo "$DOCKER_STORAGE_DRIVER"; return; fi
  local d="$work/ovl-probe"
  mkdir -p "$d/l" "$d/u" "$d/w" "$d/m"
  if mount -t overlay overlay -o "lowerdir=$d/l,upperdir=$d/u,workdir=$d/w" "$d/m" 2>/dev/null; then
    umount "$d/m"; rm -rf "$d"; echo overlay2
  else
    rm -rf "$d"; echo vfs
  fi
}

# lib_start_dockerd starts a private dockerd (no iptables, no bridge, data
# and exec roots under $work; storage driver from lib_storage_driver, in
# $dd_driver) and waits until it answers.
lib_start_dockerd() {
  mkdir -p "$work/client"
  echo '{}' > "$work/daemon.json"
  dd_driver=$(lib_storage_driver)
  PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work" /usr/sbin/dockerd \
    --iptables=false --ip6tables=false --bridge=none --ip-forward=false --ip-masq=false \
    --storage-driver="$dd_driver" --data-root "$work/data" --exec-root "$work/exec" --pidfile "$work/docker.pid" \
    --config-file "$work/daemon.json" -H "unix://$work/docker.sock" > "$work/dockerd.log" 2>&1 &
  dd_pid=$!
  for _ in $(seq 1 600); do docker_ version >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "dockerd did not answer:" >&2; tail -20 "$work/dockerd.log" >&2; return 1
}

# lib_umount_under unmounts everything mounted below $1, deepest first.
lib_umount_under() {
  grep -o " $1/[^ ]*" /proc/self/mountinfo 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
}

# lib_teardown removes dockerd's plugins (and the sockets dockerd keeps in
# /run/docker/plugins/<id> whatever its exec-root), stops dockerd and the
# registry, unmounts what is left under $work and removes it.
lib_teardown() {
  set +e
  if [ -n "$dd_pid" ]; then
    for id in $(docker_ plugin ls -q --no-trunc 2>/dev/null); do
      docker_ plugin disable -f "$id" >/dev/null 2>&1
      docker_ plugin rm -f "$id" >/dev/null 2>&1
      lib_umount_under "/run/docker/plugins/$id"
      rm -rf "/run/docker/plugins/$id"
    done
    kill "$dd_pid" 2>/dev/null
    for _ in $(seq 1 200); do kill -0 "$dd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$dd_pid" 2>/dev/null
    dd_pid=""
  fi
  if [ -n "$reg_pid" ]; then
    kill "$reg_pid" 2>/dev/null && wait "$reg_pid" 2>/dev/null
    reg_pid=""
  fi
  lib_umount_under "$work"
  rm -rf "$work"
}

# lib_bench_config FILE writes the volume-plugin config the size benchmarks
# pack, install and push (its entrypoint never runs).
lib_bench_config() {
  cat > "$1" <<'JSON'
{"Description": "bench plugin", "Documentation": "https://example.invalid",
 "Entrypoint": ["/usr/bin/true"], "Interface": {"Socket": "bench.sock", "Types": ["docker.volumedriver/1.0"]},
 "Network": {"Type": "host"}}
JSON
}

# lib_real_rootfs DIR MIB [fill|prefix] fills DIR with regular files from
# /usr/lib and /usr/bin (in sorted order), so that sizes, file counts and
# compression behave as on a real plugin rootfs: "fill" (the default) takes
# every file that still fits in MIB MiB (many small files), "prefix" stops at
# the first one that does not (fewer, larger files). Prints the file count.
lib_real_rootfs() {
  local dir=$1 mib=$2 mode=${3:-fill}
  local act=next
  [ "$mode" = prefix ] && act=exit
  mkdir -p "$dir"
  find /usr/lib /usr/bin -xdev -type f -links 1 -size -40M -printf '%s %p\n' 2>/dev/null | LC_ALL=C sort -k2 > "$work/all" || true
  awk -v limit=$((mib << 20)) "{ if (n + \$1 > limit) $act; n += \$1; print \$2 }" "$work/all" > "$work/files"
  tar -C / -cf - -T <(sed 's|^/||' "$work/files") 2>/dev/null | tar -C "$dir" -xf -
  wc -l < "$work/files"
}
