"""`maildaemon demo`: the README's first command, with no servers and no configuration."""
import email
import io
from email.policy import default

from maildaemon.cli import main


def test_demo_plays_the_week_and_writes_every_mail(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    assert main(["demo"], environ={}, stdout=out, stderr=err) == 0, err.getvalue()
    text = out.getvalue()
    files = sorted((tmp_path / "demo-out").glob("*.eml"))
    mail_lines = [line for line in text.splitlines() if " to " in line and line[:3] in ("Mon", "Tue", "Wed", "Fri")]
    assert len(files) == len(mail_lines) >= 8
    assert "Thanksgiving Day: a public holiday, no reminders" in text
    assert not any(line.startswith("Thu 2026-11-26 ") and " to " in line for line in text.splitlines())
    kinds = [email.message_from_bytes(f.read_bytes(), policy=default)["X-Maildaemon-Kind"] for f in files]
    assert kinds[0] == "announcement" and kinds[-1] == "handoff" and "unassigned" in kinds and "owner" in kinds
    handoff = email.message_from_bytes(files[-1].read_bytes(), policy=default)
    body = handoff.get_body(("plain",)).get_content()
    assert "This week: Grace Hopper\r\nNext week: Alan Turing\r\n" in body or \
        "This week: Grace Hopper\nNext week: Alan Turing\n" in body
    assert "quarantined" in text and "goc:41250" in text


def test_demo_twice_starts_fresh(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runs = []
    for _ in range(2):
        out = io.StringIO()
        assert main(["demo"], environ={}, stdout=out, stderr=io.StringIO()) == 0
        runs.append((out.getvalue(), len(list((tmp_path / "demo-out").glob("*.eml")))))
    assert runs[0] == runs[1]              # same story, same mails: nothing left over from the first run
