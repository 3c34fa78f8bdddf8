#!/usr/bin/env bash
# Benchmarks the edit loop (issue 15: edit-to-tested latency): `dplug dev`
# on a copy of examples/volume, then N one-line edits of its Go source, each
# timed from the file write until dplug dev prints the iteration line with
# the test verdict. That includes the 300 ms debounce and the Go rebuild in
# BuildKit (module and build caches mounted).
#
#   bench/dev.sh           store mode: dplug's own buildkitd → install in the
#                          local store → run (libcontainer) → dplug test's probes
#   bench/dev.sh --docker  a private Docker Engine (dockerd 20.10, as on a
#                          runner) and only it: the engine's BuildKit → load +
#                          enable in the engine → dplug test's probes on the
#                          engine's own socket to the plugin (dplug is root)
#
# The Dockerfile's golang:1.26 stage comes from this machine's Go toolchain
# (internal/testenv/cmd/goimage, as scripts/demo.sh does): no Docker Hub; in
# --docker mode through a loopback registry (20.10's BuildKit takes no named
# contexts). The first build fetches the example's modules through GOPROXY.
#
# Needs root; store mode runc and buildkitd (bin/buildkitd or PATH), --docker
# mode dockerd and docker-registry (scripts/setup.sh). RUNS=N edits (default
# 3, median and min reported). BENCH_SMOKE=1: one edit, same table. Prints a
# Markdown table (also bench/out/dev.md, --docker: dev-docker.md) and writes
# bench/out/dev.json (dev-docker.json); dplug dev's own output is kept in
# bench/out/dev-loop.log (dev-docker-loop.log).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=store name=dev
if [ "${1:-}" = --docker ]; then mode=docker name=dev-docker; fi
out=bench/out
mkdir -p "$out"
runs=${RUNS:-3}
[ "${BENCH_SMOKE:-0}" = 1 ] && runs=1
[ "$(id -u)" = 0 ] || { echo "bench: needs root (dplug test runs the plugin, buildkitd, a private dockerd)" >&2; exit 2; }
if [ "$mode" = store ]; then
  export PATH=$PWD/bin:$PATH
  command -v buildkitd >/dev/null || { echo "bench: buildkitd missing: go build -o bin/buildkitd github.com/moby/buildkit/cmd/buildkitd" >&2; exit 2; }
  command -v runc >/dev/null || { echo "bench: runc missing: apt-get install -y runc" >&2; exit 2; }
else
  [ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker-registry ] || { echo "bench: dockerd or docker-registry missing: scripts/setup.sh" >&2; exit 2; }
fi

work=$(mktemp -d /tmp/dplug-dbench-XXXXXX)
go build -trimpath $(scripts/gotags) -o "$work/dplug" ./cmd/dplug
dplug() { DPLUG_BUILDKITD_IDLE=0 "$work/dplug" --root "$work/dplug-root" "$@"; }
. scripts/lib.sh
dev_pid="" log=$work/dev.log
cleanup() {
  set +e
  if [ -n "$dev_pid" ]; then
    kill -INT "$dev_pid" 2>/dev/null # Ctrl-C
    for _ in $(seq 1 100); do kill -0 "$dev_pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$dev_pid" 2>/dev/null && { echo "bench: dplug dev still running 10 s after SIGINT, killing it" >&2; kill -9 "$dev_pid"; }
    wait "$dev_pid" 2>/dev/null
  fi
  [ -f "$log" ] && cp "$log" "$out/$name-loop.log" # dplug dev's own output, plugin lines included
  dplug stop bench/volume:dev >/dev/null 2>&1
  dplug buildkitd stop >/dev/null 2>&1
  lib_teardown
}
trap cleanup EXIT

proj=$work/volume
cp -r examples/volume "$proj"
if [ "$mode" = store ]; then
  flags=(--builder buildkitd --build-context "$(go run ./internal/testenv/cmd/goimage)")
else
  lib_start_registry
  lib_start_dockerd
  export DOCKER_HOST=unix://$work/docker.sock
  goref=$(go run ./internal/testenv/cmd/goimage -push "$registry/golang:1.26")
  # The private engine has no bridge: RUN steps use the host's network.
  flags=(--docker --builder docker --network host --build-arg "GO_IMAGE=$goref" --build-arg "GOPROXY=$(go env GOPROXY)")
