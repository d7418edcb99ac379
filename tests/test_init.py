"""`maildaemon init` (SPEC 11, "Starting a team"): a team-file proposal from a mixed stream.

The stream mixes every format: GOC and RT mails from the bench corpus (Ada and Grace answering
Jane's tickets) and every parser fixture (Zammad, the new GGUS on Zammad, old GGUS, Jira, GitHub,
GOC, RT, and a Freshdesk that no built-in parser knows), in Date order, as an mbox and as a
Maildir. The command runs in-process without any team file (that is its point).
"""
from __future__ import annotations

import mailbox
import re
import tomllib
from collections import Counter
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from builders import CST, goc_mail, rt_mail
from builders import write_mbox
from maildaemon.config import check_team_file, load_team, team_from_dict
from maildaemon.model import Change
from maildaemon.propose import SenderHeaders, Seen, Survey, toml_string

FIXTURES = Path(__file__).parent / "parse" / "fixtures"
LIST = "software-support-stream@example.org"
TRUSTED = {"ticket@example.org", "software@rt.example.org", "software-comment@rt.example.org",
           "notifications@github.com", "jira@example.org", "helpdesk@ggus.eu", "noreply@helpdesk.example.org"}
TEAM_TABLES = {"team", "policy", "members"}
NO_TEAM = {"MAILDAEMON_TEAM_FILE": "/nonexistent/team.toml"}


def _date(raw: bytes) -> datetime:
    head = raw.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    line = next(x for x in head.split("\n") if x.startswith("Date:"))
    return parsedate_to_datetime(line[5:].strip())


def corpus_mails() -> list[bytes]:
    """Ada and Grace (team) acting on tickets Jane (a user) opened: GOC and RT, in CST."""
    at = datetime(2026, 11, 23, 9, tzinfo=CST)
    mails = []
    for i, ticket in enumerate((41240, 41241, 41242)):
        t = at.replace(hour=9 + i)
        mails.append(goc_mail(ticket, f"Pilot jobs fail at site {i}", t, n=10 * i,
                              entries=[(t, "Jane User", "It fails.")]))
        later = t.replace(hour=13 + i)
        mails.append(goc_mail(ticket, f"Pilot jobs fail at site {i}", later, n=10 * i + 1,
                              assignees=("Software Support (Triage)", "Ada Lovelace"), next_action="ENG Action",
                              entries=[(later, "Ada Lovelace", "Logs please."), (t, "Jane User", "It fails.")]))
    for i, ticket in enumerate((1250, 1251, 1252)):
        t = at.replace(day=24, hour=9 + i)
        mails.append(rt_mail(ticket, f"Cannot install client {i}", t, n=10 * i, transaction="Ticket created by jane@example.edu",
                             actor="Jane User", actor_email="jane@example.edu"))
        mails.append(rt_mail(ticket, f"Cannot install client {i}", t.replace(hour=14 + i), n=10 * i + 1,
                             transaction="Given to grace by grace", actor="Grace Hopper", actor_email="grace@example.org",
                             owner="grace", status="open"))
    # Jane answering through the list: GOC's subject token, but a person's mail (no Auto-Submitted)
    reply = goc_mail(41240, "Pilot jobs fail at site 0", at.replace(hour=15), n=99, entries=[(at, "Jane User", "Thanks!")])
    reply = reply.replace(b'"GOC Ticket" <ticket@example.org>', b"Jane User <jane@example.edu>")
    mails.append(reply.replace(b"Auto-Submitted: auto-generated\n", b""))
    return mails


def fixture_mails() -> dict[str, list[bytes]]:
    return {d.name: [p.read_bytes() for p in sorted(d.glob("*.eml"))] for d in sorted(FIXTURES.iterdir()) if d.is_dir()}


def mixed_stream() -> tuple[list[bytes], Counter]:
    """The mails in Date order, and how many each system should be credited with."""
    fixtures = fixture_mails()
    counts = Counter({system: len(mails) for system, mails in fixtures.items() if system != "custom"})
    counts["goc"] += 7
    counts["rt"] += 6
    mails = corpus_mails() + [m for ms in fixtures.values() for m in ms]
    return sorted(mails, key=_date), counts


def write_maildir(path: Path, mails: list[bytes]) -> Path:
    box = mailbox.Maildir(path, create=True)
    for raw in mails:
        box.add(mailbox.MaildirMessage(raw))
    return path


@pytest.fixture
def stream(tmp_path):
    mails, counts = mixed_stream()
    return {"mbox": write_mbox(tmp_path / "stream.mbox", mails),
            "maildir": write_maildir(tmp_path / "Maildir", mails), "counts": counts, "total": len(mails)}


