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
#   PKGS=internal/blockgz ...             a package under internal/ is named by its last element (blockgz)
#   DIFF=origin/main scripts/mutate.sh     only mutants on lines changed since DIFF (quick)
#   SUMMARY=1 scripts/mutate.sh            no run: the table from the runs recorded so far
#                                          (bench/out and the committed record, bench/mutation)
#
# On 2 cores a package whose tests start daemons takes hours (every mutant reruns
# them), so one package can be measured in parts, each part a file group with the
# tests that cover it (one package in PKGS):
#
#   PKGS=run PART=spec FILES="spec_linux.go initlayer.go" RUN='^TestSpec|^TestSetupInitLayer' scripts/mutate.sh
#
# FILES: only these files of the package get mutants (the others are excluded);
# RUN: the go test -run regexp for the coverage run and every mutant run (the
# tests outside it are not run). A part writes bench/out/mutation-PKG.PART.json
# and .meta (what was run); the summary merges a package's whole run and its
# parts, a file's newest result winning, and lists each part in "runs".
#
# Survivors that are equivalent mutants (no test can tell them apart) are listed,
# with the reason, in bench/mutation-allow.txt as "pkg/file.go:LINE:COL TYPE reason";
# they count as neither killed nor lived.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
PKGS=${PKGS:-"validate archive store pack probe run"}
WORKERS=${WORKERS:-1}
out=bench/out
mkdir -p "$out" bin
if [ -n "${PART:-}${FILES:-}${RUN:-}" ]; then
  set -- $PKGS
  [ $# = 1 ] && [ -n "${PART:-}" ] || { echo "mutate: PART, FILES and RUN need one package in PKGS and a PART name" >&2; exit 2; }
fi
# SUMMARY=1: run nothing, only merge the runs recorded so far into mutation.json.
[ "${SUMMARY:-0}" = 1 ] && PKGS_RUN="" || PKGS_RUN=$PKGS
[ -z "$PKGS_RUN" ] || go build -C tools/mutate -o "$PWD/bin/gremlins" github.com/go-gremlins/gremlins/cmd/gremlins
args=(--workers "$WORKERS" --timeout-coefficient "${TIMEOUT_COEFFICIENT:-3}")
[ -n "${DIFF:-}" ] && args+=(--diff "$DIFF")
for p in $PKGS_RUN; do
  name=${p##*/} extra=()
  if [ -n "${PART:-}" ]; then
    name=$name.$PART
    if [ -n "${FILES:-}" ]; then
      for f in "$p"/*.go; do
        b=$(basename "$f")
        case "$b" in *_test.go) continue ;; esac
        case " $FILES " in *" $b "*) ;; *) extra+=(--exclude-files "^${b//./\\.}\$") ;; esac
      done
    fi
  fi
  echo "== mutate ./$p ${PART:+(part $PART: ${FILES:-every file}, tests ${RUN:-all})}" >&2
  start=$(date +%s)
  # go test honours GOFLAGS, in the coverage run and in every mutant's run.
  # Its log keeps every mutant's verdict as it comes: a run cut short (^C, a
  # deadline) still counts what it measured, from the log, marked "cut short".
  rm -f "$out/mutation-$name.json"
  # gremlins runs `git diff` where it starts and names files relative to the
  # package: it starts in the package dir, git names files relative to it
  # (diff.relative), or with DIFF no changed line would ever match.
  # run's mutants can unmount what they should not (mountsUnder's mp == dir
  # -> != unmounts every mount but the run dir's): its runs get a private
  # mount namespace, so a mutant cannot touch the machine's mounts.
  # All mutants share that namespace, though: once that mutant has
  # unmounted /proc and the rest there, every later mutant's tests fail
  # (no /proc), and so it counts as killed. So each test binary also runs in a
  # namespace of its own (go test -exec), and a mutant spoils only its own.
  ns=() goexec=
  if [ "$p" = run ]; then
    ns=(unshare -m --propagation private)
    printf '#!/bin/sh\nexec unshare -m --propagation private "$@"\n' >bin/nsexec
    chmod +x bin/nsexec
    goexec=" -exec=$top/bin/nsexec"
  fi
  (cd "$p" && "${ns[@]}" env GOFLAGS="${GOFLAGS:-}$goexec${RUN:+ -run=$RUN}" \
    GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=diff.relative GIT_CONFIG_VALUE_0=true \
    "$top/bin/gremlins" unleash "${args[@]}" "${extra[@]}" -o "$top/$out/mutation-$name.json" "$top/$p") 2>&1 | tee "$out/mutation-$name.log" >&2 || true
  python3 -c 'import json,sys; json.dump(dict(files=sys.argv[1], run=sys.argv[2], diff=sys.argv[3], date=sys.argv[4], seconds=int(sys.argv[5]), finished=int(sys.argv[6])), open(sys.argv[7], "w"))' \
    "${FILES:-all}" "${RUN:-all}" "${DIFF:-}" "$(date -u +%F)" "$(( $(date +%s) - start ))" "$(date +%s)" "$out/mutation-$name.meta"
done
python3 - "$out" $PKGS <<'PY'
import glob, json, os, re, sys
out, pkgs = sys.argv[1], sys.argv[2:]
# Runs are read from bench/out (this machine's) and bench/mutation (the
# record committed to the repository: copy a finished part's .json or .log
# and its .meta there to keep it). A file's newest run wins, by the meta's
# "finished" time (else the file's mtime).
dirs = [out, "bench/mutation"]
def finished(stem):
    try:
        return json.load(open(stem + ".meta"))["finished"]
    except (OSError, KeyError, ValueError):
        return max(os.path.getmtime(f) for f in glob.glob(stem + ".*"))
allow = set()
if os.path.exists("bench/mutation-allow.txt"):
    for line in open("bench/mutation-allow.txt"):
        line = line.strip()
        if line and not line.startswith("#"):
            where, typ = line.split()[:2]
            allow.add((where, typ))
# Every package measured so far, not only this run's: parts add up across runs.
pkgs += sorted({os.path.basename(f)[len("mutation-"):].split(".")[0]
                for d in dirs for f in glob.glob(f"{d}/mutation-*.json") + glob.glob(f"{d}/mutation-*.log")
                if not f.endswith("/mutation.json")} - set(pkgs))
result, survivors = {}, []
for p in pkgs:
    # A run is its .json, or only its .log when it was cut short.
    stems = {f.rsplit(".", 1)[0] for d in dirs for f in glob.glob(f"{d}/mutation-{p}.json") + glob.glob(f"{d}/mutation-{p}.*.json")
             + glob.glob(f"{d}/mutation-{p}.log") + glob.glob(f"{d}/mutation-{p}.*.log")}
    stems = sorted(stems, key=finished)
    if not stems:
        continue
    files, runs = {}, []
    for stem in stems:
        m = json.load(open(stem + ".meta")) if os.path.exists(stem + ".meta") else {}
        m["part"] = os.path.basename(stem)[len(f"mutation-{p}"):].lstrip(".") or "whole"
        if os.path.exists(stem + ".json"):
            got = json.load(open(stem + ".json")).get("files", [])
        else:
            m["cut_short"] = True
            byfile = {}
            for line in open(stem + ".log"):
                r = re.match(r"\s*(KILLED|LIVED|TIMED OUT|NOT COVERED|NOT VIABLE)\s+(\S+) at (\S+):(\d+):(\d+)", line)
                if r:
                    byfile.setdefault(r[3], []).append(dict(status=r[1], type=r[2], line=int(r[4]), column=int(r[5])))
            got = [dict(file_name=k, mutations=v) for k, v in byfile.items()]
        runs.append(m)
        if m.get("diff"):
            # Only the changed lines were mutated: a file's few mutants must
            # not stand for the whole file. Listed in runs, not counted.
            m["not_counted"] = "DIFF run (changed lines only)"
            continue
        for f in got:
            files[f["file_name"]] = f  # the newest run of a file wins
    c = dict(killed=0, lived=0, allowed=0, timed_out=0, not_viable=0, not_covered=0)
    for f in files.values():
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
    c["files"] = sorted(files)
    c["runs"] = runs
    result[p] = c
json.dump({"packages": result, "survivors": survivors}, open(f"{out}/mutation.json", "w"), indent=2)
print("| package | killed | timed out | lived | allowed (equivalent) | not covered | score |")
print("|---|---:|---:|---:|---:|---:|---:|")
for p, c in result.items():
    print(f"| {p} | {c['killed']} | {c['timed_out']} | {c['lived']} | {c['allowed']} | {c['not_covered']} | {c['score']}% |")
for s in survivors:
    print("lived:", s)
PY
