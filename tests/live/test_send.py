"""Reminders and the handoff through a real SMTP server (aiosmtpd), read as their recipients would."""
from __future__ import annotations

import json
import mailbox
from dataclasses import replace

import pytest

from pathlib import Path

from maildaemon.store import Store

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
STREAM = str(ROOT / "maildaemon/demo/stream.mbox")
TEAM = ROOT / "maildaemon/demo/team.toml"
ROTATION = "2026-11-16  ada@example.org  Ada Lovelace\n2026-11-23  grace@example.org  Grace Hopper\n" \
           "2026-11-30  alan@example.org  Alan Turing\n"


@pytest.fixture
def duty_cli(cli, smtp_server, tmp_path):
    cli.team_file.write_text(TEAM.read_text())
    cli.env.update(MAILDAEMON_SMTP_HOST="127.0.0.1", MAILDAEMON_SMTP_PORT=str(smtp_server.port),
                   MAILDAEMON_SMTP_SECURITY="plain")
    assert cli("import", STREAM)[0] == 0
    (tmp_path / "rotation.txt").write_text(ROTATION)
    assert cli("rotation", "load", str(tmp_path / "rotation.txt"))[0] == 0
    return cli


def test_tuesday_morning_reminders_arrive_signed_by_the_person_on_duty(duty_cli, smtp_server):
    code, out, err = duty_cli("remind", "--now", "2026-11-24T09:31")
    assert code == 0, err
    got = {m["message"]["X-Maildaemon-Kind"]: m for m in smtp_server.messages}
    assert set(got) == {"announcement", "unassigned"}
    digest = got["unassigned"]["message"]
    assert digest["From"] == '"Grace Hopper (Software Team)" <software-triage@example.org>'
    assert digest["Reply-To"] == "Grace Hopper <grace@example.org>"
    assert digest["To"] == "grace@example.org" and got["unassigned"]["to"] == ["grace@example.org"]
    assert digest["Auto-Submitted"] == "auto-generated"
    assert digest["Message-ID"] == "<maildaemon.unassigned.digest.2026-11-24T0930@example.org>" or \
        digest["Message-ID"].startswith("<maildaemon.unassigned.")
    text = digest.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "goc:41240" in text and "HTCondor-CE upgrade question" in text
    assert text.rstrip().endswith("Grace Hopper\non duty for Software Team")
    assert digest.get_body(("html",)) is not None
    announcement = got["announcement"]["message"].get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "This week: Grace Hopper" in announcement and "Next week: Alan Turing" in announcement
    # the same moment again, or a restart later in the slot: nothing is sent twice
    code, out, _ = duty_cli("remind", "--now", "2026-11-24T10:15")
    assert code == 0 and len(smtp_server.messages) == 2 and out.strip().startswith("0 mail(s) queued")
    status = json.loads(duty_cli("status", "--json")[1])["outbox"]
    assert (status["sent"], status["queued"], status["failed"], status["mode"]) == (2, 0, 0, "smtp")


def test_owner_reminder_threads_under_the_ticket_and_copies_the_person_on_duty(duty_cli, smtp_server):
    # goc:41250 reaches 2 business days without a team update (Thanksgiving and the weekend not
    # counted) on Monday at 15:10: `maildaemon agenda` lists its owner reminder there
    duty_cli("remind", "--now", "2026-11-30T15:11")
    owner = [m for m in smtp_server.messages if m["message"]["X-Maildaemon-Kind"] == "owner"]
    assert owner, [m["message"]["Subject"] for m in smtp_server.messages]
    by_ticket = {m["message"]["Subject"]: m for m in owner}
    m = next(v for k, v in by_ticket.items() if "goc:41250" in k)
    assert m["to"] == ["ada@example.org", "alan@example.org"]                # owner, Cc the person on duty
    assert m["message"]["Cc"] == "alan@example.org"
    assert m["message"]["In-Reply-To"].startswith("<goc.41250.")
    assert m["message"]["From"] == '"Alan Turing (Software Team)" <software-triage@example.org>'