def init(cli, *args, **env):
    return cli("init", *args, **{**NO_TEAM, **env})


def member(team: dict, email: str) -> dict:
    return next(m for m in team["members"] if m["email"] == email)


@pytest.mark.parametrize("kind", ["mbox", "maildir"])
def test_init_proposes_the_team_from_a_mixed_stream(cli, stream, kind):
    code, out, err = init(cli, f"--from-{kind}", str(stream[kind]))
    assert code == 0, err
    data = tomllib.loads(out)
    assert set(data) == TEAM_TABLES
    team = data["team"]
    # every system, with its count
    for system, n in stream["counts"].items():
        assert f"#   {system}: {n} mails," in out, system
    assert "#   custom" not in out and "not recognised: 8 mails (support@example.freshdesk.com ×8)" in out
    # the exact senders of the notifications, as trust.py reads them (the list-rewritten RT mail
    # counts as its X-Original-From), and never the list itself
    assert set(team["trusted_senders"]) == TRUSTED
    assert len(team["trusted_senders"]) == len(TRUSTED)
    # a rare sender of another domain than the system's usual one is left for the operator to decide
    assert '    # "support@example.atlassian.net",  # 1; CONFIRM: rare, and not the domain of jira@example.org' in out
    rt = stream["counts"]["rt"]
    assert f'    # rt: {rt} notifications\n    "software@rt.example.org",  # {rt - 1}\n' in out
    assert "# not proposed: jane@example.edu (goc, 1 mails): not machine-made" in out
    assert team["list_address"] == LIST
    assert team["triage_user"] == "Software Support (Triage)" and team["triage_next_action"] == "SOFTWARE TRIAGE"
    # the zone most Date headers carry (CST in November), said to be a guess
    assert team["timezone"] == "America/Chicago"
    assert next(line for line in out.splitlines() if line.startswith("timezone =")).count("a guess")
    # the team side: names, addresses and logins joined across systems; the user is not proposed
    ada, grace = member(data, "ada@example.org"), member(data, "grace@example.org")
    assert ada["name"] == "Ada Lovelace" and "@alovelace" in ada["aliases"]
    assert grace["name"] == "Grace Hopper" and "@ghopper" in grace["aliases"]
    assert {m["email"] for m in data["members"]} == {"ada@example.org", "grace@example.org"}
    assert "#   Jane User <jane@example.edu>: opened" in out
    # people with no address, or only ever assigned, are there to confirm, commented out
    assert '# name = "Alice Operator (GOC)"' in out and '# name = "Jürgen Müller"' in out
    # RT's owner `grace` is grace@example.org (the local part), not a person of its own
    assert not re.search(r'^(# )?name = "(ada|grace)"$', out, re.M)
    # and it loads with the project's own reader
    path = cli.root / "proposal.toml"
    path.write_text(out)
    loaded = load_team(path)
    assert loaded.list_address == LIST and len(loaded.members) == 2
    assert check_team_file(path) == []          # strict reading: no key maildaemon does not know


def test_init_writes_out_and_passes_check_once_a_rotation_is_stored(cli, stream):
    path = cli.root / "new-team.toml"
    code, out, err = init(cli, "--from-maildir", str(stream["maildir"]), "--out", str(path))
    assert code == 0, err
    assert out == "" and path.read_text().startswith("# Team file proposed by `maildaemon init`")
    env = {"MAILDAEMON_TEAM_FILE": str(path), "MAILDAEMON_MAILDIR": str(stream["maildir"])}
    rota = cli.root / "rotation.txt"
    rota.write_text("2026-11-23  ada@example.org  Ada Lovelace\n2026-11-30  grace@example.org  Grace Hopper\n")
    code, _, err = cli("rotation", "load", str(rota), **env)
    assert code == 0, err
    code, out, err = cli("check", "--now", "2026-11-24T10:00", **env)
    assert code == 0, out + err
    assert "ok    config: team 'Software support stream', 2 members" in out


