#!/usr/bin/env bash
# Mutation testing (make mutate): plants small bugs in the packages that judge
# untrusted input or dockerd parity, runs each package's own tests against every
# mutant, and writes the score per package to bench/out/mutation.json.
#
# Gremlins is pinned in tools/mutate/go.mod (a module of its own, so its
# dependencies never reach dplug's). Run as root with the daemons installed
# (make setup) and CI=true, so the tests that need them run instead of skipping.
#
#   scripts/mutate.sh                      every package in PKGS
#   PKGS="validate store" scripts/mutate.sh
#   DIFF=origin/main scripts/mutate.sh     only mutants on lines changed since DIFF (quick)
#
# Survivors that are equivalent mutants (no test can tell them apart) are listed,
# with the reason, in bench/mutation-allow.txt as "pkg/file.go:LINE:COL TYPE reason";
# they count as neither killed nor lived.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=${PKGS:-"validate archive store pack probe run"}
WORKERS=${WORKERS:-1}
out=bench/out
mkdir -p "$out" bin
go build -C tools/mutate -o "$PWD/bin/gremlins" github.com/go-gremlins/gremlins/cmd/gremlins
args=(--workers "$WORKERS" --timeout-coefficient "${TIMEOUT_COEFFICIENT:-3}")
[ -n "${DIFF:-}" ] && args+=(--diff "$DIFF")
for p in $PKGS; do
  echo "== mutate ./$p" >&2
  start=$(date +%s)
  bin/gremlins unleash "${args[@]}" -o "$out/mutation-$p.json" "./$p" >&2 || true
  echo "$p $(( $(date +%s) - start ))" >> "$out/.mutation-times"
done
python3 - "$out" $PKGS <<'PY'
import json, os, sys
out, pkgs = sys.argv[1], sys.argv[2:]
allow = set()
if os.path.exists("bench/mutation-allow.txt"):
    for line in open("bench/mutation-allow.txt"):
        line = line.strip()
        if line and not line.startswith("#"):
            where, typ = line.split()[:2]
            allow.add((where, typ))
times = {}
if os.path.exists(f"{out}/.mutation-times"):
    for line in open(f"{out}/.mutation-times"):
        p, s = line.split(); times[p] = int(s)
    os.remove(f"{out}/.mutation-times")
result, survivors = {}, []
for p in pkgs:
    path = f"{out}/mutation-{p}.json"
    if not os.path.exists(path):
        continue
    c = dict(killed=0, lived=0, allowed=0, timed_out=0, not_viable=0, not_covered=0)
    for f in json.load(open(path)).get("files", []):
        for m in f.get("mutations", []):
            st = m["status"]
            where = f"{p}/{f['file_name']}:{m['line']}:{m['column']}"
            if st == "KILLED": c["killed"] += 1
            elif st == "LIVED":
                if (where, m["type"]) in allow: c["allowed"] += 1
                else:
                    c["lived"] += 1; survivors.append(f"{where} {m['type']}")
            elif st == "TIMED OUT": c["timed_out"] += 1
            elif st == "NOT VIABLE": c["not_viable"] += 1
            elif st == "NOT COVERED": c["not_covered"] += 1
    viable = c["killed"] + c["lived"] + c["timed_out"]
    c["score"] = round(100.0 * (c["killed"] + c["timed_out"]) / viable, 1) if viable else None
    c["seconds"] = times.get(p)
    result[p] = c
json.dump({"packages": result, "survivors": survivors}, open(f"{out}/mutation.json", "w"), indent=2)
print("| package | killed | lived | allowed (equivalent) | timed out | not covered | score |")
print("|---|---:|---:|---:|---:|---:|---:|")
for p, c in result.items():
    print(f"| {p} | {c['killed']} | {c['lived']} | {c['allowed']} | {c['timed_out']} | {c['not_covered']} | {c['score']}% |")
PY
