"""The daemon's duty tick while the rotation has no one this week (SPEC 9): nothing is queued and
the log says so once a day. In process, with a Maildir source and the clock passed in."""
import logging
from datetime import datetime

from builders import CST, goc_mail
from maildaemon.daemon import Daemon


def test_the_tick_queues_nothing_and_logs_no_one_on_duty_once_a_day(cli, caplog):
    box = cli.root / "stream"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    (box / "new" / "1.mail").write_bytes(goc_mail(1, "Unowned", datetime(2026, 11, 20, 9, tzinfo=CST), n=1))
    env = dict(cli.env, MAILDAEMON_MAILDIR=str(box))
    assert cli("sync", **env)[0] == 0
    clock = [datetime(2026, 11, 23, 9, 31, tzinfo=CST)]
    daemon = Daemon(None, env, lambda: clock[0])
    caplog.set_level(logging.INFO, logger="maildaemon")
    said = lambda: [r.getMessage() for r in caplog.records if "no one on duty" in r.getMessage()]  # noqa: E731
    for minute in (31, 32, 45):                               # three ticks on Monday
        clock[0] = datetime(2026, 11, 23, 9, minute, tzinfo=CST)
        daemon.tick()
    assert said() == ["no one on duty in the week of 2026-11-23: no mail is sent until a rotation is stored "
                      "(maildaemon rotation load FILE)"]
    clock[0] = datetime(2026, 11, 24, 9, 30, tzinfo=CST)      # the next day says it again
    daemon.tick()
    assert len(said()) == 2
    assert not (cli.root / "state" / "outbox").exists() or list((cli.root / "state" / "outbox").iterdir()) == []
    # a rotation stored: the next tick queues the announcement and the digest, and says nothing more
    (cli.root / "r.txt").write_text("2026-11-23  grace@example.org  Grace Hopper\n")
    assert cli("rotation", "load", str(cli.root / "r.txt"))[0] == 0
    daemon.tick()
    queued = sorted(r.getMessage().split()[1] for r in caplog.records if r.getMessage().startswith("queued"))
    assert queued == ["announcement", "unassigned"] and len(said()) == 2
