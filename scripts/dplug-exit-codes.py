#!/usr/bin/env python3
"""Converts testscript lines `dplug-exit ARGS` (old form: always exits 0 and
prints "exit status N") to `dplug-exit N ARGS` (fails unless dplug exits N),
taking N from the `stderr '^exit status N$'` assertion that follows and
removing it. Lines already in the new form are left alone. A line with no
such assertion gets its code from KNOWN (the command as written), else the
script stops and names it: run it once with the code you expect and read
"exit status X, want Y".

usage: scripts/dplug-exit-codes.py cmd/dplug/cli/testdata/script/*.txtar
"""
import re
import sys

# Commands whose old form checked no exit code; the codes were learned by
# running them (issue 13).
KNOWN = {
    "set me/good:1 LOCKED=1": 1,
    "set me/good:1 data.destination=/x": 1,
    "-o json inspect nosuch": 1,
    "set me/myplug:1.0 LOCKED=1": 1,
    "set me/myplug:1.0 =1": 1,
}

CMD = re.compile(r"^((?:\[[^\]]*\] )*(?:exec )?)dplug-exit (.*)$")
EXIT = re.compile(r"^stderr '\^?exit status (\d+)\$?'$")
ASSERT = re.compile(r"^!?\s*(stdout|stderr|cmp|cmpenv|exists|grep)\b")


def convert(path):
    lines = open(path).read().split("\n")
    end = next((i for i, l in enumerate(lines) if re.match(r"^-- .* --$", l)), len(lines))
    drop, new, missing = set(), {}, []
    for i in range(end):
        m = CMD.match(lines[i])
        if not m or re.match(r"^\d+( |$)", m.group(2)):
            continue
        code = None
        for j in range(i + 1, end):
            s = lines[j].strip()
            e = EXIT.match(s)
            if e:
                code = e.group(1)
                drop.add(j)
                break
            if s == "" or s.startswith("#") or ASSERT.match(s):
                continue
            break
        if code is None:
            args = m.group(2).strip()
            if args not in KNOWN:
                missing.append("%s:%d: %s" % (path, i + 1, lines[i]))
                continue
            code = str(KNOWN[args])
        new[i] = "%sdplug-exit %s %s" % (m.group(1), code, m.group(2))
    out = [new.get(i, l) for i, l in enumerate(lines) if i not in drop]
    open(path, "w").write("\n".join(out))
    return missing


missing = []
for p in sys.argv[1:]:
    missing += convert(p)
for m in missing:
    print("no expected exit code for " + m, file=sys.stderr)
sys.exit(1 if missing else 0)
