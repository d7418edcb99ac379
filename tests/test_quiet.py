"""A quiet stream costs nothing (issue 14): a pass with nothing new rewrites no state."""
import json
import os
from datetime import datetime

from builders import CST, goc_mail


def test_a_sync_with_nothing_new_leaves_the_state_file_alone_and_status_shows_it(cli, tmp_path):
    box = tmp_path / "stream"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    (box / "new" / "1.mail").write_bytes(goc_mail(1, "Title", datetime(2026, 11, 23, 9, tzinfo=CST)))
    env = {"MAILDAEMON_MAILDIR": str(box)}
    code, out, err = cli("sync", "--now", "2026-11-23T10:00", **env)
    assert code == 0 and out.strip().startswith("fetched=1 applied=1"), err
    state = tmp_path / "state" / "maildaemon.json"
    before = os.stat(state)
    code, out, err = cli("sync", "--now", "2026-11-23T11:00", **env)
    assert code == 0 and out.strip().startswith("fetched=0"), err
    after = os.stat(state)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    _, out, _ = cli("status", "--json", **env)
    assert json.loads(out)["last_sync"].startswith("2026-11-23T11:00")
