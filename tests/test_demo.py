"""`maildaemon demo`: the README's first command, with no servers and no configuration."""
import email
import io
import os
from email.policy import default
from pathlib import Path

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


EXPECTED = Path(__file__).parent / "expected" / "demo"


def shown(raw: bytes) -> str:
    """A mail as a person reads it: who it is from and to, the subject, the text part."""
    msg = email.message_from_bytes(raw, policy=default)
    head = "".join(f"{h}: {msg[h]}\n" for h in ("From", "Reply-To", "To", "Cc", "Subject") if msg[h] is not None)
    return head + "\n" + msg.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_the_demos_mails_read_as_reviewed(tmp_path, monkeypatch):
    """Every text part the demo writes, compared with the reviewed copy in tests/expected/demo/: a change
    of wording, a unit, a count or a column is a visible diff. To accept a change on purpose, run with
    MAILDAEMON_WRITE_EXPECTED=1 and review `git diff tests/expected/demo`."""
    monkeypatch.chdir(tmp_path)
    assert main(["demo"], environ={}, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    files = sorted((tmp_path / "demo-out").glob("*.eml"))
    got = {f"{f.name.split('-')[0]}-{f.name.split('.')[1]}.txt": shown(f.read_bytes()) for f in files}
    if os.environ.get("MAILDAEMON_WRITE_EXPECTED"):
        EXPECTED.mkdir(parents=True, exist_ok=True)
        for old in EXPECTED.glob("*.txt"):
            old.unlink()
        for name, text in got.items():
            (EXPECTED / name).write_text(text)
    assert sorted(got) == sorted(p.name for p in EXPECTED.glob("*.txt"))
    for name, text in got.items():
        assert text == (EXPECTED / name).read_text(), name
        assert all(len(line) <= 78 for line in text.split("\n\n", 1)[1].splitlines()), name