fi

# The dev loop in the background, its iteration lines in $log.
# (Not through the dplug function: $! must be dplug itself, to stop it.)
DPLUG_BUILDKITD_IDLE=0 "$work/dplug" --root "$work/dplug-root" dev -t bench/volume:dev "${flags[@]}" "$proj" > "$log" 2>&1 &
dev_pid=$!

now() { date +%s.%N; }
# wait_line N: waits for iteration N's line ("dev: #N ..."), prints it.
wait_line() {
  local deadline=$(( $(date +%s) + ${2:-600} ))
  while :; do
    if grep -qs "^dev: #$1 " "$log"; then grep "^dev: #$1 " "$log"; return 0; fi
    kill -0 "$dev_pid" 2>/dev/null || { echo "bench: dplug dev exited:" >&2; cat "$log" >&2; return 1; }
    [ "$(date +%s)" -lt "$deadline" ] || { echo "bench: no iteration #$1 line in time:" >&2; cat "$log" >&2; return 1; }
    sleep 0.02
  done
}
passed() { # the line must carry the test step's PASS verdict
  case $1 in *"test "*" PASS"*) return 0 ;; esac
  echo "bench: iteration did not pass: $1" >&2; tail -30 "$log" >&2; return 1
}

t0=$(now)
first=$(wait_line 1 900); t1=$(now)
passed "$first"
first_s=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
echo "first: $first" >&2

lat=() lines=()
for i in $(seq 1 "$runs"); do
  # One-line change that changes the binary: the log prefix.
  t0=$(now)
  sed -i "s|log.SetPrefix(\"example-volume[^\"]*: \")|log.SetPrefix(\"example-volume-$i: \")|" "$proj/main.go"
  line=$(wait_line $((i + 1)) 600); t1=$(now)
  passed "$line"
  grep -q "example-volume-$i: " "$proj/main.go" || { echo "bench: the edit did not apply" >&2; exit 1; }
  echo "edit $i: $line" >&2
  lat+=("$(python3 -c "print($t1 - $t0)")")
  lines+=("$line")
done

python3 - "$out" "$name" "$mode" "$runs" "$first_s" "${lat[*]}" "${lines[@]}" <<'PY' | tee "$out/$name.md"
import json, os, re, statistics, sys
out, name, mode, runs, first = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
lat = [float(x) for x in sys.argv[6].split()]
lines = sys.argv[7:]
steps = ["build", "install", "run", "test"] if mode == "store" else ["build", "load", "test"]
def step(line, name):  # "· load 1.23s" -> seconds
    m = re.search(r"(?:#\d+ |· )" + re.escape(name) + r" ([0-9.]+)(ms|s)", line)
    if not m:
        return None
    return float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
times = {s: [step(l, s) for l in lines] for s in steps}
def med(xs):
    xs = [x for x in xs if x is not None]
    return (statistics.median(xs), min(xs)) if xs else (float("nan"), float("nan"))
what = {"store": "store mode, dplug's buildkitd, as root",
        "docker": "--docker, a private dockerd 20.10 and its BuildKit only, as root"}[mode]
say = {"build": "build", "install": "install in the store", "run": "start under libcontainer",
       "load": "load + enable in the engine", "test": "test (probes; --docker: on the engine's socket)"}
print(f"`dplug dev` on examples/volume ({what}), {runs} one-line edit{'s' if runs > 1 else ''} of main.go:\n")
print("| what | median | min |")
print("|---|---:|---:|")
print(f"| edit → iteration line with the test verdict (PASS) | {statistics.median(lat):.2f} s | {min(lat):.2f} s |")
for s in steps:
    m, lo = med(times[s])
    print(f"| of which {say[s]} | {m:.2f} s | {lo:.2f} s |")
print()
print(f"The latency includes the 300 ms debounce. First iteration (empty caches, modules fetched): {first:.2f} s.")
json.dump({"mode": mode, "runs": runs, "edit_to_tested_s": lat, "median_s": statistics.median(lat), "min_s": min(lat),
           "steps_s": times, "first_iteration_s": first, "lines": lines},
          open(os.path.join(out, name + ".json"), "w"), indent=1)
PY
