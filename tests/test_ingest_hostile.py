"""SPEC 9 through the command line: one bad mail never stops the stream, nobody claims what is not theirs."""
import json
from datetime import datetime
from pathlib import Path

from builders import CST, goc_mail
from maildaemon import ownmail
from maildaemon.store.key import load_key
from builders import write_mbox

FIXTURES = Path(__file__).parent / "parse" / "fixtures"
AT = datetime(2026, 11, 23, 9, 0, tzinfo=CST)



def nested(depth: int) -> bytes:
    s = b"From: x@y.org\nSubject: deep\nMessage-ID: <deep@x>\nContent-Type: multipart/mixed; boundary=b0\n\n"
    for i in range(depth):
        s += b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (i, i + 1)
    return s + b"--b%d\nContent-Type: text/plain\n\nhi\n" % depth


def test_a_mail_that_breaks_the_parser_is_quarantined_and_the_stream_goes_on(cli):
    path = write_mbox(cli.root / "a.mbox", [goc_mail(1, "First", AT), nested(1000), goc_mail(2, "Second", AT)])
    code, out, err = cli("import", path)
    assert code == 0, err
    assert out.strip() == "fetched=3 applied=2 duplicate=0 quarantined=1 ignored=0"
    _, out, _ = cli("tickets", "--json")
    assert {t["key"] for t in json.loads(out)} == {"goc:1", "goc:2"}
    _, out, _ = cli("quarantine", "list", "--json")
    [entry] = json.loads(out)
    assert entry["message_id"] == "<deep@x>" and entry["reason"].startswith("unreadable")


def test_an_ignored_mail_never_claims_the_message_id_of_a_real_notification(cli):
    cli.team_file.write_text(cli.team_file.read_text().replace(
        '"*@rt.example.org"]', '"*@rt.example.org", "notifications@github.com"]'))
    real = (FIXTURES / "github" / "create.eml").read_bytes()
    squatter = (b"From: mallory@attacker.test\nSubject: Re: hello\nAuto-Submitted: auto-replied\n"
                b"Message-ID: <example-org/client/issues/45@github.com>\n\nI am away.\n")
    code, out, err = cli("import", write_mbox(cli.root / "a.mbox", [squatter, real]))
    assert code == 0, err
    assert out.strip() == "fetched=2 applied=1 duplicate=0 quarantined=0 ignored=1"
    _, out, _ = cli("tickets", "--json")
    assert [t["key"] for t in json.loads(out)] == ["github:example-org/client#45"]


def test_a_quarantined_mail_never_claims_the_message_id_either(cli):
    real = goc_mail(7, "Real", AT)
    forged = real.replace(b'From: "GOC Ticket" <ticket@example.org>', b"From: Mallory <mallory@attacker.test>")
    code, out, err = cli("import", write_mbox(cli.root / "a.mbox", [forged, real]))
    assert code == 0, err
    assert out.strip() == "fetched=2 applied=1 duplicate=0 quarantined=1 ignored=0"


def test_only_mail_carrying_our_keyed_token_is_our_own(cli):
    cli("import", write_mbox(cli.root / "empty.mbox", []))            # makes the state and its key
    key = load_key(cli.root / "state")
    ours = ownmail.message_id("announcement.team.week-2026-11-23", "example.org", key)
    imitation = "<maildaemon.announcement.team.week-2026-11-23@example.org>"
    mails = [b"From: software-triage@example.org\nSubject: This week\nMessage-ID: %s\n\nhi\n" % m.encode()
             for m in (ours, imitation)]
    code, out, err = cli("import", write_mbox(cli.root / "b.mbox", mails))
    assert code == 0, err
    assert out.strip() == "fetched=2 applied=0 duplicate=0 quarantined=1 ignored=1"
    _, out, _ = cli("quarantine", "list", "--json")
    assert [e["message_id"] for e in json.loads(out)] == [imitation]
