"""`maildaemon status`: the health an operator reads (SPEC 2: last successful sync, messages seen,
tickets open, outbox queued/failed, quarantine count, last error), in the team's time zone."""
from __future__ import annotations

import json
import mailbox
import socket
from pathlib import Path

import pytest

from builders import demo_stream

DEMO = Path(__file__).resolve().parents[1] / "maildaemon" / "demo"


@pytest.fixture
def demo_cli(cli):
    """The demo team reading the demo stream from a local Maildir, its rotation stored."""
    cli.team_file.write_text((DEMO / "team.toml").read_text())
    box = mailbox.Maildir(str(cli.root / "stream"), create=True)
    for raw in demo_stream():
        box.add(raw)
    cli.env["MAILDAEMON_MAILDIR"] = str(cli.root / "stream")
    assert cli("rotation", "load", str(DEMO / "rotation.txt"))[0] == 0
    code, out, err = cli("sync", "--now", "2026-11-24T15:00:00+00:00")
    assert (code, out) == (0, "fetched=19 applied=16 duplicate=1 quarantined=1 ignored=1\n"), err
    return cli


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]            # nobody listens there once it is closed


def test_status_text_says_how_the_stream_the_duty_the_quarantine_and_the_outbox_are(demo_cli):
    code, out, err = demo_cli("remind", "--now", "2026-11-24T09:31")
    assert code == 0 and out.splitlines()[-1].startswith("2 mail(s) queued; sent=0 retry=0 failed=0"), err
    code, out, err = demo_cli("status", "--now", "2026-11-24T09:40")
    assert code == 0, err
    root = demo_cli.root
    assert out.splitlines() == [
        f"source:          maildir:{root}/stream",
        "on duty:         Grace Hopper <grace@example.org>, week of 2026-11-23",
        "last sync:       2026-11-24T09:00:00-06:00",                      # 15:00 UTC, in team time
        "messages seen:   18 (applied 16, duplicates 1, ignored 1)",
        "open tickets:    4 of 6",
        "quarantine:      1 entry, 0.0 MB of 500 MB, kept 90 days (see `maildaemon quarantine list`)",
        f"outbox:          no SMTP configured: mail is written to {root}/state/outbox/; queued 0, failed 0, "
        "sent 0, written 2",
        "last error:      none",
        "silent since:    not silent (last notification applied 2026-11-24T09:00:00-06:00)",
    ]


def test_status_json_carries_the_same_figures(demo_cli):
    demo_cli("remind", "--now", "2026-11-24T09:31")
    data = json.loads(demo_cli("status", "--json", "--now", "2026-11-24T09:40")[1])
    assert (data["last_successful_sync"], data["messages_seen"], data["open_tickets"], data["tickets_total"],
            data["quarantine_count"], data["last_error"]) == ("2026-11-24T09:00:00-06:00", 18, 4, 6, 1, None)
    assert {k: data["outbox"][k] for k in ("queued", "failed", "sent", "written", "mode")} == \
        {"queued": 0, "failed": 0, "sent": 0, "written": 2, "mode": "files"}
    assert data["on_duty"]["email"] == "grace@example.org"


def test_status_says_why_mail_waits_while_the_smtp_server_is_unreachable(demo_cli):
    smtp = {"MAILDAEMON_SMTP_HOST": "127.0.0.1", "MAILDAEMON_SMTP_PORT": str(closed_port()),
            "MAILDAEMON_SMTP_SECURITY": "plain"}
    code, out, err = demo_cli("remind", "--now", "2026-11-24T09:31", **smtp)
    assert out.splitlines()[-1] == "2 mail(s) queued; sent=0 retry=2 failed=0" and "Connection refused" in err
    code, out, _ = demo_cli("status", "--now", "2026-11-24T09:40", **smtp)
    assert "queued 2, failed 0" in out
    assert "Connection refused" in out, out
