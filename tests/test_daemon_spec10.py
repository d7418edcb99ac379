"""The daemon's tick picks up SPEC 10's mails (dispatch.plan reads the snoozes and the stream's meta):
the silence alarm at the threshold, once, and a meeting brief in its window. In process, with a
Maildir source read live by `sync` and the clock passed in."""
import logging
from datetime import datetime

from builders import CST, goc_mail
from builders import local
from maildaemon.daemon import Daemon

MEETING = '\n[[meetings]]\nday = "wed"\ntime = "16:00"\nname = "Operations meeting"\nbrief = true\n'


def test_the_tick_queues_the_silence_alarm_once_and_the_brief(cli, caplog):
    cli.team_file.write_text(cli.team_file.read_text() + MEETING)
    box = cli.root / "stream"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    at = datetime(2026, 11, 17, 9, 14, tzinfo=CST)
    (box / "new" / "1.mail").write_bytes(goc_mail(1, "Unowned", at, n=1, entries=[(at, "Jane User", "Help.")]))
    env = dict(cli.env, MAILDAEMON_MAILDIR=str(box))
    assert cli("sync", "--now", "2026-11-17T09:15", **env)[0] == 0        # a live pass: last_applied_at
    (cli.root / "r.txt").write_text("2026-11-16  alan@example.org  Alan Turing\n")
    assert cli("rotation", "load", str(cli.root / "r.txt"))[0] == 0
    clock = [local(2026, 11, 18, 9, 14)]
    daemon = Daemon(None, env, lambda: clock[0])
    caplog.set_level(logging.INFO, logger="maildaemon")

    def queued():
        return [r.getMessage().split()[1] for r in caplog.records if r.getMessage().startswith("queued")]

    daemon.tick()
    assert "silence" not in queued()
    for minute in (15, 16):
        clock[0] = local(2026, 11, 18, 9, minute)
        daemon.tick()
    assert queued().count("silence") == 1
    assert daemon._status_line().endswith("; stream silent since 2026-11-17 09:15")
    clock[0] = local(2026, 11, 18, 15, 29)
    daemon.tick()
    assert "brief" not in queued()
    clock[0] = local(2026, 11, 18, 15, 30)
    daemon.tick()
    daemon.tick()
    assert queued().count("brief") == 1
