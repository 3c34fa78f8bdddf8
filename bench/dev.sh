#!/usr/bin/env bash
# Benchmarks the edit loop (issue 15: edit-to-tested latency): `dplug dev`
# in store mode on a copy of examples/volume — build (dplug's own buildkitd,
# cached) → install in the local store → dplug test — then N one-line edits
# of its Go source, each timed from the file write until dplug dev prints the
# iteration line with the test verdict. That includes the 300 ms debounce,
# the Go rebuild in BuildKit (module and build caches mounted), the install
# and the plugin's start and probes.
#
# The Dockerfile's golang:1.26 stage comes from this machine's Go toolchain
# (internal/testenv/cmd/goimage, as scripts/demo.sh does): no Docker Hub. Its
# first build fetches the example's modules through GOPROXY.
#
# Needs root, runc, buildkitd (bin/buildkitd or PATH). RUNS=N edits (default
# 3, median and min reported). BENCH_SMOKE=1: one edit, same table. Prints a
# Markdown table (also bench/out/dev.md) and writes bench/out/dev.json;
# dplug dev's own output is kept in bench/out/dev-loop.log.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
runs=${RUNS:-3}
[ "${BENCH_SMOKE:-0}" = 1 ] && runs=1
[ "$(id -u)" = 0 ] || { echo "bench: needs root (dplug test runs the plugin, buildkitd)" >&2; exit 2; }
export PATH=$PWD/bin:$PATH
command -v buildkitd >/dev/null || { echo "bench: buildkitd missing: go build -o bin/buildkitd github.com/moby/buildkit/cmd/buildkitd" >&2; exit 2; }
command -v runc >/dev/null || { echo "bench: runc missing: apt-get install -y runc" >&2; exit 2; }

work=$(mktemp -d /tmp/dplug-dbench-XXXXXX)
go build -trimpath -o "$work/dplug" ./cmd/dplug
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
  [ -f "$log" ] && cp "$log" "$out/dev-loop.log" # dplug dev's own output, plugin lines included
  dplug stop bench/volume:dev >/dev/null 2>&1
  dplug buildkitd stop >/dev/null 2>&1
  lib_teardown
}
trap cleanup EXIT

proj=$work/volume
cp -r examples/volume "$proj"
goctx=$(go run ./internal/testenv/cmd/goimage)

# The dev loop in the background, its iteration lines in $log.
# (Not through the dplug function: $! must be dplug itself, to stop it.)
DPLUG_BUILDKITD_IDLE=0 "$work/dplug" --root "$work/dplug-root" dev -t bench/volume:dev \
  --builder buildkitd --build-context "$goctx" "$proj" > "$log" 2>&1 &
dev_pid=$!

now() { date +%s.%N; }
# wait_line N: waits for iteration N's line ("dev: #N ..."), prints it.
wait_line() {
  local deadline=$(( $(date +%s) + ${2:-600} ))
  while :; do
    if grep -q "^dev: #$1 " "$log"; then grep "^dev: #$1 " "$log"; return 0; fi
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

python3 - "$out" "$runs" "$first_s" "${lat[*]}" "${lines[@]}" <<'PY' | tee "$out/dev.md"
import json, os, re, statistics, sys
out, runs, first = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
lat = [float(x) for x in sys.argv[4].split()]
lines = sys.argv[5:]
def step(line, name):  # "build+install 1.23s" -> seconds
    m = re.search(re.escape(name) + r" ([0-9.]+)(ms|s)", line)
    if not m:
        return None
    return float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
bi = [step(l, "build+install") for l in lines]
te = [step(l, "test") for l in lines]
med = lambda xs: statistics.median(x for x in xs if x is not None) if any(x is not None for x in xs) else float("nan")
print(f"`dplug dev` on examples/volume (store mode, dplug's buildkitd, as root), {runs} one-line edit{'s' if runs > 1 else ''} of main.go:\n")
print("| what | median | min |")
print("|---|---:|---:|")
print(f"| edit → iteration line with the test verdict (PASS) | {statistics.median(lat):.2f} s | {min(lat):.2f} s |")
print(f"| of which build + install (as dplug dev reports it) | {med(bi):.2f} s | {min(x for x in bi if x is not None):.2f} s |")
print(f"| of which `dplug test` (start, probes, stop) | {med(te):.2f} s | {min(x for x in te if x is not None):.2f} s |")
print()
print(f"The latency includes the 300 ms debounce. First iteration (empty caches, modules fetched): {first:.2f} s.")
json.dump({"runs": runs, "edit_to_tested_s": lat, "median_s": statistics.median(lat), "min_s": min(lat),
           "build_install_s": bi, "test_s": te, "first_iteration_s": first, "lines": lines},
          open(os.path.join(out, "dev.json"), "w"), indent=1)
PY
