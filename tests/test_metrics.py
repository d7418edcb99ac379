"""`maildaemon metrics` (SPEC 11), read back with prometheus-client's own parser, as Prometheus would."""
import mailbox
from datetime import datetime

from prometheus_client.parser import text_string_to_metric_families

from builders import CST, goc_mail, rt_mail

SYNC_AT = "2026-11-24T12:00:00-06:00"


def stream(root):
    t = lambda d, h: datetime(2026, 11, d, h, 0, tzinfo=CST)  # noqa: E731
    box = mailbox.Maildir(root / "maildir")
    for raw in (
        goc_mail(41234, "Pilot jobs fail", t(23, 9), n=1, entries=[(t(23, 9), "Jane User", "It fails.")]),
        goc_mail(41235, "Stale one", t(2, 9), assignees=("Ada Lovelace",), next_action="Investigate", n=2,
                 entries=[(t(2, 9), "Ada Lovelace", "Looking.")]),
        rt_mail(1235, "Old and done", t(24, 11), transaction="Status changed from 'open' to 'resolved' by alan",
                actor="Alan Turing", actor_email="alan@example.org", owner="alan", status="resolved", n=4),
        b"From: stranger@evil.example\r\nSubject: ISSUE=1 PROJ=71 hello\r\nMessage-ID: <x@evil>\r\n\r\nhi\r\n",
    ):
        box.add(raw)
    return str(root / "maildir")


def samples(text):
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_after_a_sync_say_what_the_stream_and_the_state_hold(cli):
    maildir = stream(cli.root)
    code, out, err = cli("sync", "--now", SYNC_AT, MAILDAEMON_MAILDIR=maildir)
    assert code == 0, err
    code, out, err = cli("metrics", "--now", "2026-11-24T13:00:00-06:00", MAILDAEMON_MAILDIR=maildir)
    assert code == 0, err
    m = samples(out)
    assert m[("maildaemon_up", ())] == 1
    assert m[("maildaemon_last_sync_timestamp_seconds", ())] == datetime.fromisoformat(SYNC_AT).timestamp()
    assert m[("maildaemon_messages_total", (("outcome", "applied"),))] == 3
    assert m[("maildaemon_messages_total", (("outcome", "quarantined"),))] == 1
    assert m[("maildaemon_messages_total", (("outcome", "duplicate"),))] == 0
    assert m[("maildaemon_open_tickets", ())] == 2
    assert m[("maildaemon_unassigned_tickets", ())] == 1            # goc:41234 has only the triage user
    assert m[("maildaemon_stale_tickets", ())] == 1                 # Ada's, untouched since 11-02
    assert m[("maildaemon_quarantine_entries", ())] == 1
    assert m[("maildaemon_outbox_mails", (("state", "queued"),))] == 0
    assert m[("maildaemon_stream_silent_seconds", ())] == 3600       # applied at the sync, an hour ago
    # the newest notification applied is dated 11-24 11:00 and was applied at 12:00
    assert m[("maildaemon_ingest_lag_seconds", ())] == 3600


def test_an_import_of_old_mail_does_not_make_a_silent_stream_look_alive(cli):
    from builders import write_mbox
    t = lambda d, h: datetime(2026, 11, d, h, 0, tzinfo=CST)  # noqa: E731
    path = write_mbox(cli.root / "a.mbox", [goc_mail(7, "Old", t(2, 9), n=1)])
    assert cli("import", path, "--now", SYNC_AT)[0] == 0
    _, out, _ = cli("metrics", "--now", SYNC_AT)
    m = samples(out)
    assert ("maildaemon_stream_silent_seconds", ()) not in m
    assert ("maildaemon_last_sync_timestamp_seconds", ()) not in m
    assert m[("maildaemon_messages_total", (("outcome", "applied"),))] == 1


def test_sync_replaces_the_metrics_file_atomically_and_readable_by_the_exporter(cli):
    import os
    import stat
    maildir = stream(cli.root)
    path = cli.root / "textfile" / "maildaemon.prom"
    path.parent.mkdir()
    path.write_text("stale\n")
    code, _, err = cli("sync", "--now", SYNC_AT, MAILDAEMON_MAILDIR=maildir, MAILDAEMON_METRICS_FILE=str(path))
    assert code == 0, err
    m = samples(path.read_text())
    assert m[("maildaemon_messages_total", (("outcome", "applied"),))] == 3
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert not [p for p in path.parent.iterdir() if p.name != "maildaemon.prom"]      # no temporary left


def test_the_daemons_tick_writes_the_metrics_file(cli):
    from maildaemon.daemon import Daemon
    maildir = stream(cli.root)
    path = cli.root / "maildaemon.prom"
    env = dict(cli.env, MAILDAEMON_MAILDIR=maildir, MAILDAEMON_METRICS_FILE=str(path))
    assert cli("sync", "--now", SYNC_AT, **env)[0] == 0
    path.unlink()
    daemon = Daemon(None, env, lambda: datetime.fromisoformat("2026-11-24T12:30:00-06:00"))
    daemon.tick()
    m = samples(path.read_text())
    assert m[("maildaemon_stream_silent_seconds", ())] == 1800