def test_init_never_overwrites(cli, stream):
    path = cli.root / "team-proposal.toml"
    path.write_text("keep me\n")
    code, out, err = init(cli, "--from-mbox", str(stream["mbox"]), "--out", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "exists" in err and str(path) in err
    assert path.read_text() == "keep me\n"
    link = cli.root / "dangling.toml"
    link.symlink_to(cli.root / "nowhere.toml")
    code, _, err = init(cli, "--from-mbox", str(stream["mbox"]), "--out", str(link))
    assert code == 2 and not (cli.root / "nowhere.toml").exists()


def test_init_reads_the_configured_stream_and_only_the_last_mails(cli, stream):
    code, out, err = init(cli, "--last", "6", MAILDAEMON_MAILDIR=str(stream["maildir"]))
    assert code == 0, err
    assert f"# Read: Maildir {stream['maildir']}, the last 6 of {stream['total']} mails." in out
    assert sum(int(x.split()[2]) for x in out.splitlines() if x.startswith("#   ") and " mails, " in x) <= 6
    code, _, err = init(cli)
    assert code == 2 and "MAILDAEMON_IMAP_HOST" in err and err.count("\n") == 1


def test_init_is_bounded_a_big_mail_is_headers_only_and_the_run_has_a_deadline(cli, stream, monkeypatch):
    at = datetime(2026, 11, 25, 9, tzinfo=CST)
    big = goc_mail(41299, "Huge", at, entries=[(at, "Jane User", "log line\n" * 5000)])
    path = write_mbox(cli.root / "big.mbox", mixed_stream()[0] + [big])
    code, out, err = init(cli, "--from-mbox", str(path), MAILDAEMON_MAX_MAIL_BYTES="4096")
    assert code == 0, err
    assert "not read: too large ×1, " in out and f"#   goc: {stream['counts']['goc']} mails," in out
    from maildaemon.cli import init_team as propose_cli
    monkeypatch.setattr(propose_cli, "TIME_BUDGET", 0.0)
    code, out, err = init(cli, "--from-mbox", str(stream["mbox"]))
    assert code == 0, err
    assert "# Stopped reading after 0 s: the proposal rests on the first 1 of the mails asked for." in out
    tomllib.loads(out)


HOSTILE = 'Eve "]\\ [[members]] name = "Mallory" rotation = false \x1b[2J\x07 \u202e\u009b end'


def test_a_hostile_name_from_mail_stays_one_string(cli, tmp_path):
    at = datetime(2026, 11, 23, 9, tzinfo=CST)
    mails = [goc_mail(41234, "Pilot", at, entries=[(at, "Jane User", "It fails.")]),
             goc_mail(41234, "Pilot", at.replace(hour=11), n=1, cc=(f"{HOSTILE} <eve@example.org>",),
                      assignees=("Software Support (Triage)", HOSTILE),
                      entries=[(at.replace(hour=11), HOSTILE, "Logs please."), (at, "Jane User", "It fails.")])]
    code, out, err = init(cli, "--from-mbox", str(write_mbox(tmp_path / "evil.mbox", mails)))
    assert code == 0, err
    data = tomllib.loads(out)
    assert set(data) == TEAM_TABLES
    assert data["members"] == [{"name": HOSTILE, "email": "eve@example.org", "rotation": True}]
    assert not any(c in out for c in "\x1b\x07\u202e\u009b")        # nothing that drives a terminal
    team_from_dict(data)


def test_a_name_with_line_breaks_cannot_add_keys_or_tables():
    """The pure part, fed what no decoder would let through: line breaks, NUL, a lone surrogate."""
    evil = 'Eve"]\n[[members]]\nname = "Mallory"\nemail = "m@evil.test"\r\n[team]\x00\ud800 \\'
    change = Change(key="goc:1", system="goc", id="1", message_id="<a@b>", at=datetime(2026, 11, 23, tzinfo=timezone.utc),
                    kinds=frozenset({"commented"}), actor=evil, assignees=(evil,), submitter="jane@example.edu")
    opened = Change(key="goc:1", system="goc", id="1", message_id="<0@b>", at=datetime(2026, 11, 22, tzinfo=timezone.utc),
                    actor="Jane User <jane@example.edu>", submitter="jane@example.edu")
    survey = Survey()
    for c in (opened, change):
        survey.seen.append(Seen(system="goc", change=c, machine=True,
                                senders=SenderHeaders({"from": ["GOC <ticket@example.org>"]}),
                                list_votes=((LIST, 3),), links=((evil, "eve@example.org", ""),)))
    data = tomllib.loads(survey.proposal('test "]\n[x]'))
    assert set(data) == TEAM_TABLES
    assert data["members"] == [{"name": evil.replace("\ud800", "\ufffd").strip(), "email": "eve@example.org",
                                "rotation": True}]
    assert data["team"]["trusted_senders"] == ["ticket@example.org"]


def test_toml_string_round_trips_every_character():
    text = "".join(chr(c) for c in range(0, 0x3000)) + '"\\\'"""\'\'\''
    assert tomllib.loads(f"v = {toml_string(text)}")["v"] == text
