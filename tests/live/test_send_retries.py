"""Temporary and permanent SMTP answers, one mail at a time, as the operator sees them (SPEC 9,
"Sending"; README, "The outbox").

A 4xx (at RCPT, to the DATA command, after the data) keeps the mail queued and tries it again after
1, 2, 5, 10 and 30 minutes, then every hour, until its last attempt, after which it is `failed`
with the reason; a 5xx fails that mail for good while the rest of the queue still goes; a server
that hangs up with 421 costs one attempt. Whatever happens, the server receives each mail once.

Time is `--now` (the product reads no other clock): nothing here sleeps. `handoff --now` after
Friday 15:00 and `remind --now` inside a reminder slot queue nothing new, so they only run the send
pass. Real servers: aiosmtpd (smtp.SmtpServer), and smtp.Scripted where aiosmtpd cannot misbehave.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest

from smtp import Scripted
from test_send import duty_cli  # noqa: F401  (the demo team, its stream, a rotation, aiosmtpd)

pytestmark = pytest.mark.live

HANDOFF = datetime(2026, 11, 27, 15, 0)          # Friday: the week's handoff falls due (team time)
REMIND = datetime(2026, 11, 24, 9, 31)           # Tuesday: the announcement and the unassigned digest
GAPS = (60, 120, 300, 600, 1800, 3600)           # seconds after attempt 1, 2, ...; hourly from the 6th on
NOTHING = "0 mail(s) queued; sent=0 retry=0 failed=0\n"


def at(start: datetime, seconds: float = 0) -> str:
    return (start + timedelta(seconds=seconds)).isoformat()


def not_sent(err: str) -> dict[str, int]:
    """Message-ID -> attempt, from the log lines of mails that wait for another attempt."""
    return {m: int(n) for m, n in re.findall(r"outbox: (<[^>]+>) not sent \(attempt (\d+)\)", err)}


def outbox_status(cli) -> dict:
    code, out, err = cli("status", "--json")
    assert code == 0, err
    return json.loads(out)["outbox"]


def ids(messages) -> list[str]:
    return [m["message"]["Message-ID"] for m in messages]


# --- 4xx: retried on the schedule, then given up --------------------------------------------

def test_a_451_at_rcpt_is_retried_on_the_backoff_schedule_then_failed_after_the_last_attempt(duty_cli, smtp_server):
    sink = smtp_server.sink
    sink.refuse = "451 4.3.0 try later"
    code, out, err = duty_cli("handoff", "--now", at(HANDOFF))
    assert code == 0 and out.endswith("\n1 mail(s) queued; sent=0 retry=1 failed=0\n"), (out, err)
    [(handoff, attempt)] = not_sent(err).items()
    assert attempt == 1 and "recipients refused" in err and "451 4.3.0 try later" in err
    t, attempts = 0, 1
    while "failed=1" not in out:
        gap = GAPS[min(attempts, len(GAPS)) - 1]
        # a second before its time the mail is left alone (and nothing is said about it)
        assert duty_cli("handoff", "--now", at(HANDOFF, t + gap - 1)) == (0, NOTHING, "")
        t, attempts = t + gap, attempts + 1
        code, out, err = duty_cli("handoff", "--now", at(HANDOFF, t))
        assert attempts <= 48, "still retrying after two days of attempts"
        if "failed=1" not in out:
            assert (code, out, not_sent(err)) == (0, "0 mail(s) queued; sent=0 retry=1 failed=0\n",
                                                  {handoff: attempts})
    # the last attempt: exit 1, and the reason names the attempts and the server's own words
    assert (code, out) == (1, "0 mail(s) queued; sent=0 retry=0 failed=1\n")
    assert f"outbox: {handoff} failed: gave up after {attempts} attempts: " in err and "451 4.3.0 try later" in err
    assert [a for _, a, _ in sink.answers].count("alan@example.org") == attempts      # each attempt reached RCPT
    box = outbox_status(duty_cli)
    assert (box["queued"], box["sending"], box["failed"], box["sent"]) == (0, 0, 1, 0)
    [failure] = box["failures"]
    assert (failure["id"], failure["kind"]) == (handoff, "handoff")
    assert failure["error"].startswith(f"gave up after {attempts} attempts: SMTP 127.0.0.1:{smtp_server.port}: ")
    assert "451 4.3.0 try later" in failure["error"] and "\n" not in failure["error"]
    assert "queued 0, failed 1, sent 0" in duty_cli("status")[1]
    # the server takes mail again: a failed mail stays failed, nothing goes out behind the operator's back
    sink.refuse = None
    assert duty_cli("handoff", "--now", at(HANDOFF, t + 86400)) == (0, NOTHING, "")
    assert smtp_server.messages == [] and sink.tried(handoff) == 0


def test_temporary_failures_are_retried_for_about_a_day_as_the_readme_says(duty_cli, smtp_server):
    smtp_server.sink.refuse = "451 4.3.0 try later"
    t, attempts = 0, 1
    code, out, err = duty_cli("handoff", "--now", at(HANDOFF))
    while "failed=1" not in out and attempts <= 48:
        t, attempts = t + GAPS[min(attempts, len(GAPS)) - 1], attempts + 1
        code, out, err = duty_cli("handoff", "--now", at(HANDOFF, t))
    assert "failed=1" in out and timedelta(hours=20) <= timedelta(seconds=t) <= timedelta(hours=30), \
        f"gave up {timedelta(seconds=t)} after the first attempt, after {attempts} attempts"


def test_a_451_after_the_data_keeps_that_mail_queued_while_the_others_go_and_it_arrives_once(duty_cli, smtp_server):
    greylisted: list[str] = []

    def data(message):                    # the first mail of the pass is refused once, after its data
        if not greylisted:
            greylisted.append(message["Message-ID"])
            return "451 4.7.1 greylisted, please try again later"
        return None

    smtp_server.sink.data = data
    code, out, err = duty_cli("remind", "--now", at(REMIND))
    assert (code, out.splitlines()[-1]) == (0, "2 mail(s) queued; sent=1 retry=1 failed=0"), err
    [first] = greylisted
    assert not_sent(err) == {first: 1} and "451 4.7.1 greylisted" in err
    [other] = ids(smtp_server.messages)
    assert other != first
    box = outbox_status(duty_cli)
    assert (box["queued"], box["sent"], box["failed"]) == (1, 1, 0)
    assert duty_cli("remind", "--now", at(REMIND, 59)) == (0, NOTHING, "")
    code, out, err = duty_cli("remind", "--now", at(REMIND, 60))
    assert (code, out) == (0, "0 mail(s) queued; sent=1 retry=0 failed=0\n"), err
    assert duty_cli("remind", "--now", at(REMIND, 3600)) == (0, NOTHING, "")
    assert sorted(ids(smtp_server.messages)) == sorted([first, other])           # each once
    assert smtp_server.sink.tried(first) == 2 and smtp_server.sink.tried(other) == 1
    box = outbox_status(duty_cli)
    assert (box["queued"], box["sent"], box["failed"]) == (0, 2, 0)


# --- 5xx: failed for good, the rest of the queue goes ----------------------------------------

def test_a_554_after_the_data_fails_that_mail_for_good_and_the_rest_of_the_queue_goes(duty_cli, smtp_server):
    rejected: list[str] = []

    def data(message):
        rejected.append(rejected[0] if rejected else message["Message-ID"])
        return "554 5.7.1 message content rejected" if message["Message-ID"] == rejected[0] else None

    smtp_server.sink.data = data
    code, out, err = duty_cli("remind", "--now", at(REMIND))
    assert (code, out.splitlines()[-1]) == (1, "2 mail(s) queued; sent=1 retry=0 failed=1"), err
    bad = rejected[0]
    assert f"outbox: {bad} failed: SMTP 127.0.0.1:{smtp_server.port}: 554 5.7.1 message content rejected" in err
    [good] = ids(smtp_server.messages)
    assert good != bad
    box = outbox_status(duty_cli)
    assert (box["queued"], box["sent"], box["failed"]) == (0, 1, 1)
    assert [(f["id"], f["error"]) for f in box["failures"]] == \
        [(bad, f"SMTP 127.0.0.1:{smtp_server.port}: 554 5.7.1 message content rejected")]
    # later passes, the server taking everything again: never tried again
    smtp_server.sink.data = lambda message: None
    for later in (60, 3600, 4 * 3600):
        assert duty_cli("remind", "--now", at(REMIND, later)) == (0, NOTHING, "")
    assert smtp_server.sink.tried(bad) == 1 and ids(smtp_server.messages) == [good]


def test_a_recipient_the_server_refuses_fails_that_mail_with_the_reason_and_the_others_get_it_once(duty_cli,
                                                                                                 smtp_server):
    smtp_server.sink.rcpt = lambda address: "550 5.1.1 <katherine@example.org>: Recipient address rejected" \
        if address == "katherine@example.org" else None
    code, out, err = duty_cli("remind", "--now", at(REMIND))
    assert (code, out.splitlines()[-1]) == (1, "2 mail(s) queued; sent=1 retry=0 failed=1"), err
    announcement = next(m for m in smtp_server.messages if m["message"]["X-Maildaemon-Kind"] == "announcement")
    assert "katherine@example.org" not in announcement["to"] and len(announcement["to"]) >= 2
    [failure] = outbox_status(duty_cli)["failures"]
    assert (failure["id"], failure["kind"]) == (announcement["message"]["Message-ID"], "announcement")
    assert "katherine@example.org: 550 5.1.1" in failure["error"] and "Recipient address rejected" in failure["error"]
    # failed is final: the recipients who took it never get it twice
    assert duty_cli("remind", "--now", at(REMIND, 3600)) == (0, NOTHING, "")
    assert len(smtp_server.messages) == 2


# --- what aiosmtpd cannot do: a refused DATA command, a 421 and a hang-up ---------------------

@pytest.fixture
def scripted():
    servers = []

    def start(replies: dict[str, list[str]]) -> Scripted:
        servers.append(Scripted(replies))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def test_a_451_to_the_data_command_is_temporary_and_the_mail_goes_at_its_next_attempt(duty_cli, scripted):
    server = scripted({"DATA": ["451 4.3.0 queue full, try again later", "354 go ahead"]})
    port = str(server.port)
    code, out, err = duty_cli("remind", "--now", at(REMIND), MAILDAEMON_SMTP_PORT=port)
    assert (code, out.splitlines()[-1]) == (0, "2 mail(s) queued; sent=1 retry=1 failed=0"), err
    [(first, attempt)] = not_sent(err).items()
    assert attempt == 1 and "451 4.3.0 queue full" in err and len(server.delivered) == 1
    code, out, err = duty_cli("remind", "--now", at(REMIND, 60), MAILDAEMON_SMTP_PORT=port)
    assert (code, out) == (0, "0 mail(s) queued; sent=1 retry=0 failed=0\n"), err
    assert len(server.delivered) == 2 and first.encode() in server.delivered[1]
    assert first.encode() not in server.delivered[0]


def test_a_554_to_the_data_command_fails_that_mail_alone_and_the_next_mail_goes(duty_cli, scripted):
    # the server refuses the first mail's DATA command; like Postfix, it keeps that transaction open
    # until the client says RSET, so a client that does not would see the next mail refused too
    server = scripted({"DATA": ["554 5.7.1 sender blocked by policy", "354 go ahead"]})
    code, out, err = duty_cli("remind", "--now", at(REMIND), MAILDAEMON_SMTP_PORT=str(server.port))
    assert (code, out.splitlines()[-1]) == (1, "2 mail(s) queued; sent=1 retry=0 failed=1"), (out, err)
    assert "554 5.7.1 sender blocked by policy" in err and "nested MAIL" not in err
    assert len(server.delivered) == 1 and server.connections == 1          # the same connection goes on
    [failure] = outbox_status(duty_cli)["failures"]
    assert failure["error"].endswith("554 5.7.1 sender blocked by policy")


def test_a_multi_line_refusal_is_kept_as_one_line(duty_cli, scripted):
    server = scripted({".": ["554-5.7.1 The message was rejected by the content filter.\r\n"
                             "554 5.7.1 See https://mx.example.org/why for details.", "250 queued"]})
    code, out, err = duty_cli("remind", "--now", at(REMIND), MAILDAEMON_SMTP_PORT=str(server.port))
    assert code == 1 and len(server.delivered) == 1
    [failure] = outbox_status(duty_cli)["failures"]
    assert "\n" not in failure["error"] and failure["error"].endswith(
        "554 5.7.1 The message was rejected by the content filter. 5.7.1 See https://mx.example.org/why for details.")


def test_a_server_that_says_421_and_hangs_up_costs_one_attempt_and_the_next_mail_takes_a_new_connection(
        duty_cli, scripted):
    server = scripted({"RCPT": ["421 4.3.2 Service shutting down, closing channel", "250 ok"]})
    port = str(server.port)
    code, out, err = duty_cli("remind", "--now", at(REMIND), MAILDAEMON_SMTP_PORT=port)
    assert (code, out.splitlines()[-1]) == (0, "2 mail(s) queued; sent=1 retry=1 failed=0"), err
    [(first, attempt)] = not_sent(err).items()
    assert attempt == 1 and "421" in err and server.connections == 2 and len(server.delivered) == 1
    code, out, err = duty_cli("remind", "--now", at(REMIND, 60), MAILDAEMON_SMTP_PORT=port)
    assert (code, out) == (0, "0 mail(s) queued; sent=1 retry=0 failed=0\n"), err
    assert len(server.delivered) == 2 and first.encode() in server.delivered[1]


def test_status_text_names_a_failed_mail_and_its_reason(duty_cli, smtp_server):
    smtp_server.sink.data = lambda message: "554 5.7.1 message content rejected"
    code, out, err = duty_cli("handoff", "--now", at(HANDOFF))
    assert code == 1 and out.endswith("1 mail(s) queued; sent=0 retry=0 failed=1\n"), err
    out = duty_cli("status")[1]
    assert "queued 0, failed 1" in out
    assert "554 5.7.1 message content rejected" in out, out
