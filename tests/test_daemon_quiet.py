"""The daemon decides nothing between the moments the agenda names (issue 14: a quiet tick costs
nothing), yet never sends a mail late: a threshold crossed between reminder times is acted on at
its own minute, and a change of the state is decided at once."""
import logging
from datetime import datetime, timedelta
from pathlib import Path

from builders import CST
from maildaemon.daemon import Daemon

ROOT = Path(__file__).resolve().parent.parent
ROTATION = "2026-11-16  ada@example.org  Ada Lovelace\n2026-11-23  grace@example.org  Grace Hopper\n" \
           "2026-11-30  alan@example.org  Alan Turing\n"


def queued(caplog):
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("queued")]


def demo_daemon(cli, caplog, clock: list, rotation: bool = True) -> Daemon:
    """A daemon on the demo's team and stream (an empty Maildir to follow), at `clock[0]`."""
    cli.team_file.write_text((ROOT / "maildaemon/demo/team.toml").read_text())
    assert cli("import", str(ROOT / "maildaemon/demo/stream.mbox"))[0] == 0
    if rotation:
        load_rotation(cli)
    box = cli.root / "stream"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    caplog.set_level(logging.INFO, logger="maildaemon")
    return Daemon(None, dict(cli.env, MAILDAEMON_MAILDIR=str(box)), lambda: clock[0])


def load_rotation(cli) -> None:
    (cli.root / "r.txt").write_text(ROTATION)
    assert cli("rotation", "load", str(cli.root / "r.txt"))[0] == 0


def test_quiet_ticks_still_send_the_stale_reminder_at_its_minute(cli, caplog):
    clock = [datetime(2026, 11, 30, 14, 0, tzinfo=CST)]
    daemon = demo_daemon(cli, caplog, clock)
    daemon.tick()                                              # the 14:00 digest and what else is due
    first = queued(caplog)
    assert any(" unassigned " in q or "unassigned" in q.split()[1] for q in first), first
    sent_at, quiet = {}, 0
    while clock[0] < datetime(2026, 11, 30, 15, 30, tzinfo=CST):
        clock[0] += timedelta(minutes=1)
        before = len(queued(caplog))
        daemon.tick()
        quiet += daemon.quiet is not None and clock[0] < daemon.quiet[1]
        for q in queued(caplog)[before:]:
            sent_at[q.split()[1]] = clock[0].strftime("%H:%M")
    # goc:41250 reaches 2 business days without a team update at 15:10 (see `maildaemon agenda`)
    assert sent_at.get("owner") == "15:10", sent_at
    assert quiet > 40                                          # most minutes decided nothing


def test_a_change_of_the_state_is_decided_at_the_next_tick(cli, caplog):
    clock = [datetime(2026, 11, 30, 9, 31, tzinfo=CST)]
    daemon = demo_daemon(cli, caplog, clock, rotation=False)
    daemon.tick()
    assert queued(caplog) == []                                # no rotation: no one on duty
    load_rotation(cli)
    clock[0] += timedelta(minutes=1)
    daemon.tick()
    assert {q.split()[1] for q in queued(caplog)} >= {"announcement", "unassigned"}
