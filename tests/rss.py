"""How much reading a source makes a process grow: a child Python builds `source` from the given
lines, reads every batch, and reports its mails' sizes and the growth of its peak RSS.

VmHWM is the process's own high-water mark; not ru_maxrss, which Linux keeps across fork and exec,
so the child would start with the test runner's peak (which holds the test mail)."""
import json
import subprocess
import sys

_HEAD = """
def peak_rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmHWM:"))
import json, os, sys
"""
_TAIL = """
base = peak_rss()
mails = [(len(m.data), m.oversize) for batch, _ in source.batches(None) for m in batch]
print(json.dumps({"growth": peak_rss() - base, "mails": mails}))
"""


def read_in_child(make_source: str, *args, env=None) -> dict:
    """{"growth": bytes, "mails": [[len(data), oversize], ...]} of a child that ran `make_source`
    (Python lines that bind `source`; `sys.argv[1:]` are `args`) and read every batch."""
    done = subprocess.run([sys.executable, "-c", _HEAD + make_source + _TAIL, *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
