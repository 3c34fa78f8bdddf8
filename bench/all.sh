#!/usr/bin/env bash
# Runs every benchmark script (make bench) and gathers their results in
# bench/out/results.json: per script its exit status, its Markdown table
# (bench/out/NAME.md, the README's Benchmarks tables) and its JSON where it
# writes one. A script that fails is recorded and the others still run; the
# exit status is 1 if any failed.
#
# BENCH_SMOKE=1 runs each script in its quick mode (small inputs, one run,
# no targets): what CI runs so that the scripts cannot rot. BENCHES="push
# install" picks scripts. Needs what each script needs (root, dockerd,
# docker-registry, buildkitd, runc, hyperfine, npm).
set -uo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
go build -trimpath $(scripts/gotags) -o bin/dplug ./cmd/dplug || exit 1
export DPLUG=$PWD/bin/dplug
if [ "${BENCH_SMOKE:-0}" = 1 ]; then export RUNS=1; fi
benches=${BENCHES:-validate push install build run dev}
status=()
failed=0
for b in $benches; do
  echo "== bench/$b.sh" >&2
  if [ "$b" = validate ] && [ "${BENCH_SMOKE:-0}" = 1 ] && ! command -v hyperfine > /dev/null; then
    status+=("$b=skipped"); continue
  fi
  if ./bench/"$b".sh > "$out/$b.log" 2>&1; then
    status+=("$b=0")
  else
    rc=$?; status+=("$b=$rc"); failed=1
    echo "bench/$b.sh failed ($rc); last lines of $out/$b.log:" >&2; tail -5 "$out/$b.log" >&2
  fi
done
python3 - "$out" "${BENCH_SMOKE:-0}" "${status[@]}" <<'PY'
import glob, json, os, sys
out, smoke, status = sys.argv[1], sys.argv[2] == "1", sys.argv[3:]
res = {"smoke": smoke, "cpus": os.cpu_count(), "load_end": float(open("/proc/loadavg").read().split()[0]), "benches": {}}
for kv in status:
    name, rc = kv.split("=")
    b = {"status": rc}
    if os.path.exists(f"{out}/{name}.md"):
        b["markdown"] = open(f"{out}/{name}.md").read()
    for j in sorted(glob.glob(f"{out}/{name}*.json")):
        try:
            b.setdefault("results", {})[os.path.basename(j)[:-5]] = json.load(open(j))
        except ValueError:
            pass
    res["benches"][name] = b
json.dump(res, open(f"{out}/results.json", "w"), indent=1)
print(f"wrote {out}/results.json: " + ", ".join(status), file=sys.stderr)
PY
exit $failed
