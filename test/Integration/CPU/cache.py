#!/usr/bin/env python3
"""linac-run's compile cache (linac_compile) seen from outside.

1. N linac-run processes start at once on one spec and an empty cache: every
   one must pass --check, exactly one compiles (the others wait on the
   entry's lock and load its file), and one entry is left, with no
   temporary files.
2. The entry is damaged (truncated, then overwritten in the middle): the
   next run must rebuild it (never load it) and still pass --check.

Usage: cache.py LINAC_RUN SPEC CACHE_DIR N
Prints one summary line per phase; exits 1 on any failure.
"""

import json
import os
import subprocess
import sys


def run(linac_run, spec, cache):
    return subprocess.Popen(
        [linac_run, spec, "--cache-dir=" + cache, "--shape=B=1,T=100",
         "--check", "--threads=1", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result(process, stderr_lines=None):
    out, err = process.communicate()
    if stderr_lines is not None:
        stderr_lines.extend(err.splitlines())
    if process.returncode != 0:
        print("linac-run failed (%d): %s" % (process.returncode, err.strip()))
        return None
    record = json.loads(out)
    checks = record.get("check", {})
    if not checks or not all(c["pass"] for c in checks.values()):
        print("check failed: " + out.strip())
        return None
    return record


def entries(cache):
    return sorted(f for f in os.listdir(cache) if f.endswith(".so"))


def main():
    linac_run, spec, cache, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    ok = True

    processes = [run(linac_run, spec, cache) for _ in range(n)]
    records = [result(p) for p in processes]
    passed = [r for r in records if r is not None]
    compiled = sum(1 for r in passed if r["compiled"])
    print("%d of %d runs passed, %d compiled" % (len(passed), n, compiled))
    files = os.listdir(cache)
    if len(entries(cache)) != 1 or any(".tmp-" in f for f in files):
        print("unexpected cache contents: %s" % files)
        ok = False
    ok = ok and len(passed) == n
    if not ok:
        return 1

    entry = os.path.join(cache, entries(cache)[0])
    size = os.path.getsize(entry)
    damages = {
        "truncated": lambda f: f.truncate(size // 3),
        "overwritten": lambda f: (f.seek(size // 2), f.write(b"\xde\xad\xbe\xef")),
    }
    for name, damage in damages.items():
        with open(entry, "r+b") as f:
            damage(f)
        notes = []
        record = result(run(linac_run, spec, cache), notes)
        print("%s entry: %s" % (name, "rebuilt, check passed"
                                if record and record["compiled"] and record["rebuilt"]
                                else "NOT REBUILT"))
        for line in notes:
            print("  " + line.replace(entry, "ENTRY"))
        ok = ok and bool(record) and record["rebuilt"]
    record = result(run(linac_run, spec, cache))
    print("next run: %s" % ("cache hit" if record and not record["compiled"] else "MISS"))
    return 0 if ok and record and not record["compiled"] else 1


if __name__ == "__main__":
    sys.exit(main())
