"""CPU time of `classify` on every mail of the hostile corpus (tests/hostile/corpus.py, SPEC 9).

    python3 -m bench.hostile_bench [--timeout 120] [--jobs N] [--inline] [NAME ...]

Run from the repository root (the corpus is imported as `tests.hostile.corpus`). Each mail is
classified in its own subprocess, so a mail that never finishes is cut off after `--timeout`
seconds and printed as "> 120 s" instead of stopping the benchmark; `--inline` classifies in this
process (no cut-off; for a product where nothing hangs any more). The figure is the CPU time
(`time.process_time`) of the one `classify` call, corpus building excluded. Prints one line per
mail, slowest first, then the worst and the total. No asserts: SPEC 9 asks for "at most about a
second of CPU on a small machine" per mail; the tests only turn hangs into failures.

Mails over MAILDAEMON_MAX_MAIL_BYTES are classified as a source delivers them (header only,
`oversize` set); the row `too_large_11mb[whole]` also times the whole 11 MB for comparison.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

WHOLE = "[whole]"


def _names() -> list[str]:
    from tests.hostile.corpus import corpus
    names = [c.name for c in corpus()]
    return names + [c.name + WHOLE for c in corpus() if c.oversize]


def measure(name: str) -> dict:
    """Classify one mail in this process: {"cpu": seconds, "verdict": ..., "reason": ...}."""
    from maildaemon.model import RawMail
    from maildaemon.parse import classify
    from tests.hostile.corpus import as_delivered, by_name, team
    whole = name.endswith(WHOLE)
    case = by_name(name.removesuffix(WHOLE))
    raw = RawMail(case.data, "bench") if whole else as_delivered(case, "bench")
    t = team(case.team == "auth")
    start = time.process_time()
    try:
        verdict = classify(raw, t)
        kind, reason = type(verdict).__name__, getattr(verdict, "reason", "") or getattr(
            getattr(verdict, "change", None), "key", "")
    except BaseException as e:     # noqa: BLE001 - a raise is a finding, not the end of the benchmark
        kind, reason = "RAISED", f"{type(e).__name__}: {e}"
    cpu = time.process_time() - start
    return {"name": name, "cpu": cpu, "verdict": kind, "reason": " ".join(str(reason).split())[:90],
            "bytes": len(case.data)}


def _in_subprocess(name: str, timeout: float) -> dict:
    try:
        done = subprocess.run([sys.executable, "-m", "bench.hostile_bench", "--one", name], capture_output=True,
                              text=True, timeout=timeout, cwd=os.getcwd())
    except subprocess.TimeoutExpired:
        return {"name": name, "cpu": None, "verdict": "TIMEOUT", "reason": f"> {timeout:g} s"}
    lines = [x for x in done.stdout.splitlines() if x.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {"name": name, "cpu": None, "verdict": "CRASHED", "reason": f"exit {done.returncode}: {tail[:80]}"}
    return json.loads(lines[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help="only these cases")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per mail before it counts as a hang")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="subprocesses at a time")
    p.add_argument("--inline", action="store_true", help="classify in this process (no cut-off)")
    p.add_argument("--one", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.one:
        print(json.dumps(measure(a.one)), flush=True)
        return 0
    names = a.names or _names()
    started = time.monotonic()
    if a.inline:
        rows = [measure(n) for n in names]
    else:
        with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
            rows = list(pool.map(lambda n: _in_subprocess(n, a.timeout), names))
    rows.sort(key=lambda r: (r["cpu"] is not None, -(r["cpu"] or 0)))
    width = max(len(r["name"]) for r in rows)
    print(f"{'mail':{width}}  {'CPU':>10}  verdict")
    for r in rows:
        cpu = f"{r['cpu']:9.3f}s" if r["cpu"] is not None else f"{'> %g s' % a.timeout if r['verdict'] == 'TIMEOUT' else '-':>10}"
        print(f"{r['name']:{width}}  {cpu:>10}  {r['verdict']} {r['reason']}")
    finished = [r for r in rows if r["cpu"] is not None]
    hung = [r for r in rows if r["verdict"] == "TIMEOUT"]
    crashed = [r for r in rows if r["verdict"] == "CRASHED"]
    worst = rows[0]
    print()
    print(f"mails: {len(rows)}; over {a.timeout:g} s: {len(hung)}; crashed: {len(crashed)}; "
          f"raised: {sum(r['verdict'] == 'RAISED' for r in rows)}")
    print("worst: " + (f"{worst['name']} > {a.timeout:g} s" if worst["cpu"] is None
                       else f"{worst['name']} {worst['cpu']:.3f} s"))
    total = sum(r["cpu"] for r in finished)
    print(f"total: {total:.3f} s CPU for the {len(finished)} mails that finished"
          + (f" (+ {len(hung)} x > {a.timeout:g} s)" if hung else "")
          + f"; wall {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