def test_smtp_outage_keeps_mail_queued_then_delivers_it_once(duty_cli, smtp_server):
    smtp_server.stop()
    code, out, _ = duty_cli("remind", "--now", "2026-11-24T09:31")
    assert "2 mail(s) queued; sent=0 retry=2" in out
    status = json.loads(duty_cli("status", "--json")[1])["outbox"]
    assert status["queued"] == 2
    smtp_server.start()
    code, out, _ = duty_cli("remind", "--now", "2026-11-24T10:00")
    assert "sent=2" in out and len(smtp_server.messages) == 2
    duty_cli("remind", "--now", "2026-11-24T11:00")
    assert len(smtp_server.messages) == 2


def test_permanent_refusal_is_kept_with_its_reason(duty_cli, smtp_server):
    smtp_server.sink.refuse = "550 5.1.1 <grace@example.org>: Recipient address rejected"
    code, out, _ = duty_cli("handoff", "--now", "2026-11-27T15:00")
    assert code == 1 and "failed=1" in out
    status = json.loads(duty_cli("status", "--json")[1])["outbox"]
    assert status["failed"] == 1 and "550" in status["failures"][0]["error"]
    assert smtp_server.messages == []


def test_a_crash_while_sending_resends_with_the_same_message_id_unless_it_came_back(duty_cli, smtp_server, tmp_path):
    duty_cli("handoff", "--now", "2026-11-27T15:00")
    [first] = smtp_server.messages
    store = Store(duty_cli.root / "state")
    with store.transaction() as txn:              # as if killed after the server's 250
        txn.put_outbox(replace(txn.outbox_record(first["message"]["Message-ID"]), state="sending"))
        txn.commit()
    duty_cli("remind", "--now", "2026-11-27T15:05")
    handoffs = [m for m in smtp_server.messages if m["message"]["X-Maildaemon-Kind"] == "handoff"]
    assert len(handoffs) == 2 and handoffs[1]["message"]["Message-ID"] == first["message"]["Message-ID"]
    # our own mail coming back through the list confirms it and changes no ticket
    with store.transaction() as txn:
        txn.put_outbox(replace(txn.outbox_record(first["message"]["Message-ID"]), state="sending"))
        txn.commit()
    box = mailbox.mbox(str(tmp_path / "back.mbox"))
    box.add(first["raw"])
    box.close()
    code, out, _ = duty_cli("import", str(tmp_path / "back.mbox"))
    assert out.strip() == "fetched=1 applied=0 duplicate=0 quarantined=0 ignored=1"
    duty_cli("remind", "--now", "2026-11-27T15:10")
    assert len([m for m in smtp_server.messages if m["message"]["X-Maildaemon-Kind"] == "handoff"]) == 2


def test_handoff_reads_like_the_weekly_meeting_notes(duty_cli, smtp_server):
    code, out, err = duty_cli("handoff", "--now", "2026-11-27T15:00")
    assert code == 0, err
    [m] = smtp_server.messages
    assert m["to"] == ["alan@example.org", "ada@example.org", "grace@example.org", "katherine@example.org"]
    text = m["message"].get_body(("plain",)).get_content().replace("\r\n", "\n")
    lines = text.splitlines()
    i = lines.index("This week: Grace Hopper")
    assert lines[i + 1:i + 3] == ["Next week: Alan Turing", "4 (+4) open tickets"]
    html = m["message"].get_body(("html",)).get_content()
    assert "<script" not in html and "background:#0969da" in html      # the bar chart, inline styles only


def test_no_smtp_configured_writes_eml_files(cli, tmp_path):
    cli.team_file.write_text(TEAM.read_text())
    cli("import", STREAM)
    (tmp_path / "rotation.txt").write_text(ROTATION)
    assert cli("rotation", "load", str(tmp_path / "rotation.txt"))[0] == 0
    code, out, _ = cli("handoff", "--now", "2026-11-27T15:00")
    assert code == 0 and "no SMTP configured" in out
    files = list((cli.root / "state" / "outbox").glob("*.eml"))
    assert len(files) == 1 and b"Auto-Submitted: auto-generated" in files[0].read_bytes()
    assert json.loads(cli("status", "--json")[1])["outbox"]["written"] == 1
