"""The quarantine: bounded by age and size (SPEC 9, Limits), tolerant of old and new entries, and
shown on a terminal without letting a mail drive it (SPEC 9, "The state folder")."""
import hashlib
import json
import mailbox
import os
from datetime import datetime, timedelta, timezone

import pytest

from builders import CST, goc_mail, write_mbox
from maildaemon.quarantine import QuarantineEntry, Quarantine

T0 = datetime(2026, 1, 5, 12, tzinfo=timezone.utc)


def stamp(days: float) -> str:
    return (T0 + timedelta(days=days)).isoformat(timespec="seconds")


def put(q: Quarantine, n: int, days: float, size: int = 100) -> QuarantineEntry:
    raw = f"Subject: mail {n}\n\n".encode() + bytes([65 + n % 26]) * size
    return q.put(raw, "unknown format", f"<{n}@x>", f"mail {n}", "someone@example.org", f"test:{n}", stamp(days))


def ids(q: Quarantine) -> list[str]:
    return [e.subject for e in q.list()]


# --- bounds ---------------------------------------------------------------------------------

def test_entries_older_than_the_days_limit_go_at_the_next_put(tmp_path):
    q = Quarantine(tmp_path, max_bytes=None, max_days=90)
    put(q, 1, 0)
    put(q, 2, 50)
    assert ids(q) == ["mail 1", "mail 2"]
    put(q, 3, 100)                       # mail 1 is now 100 days old, mail 2 50
    assert ids(q) == ["mail 2", "mail 3"]
    assert sorted(p.name for p in (tmp_path / "quarantine").iterdir()) == sorted(
        f"{e.id}{s}" for e in q.list() for s in (".eml", ".json"))


def test_a_new_quarantine_object_prunes_what_an_older_run_left(tmp_path):
    put(Quarantine(tmp_path, max_bytes=None, max_days=None), 1, 0)
    put(Quarantine(tmp_path, max_bytes=None, max_days=None), 2, 95)
    assert len(Quarantine(tmp_path).list()) == 2
    put(Quarantine(tmp_path, max_bytes=None, max_days=90), 3, 96)     # reads the folder, then bounds it
    assert ids(Quarantine(tmp_path)) == ["mail 2", "mail 3"]


def test_the_oldest_entries_go_until_the_size_cap_holds(tmp_path):
    q = Quarantine(tmp_path, max_bytes=10_000, max_days=None)
    for n in range(8):
        put(q, n, n, size=2000)          # each entry: about 2 KB of mail and 0.2 KB of JSON
    count, size = q.usage()
    assert size <= 10_000 and count == 4
    assert ids(q) == ["mail 4", "mail 5", "mail 6", "mail 7"]     # oldest first out
    # the cache of one Quarantine object and the folder agree
    assert Quarantine(tmp_path).usage() == (count, size)


def test_prune_on_demand_by_age_then_size(tmp_path):
    q = Quarantine(tmp_path, max_bytes=None, max_days=None)
    for n in range(6):
        put(q, n, n * 10, size=1000)
    removed = Quarantine(tmp_path).prune(T0 + timedelta(days=75), max_bytes=2_600, max_days=40)
    assert len(removed) == 4                       # mails 0..3 too old; 4 and 5 fit in 2.6 KB
    assert ids(Quarantine(tmp_path)) == ["mail 4", "mail 5"]
    removed = Quarantine(tmp_path).prune(stamp(75), max_bytes=1_500, max_days=40)
    assert ids(Quarantine(tmp_path)) == ["mail 5"] and len(removed) == 1


def test_released_entries_leave_the_count(tmp_path):
    q = Quarantine(tmp_path, max_bytes=5_000, max_days=None)
    a = put(q, 1, 0, size=2000)
    put(q, 2, 1, size=2000)
    q.release(a.id)
    put(q, 3, 2, size=2000)              # 2 + 3 fit: nothing more removed after the release
    assert ids(q) == ["mail 2", "mail 3"]


def test_an_orphan_mail_file_counts_and_goes_first(tmp_path):
    q = Quarantine(tmp_path, max_bytes=None, max_days=None)
    put(q, 1, 0)
    folder = tmp_path / "quarantine"
    (folder / "0123456789ab.eml").write_bytes(b"x" * 5000)      # a crash between .eml and .json
    old = (T0 - timedelta(days=1)).timestamp()
    os.utime(folder / "0123456789ab.eml", (old, old))
    q2 = Quarantine(tmp_path, max_bytes=3000, max_days=None)
    put(q2, 2, 1)
    assert not (folder / "0123456789ab.eml").exists() and ids(q2) == ["mail 1", "mail 2"]


# --- entries old and new --------------------------------------------------------------------

def test_extra_and_missing_fields_never_hide_an_entry(tmp_path):
    q = Quarantine(tmp_path)
    e = q.put(b"Subject: big\n\n", "too large", "<big@x>", "big", "a@example.org", "imap:1", stamp(0),
              extra={"size": 123456789})
    assert json.loads((tmp_path / "quarantine" / f"{e.id}.json").read_text())["size"] == 123456789
    folder = tmp_path / "quarantine"
    (folder / "aaaaaaaaaaaa.eml").write_bytes(b"Subject: old\n\n")
    (folder / "aaaaaaaaaaaa.json").write_text(json.dumps(         # an older version's entry, and a field
        {"id": "aaaaaaaaaaaa", "reason": "unknown format", "subject": "old", "quarantined_at": stamp(-1),
         "future_field": [1, 2]}))
    (folder / "bbbbbbbbbbbb.json").write_text(json.dumps({"id": "../../../etc/passwd", "reason": "x",
                                                          "subject": None, "quarantined_at": stamp(-2)}))
    entries = {x.id: x for x in q.list()}
    assert set(entries) == {e.id, "aaaaaaaaaaaa", "bbbbbbbbbbbb"}       # the file's name is the id
    assert entries[e.id].extra == {"size": 123456789} and entries[e.id].to_json()["size"] == 123456789
    assert entries["aaaaaaaaaaaa"].origin == "" and entries["aaaaaaaaaaaa"].extra == {"future_field": [1, 2]}
    assert entries["bbbbbbbbbbbb"].subject == ""
    got = q.get("aaaa")
    assert got is not None and got[1] == b"Subject: old\n\n"


def test_a_linked_entry_file_is_not_read(tmp_path):
    q = Quarantine(tmp_path)
    put(q, 1, 0)
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0")
    (tmp_path / "quarantine" / "cccccccccccc.json").symlink_to(secret)
    e = put(q, 2, 0)
    (tmp_path / "quarantine" / f"{e.id}.eml").unlink()
    (tmp_path / "quarantine" / f"{e.id}.eml").symlink_to(secret)
    assert "cccccccccccc" not in [x.id for x in q.list()]
    assert q.get(e.id) is None
    assert secret.read_text() == "root:x:0:0"


# --- through the command line ----------------------------------------------------------------


def untrusted(n: int, subject: str = "", body_extra: bytes = b"") -> bytes:
    mail = goc_mail(700 + n, subject or f"From elsewhere {n}", datetime(2026, 11, 23, 9, tzinfo=CST), n=n)
    return mail.replace(b"ticket@example.org", b"helpdesk@other.example.org") + body_extra


def test_import_prunes_by_age_and_status_shows_the_figures(cli):
    assert cli("import", write_mbox(cli.root / "old.mbox", [untrusted(1)]), "--now", "2026-01-05")[0] == 0
    assert cli("import", write_mbox(cli.root / "new.mbox", [untrusted(2)]), "--now", "2026-05-01")[0] == 0
    _, out, _ = cli("quarantine", "list", "--json")
    assert [e["subject"] for e in json.loads(out)] == ["From elsewhere 2 ISSUE=702 PROJ=71"]
    code, out, _ = cli("status", MAILDAEMON_QUARANTINE_MAX_MB="7", MAILDAEMON_QUARANTINE_DAYS="30")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("quarantine:"))
    assert line.startswith("quarantine:      1 entry, 0.0 MB of 7 MB, kept 30 days")
    _, out, _ = cli("status", "--json", MAILDAEMON_QUARANTINE_MAX_MB="7", MAILDAEMON_QUARANTINE_DAYS="30")
    s = json.loads(out)
    assert (s["quarantine_count"], s["quarantined"], s["quarantine_max_mb"], s["quarantine_days"]) == (1, 1, 7, 30)
    assert 1000 < s["quarantine_bytes"] < 10_000


HOSTILE = "Urgent \x1b[2J\x1b]52;c;ZXZpbA==\x07 \x9b31m \u202eevil\u202c"
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e", "\u202c")


def test_control_characters_in_a_quarantined_mail_never_reach_the_terminal(cli):
    mail = untrusted(3, subject=HOSTILE, body_extra=b"\n\x1b]52;c;cm0gLXJmIH4=\x07 \xc2\x9b2J \x1b[31mred\r\n")
    code, out, _ = cli("import", write_mbox(cli.root / "q.mbox", [mail]))
    assert out.strip().endswith("quarantined=1 ignored=0")
    code, listing, _ = cli("quarantine", "list")
    assert code == 0 and "Urgent" in listing
    code, shown, _ = cli("quarantine", "show", json.loads(cli("quarantine", "list", "--json")[1])[0]["id"])
    assert code == 0 and "ISSUE=703" in shown
    for text in (listing, shown):
        assert not any(c in text for c in RAW_CONTROLS), repr(text)
        assert "^[]52;c;ZXZpbA==^G" in text and "<U+202E>evil" in text
    assert "^[]52;c;cm0gLXJmIH4=^G <U+009B>2J ^[[31mred" in shown       # the raw dump too
    code, out, _ = cli("quarantine", "list", "--json")
    assert not any(c in out for c in RAW_CONTROLS)                       # escaped, still valid JSON
    assert json.loads(out)[0]["subject"].startswith(HOSTILE)


# --- the same mail again (SPEC 4: applied once, whatever re-deliveries happen) -----------------

def trust_other_helpdesk(cli) -> None:
    cli.team_file.write_text(cli.team_file.read_text().replace(
        '"*@rt.example.org"]', '"*@rt.example.org", "helpdesk@other.example.org"]'))


def deliver(cli, raw: bytes) -> str:
    """Put `raw` in the team's Maildir (the live source) and sync; returns the counts line."""
    box = mailbox.Maildir(str(cli.root / "stream"), create=True)
    box.add(raw)
    code, out, err = cli("sync", MAILDAEMON_MAILDIR=str(cli.root / "stream"))
    assert code == 0, err
    return out.strip()


def entries(cli) -> list[dict]:
    return json.loads(cli("quarantine", "list", "--json")[1])


def history(cli, key: str) -> int:
    [t] = [t for t in json.loads(cli("tickets", "--json", "--all")[1]) if t["key"] == key]
    return t["messages"]


def test_a_quarantined_mail_delivered_again_stays_one_entry_of_its_first_age_until_retry_applies_it_once(cli):
    mail = untrusted(1)
    mbox = write_mbox(cli.root / "q.mbox", [mail])
    assert cli("import", mbox, "--now", "2026-11-23T10:00")[1].strip().endswith("quarantined=1 ignored=0")
    [first] = entries(cli)
    # the same archive again, the same mail over the source, and as IMAP hands it over (CRLF)
    assert cli("import", mbox, "--now", "2026-11-25T10:00")[1].strip() == \
        "fetched=1 applied=0 duplicate=1 quarantined=0 ignored=0"
    assert deliver(cli, mail) == "fetched=1 applied=0 duplicate=1 quarantined=0 ignored=0"
    assert deliver(cli, mail.replace(b"\n", b"\r\n")) == "fetched=1 applied=0 duplicate=1 quarantined=0 ignored=0"
    assert entries(cli) == [first]                      # one entry, its reason and its age unchanged
    got = cli("quarantine", "show", first["id"])
    assert got[0] == 0 and "ISSUE=701" in got[1]
    # the fix, then retry: applied once, and the quarantine is empty
    trust_other_helpdesk(cli)
    assert cli("quarantine", "retry")[1].strip() == "retried: applied=1 ignored=0 still-quarantined=0"
    assert entries(cli) == [] and history(cli, "goc:701") == 1
    # arriving yet again changes nothing
    assert cli("import", mbox)[1].strip() == "fetched=1 applied=0 duplicate=1 quarantined=0 ignored=0"
    assert deliver(cli, mail) == "fetched=1 applied=0 duplicate=1 quarantined=0 ignored=0"
    assert cli("quarantine", "retry")[1].strip() == "retried: applied=0 ignored=0 still-quarantined=0"
    assert entries(cli) == [] and history(cli, "goc:701") == 1


@pytest.mark.parametrize("again", [lambda raw: raw, lambda raw: raw.replace(b"\n", b"\r\n")],
                         ids=["same-bytes", "crlf"])
def test_a_quarantined_mail_delivered_again_after_the_fix_is_applied_once_and_leaves_the_quarantine(cli, again):
    mail = untrusted(2)
    assert cli("import", write_mbox(cli.root / "q.mbox", [mail]))[1].strip().endswith("quarantined=1 ignored=0")
    trust_other_helpdesk(cli)
    assert deliver(cli, again(mail)) == "fetched=1 applied=1 duplicate=0 quarantined=0 ignored=0"
    assert entries(cli) == []                           # accepted mails leave the quarantine (README)
    assert cli("quarantine", "retry")[1].strip() == "retried: applied=0 ignored=0 still-quarantined=0"
    assert history(cli, "goc:702") == 1


def test_a_different_mail_under_a_quarantined_message_id_is_kept_beside_it(cli):
    """Only an applied notification claims its Message-ID (SPEC 9): a later, different mail with the
    same id is judged on its own, and the first stays in quarantine with its own reason."""
    forged = untrusted(3)
    genuine = goc_mail(703, "From elsewhere 3", datetime(2026, 11, 23, 9, tzinfo=CST), n=3)
    assert cli("import", write_mbox(cli.root / "f.mbox", [forged]))[1].strip().endswith("quarantined=1 ignored=0")
    assert deliver(cli, genuine) == "fetched=1 applied=1 duplicate=0 quarantined=0 ignored=0"
    [entry] = entries(cli)
    assert "helpdesk@other.example.org is not in trusted_senders" in entry["reason"]
    assert history(cli, "goc:703") == 1


def test_an_entry_named_by_an_older_version_is_retried_as_one_entry_and_released_when_applied(cli):
    """Entries written before ids ignored line endings (a mail that came over IMAP, CRLF) keep
    their name on disk: retrying them neither doubles them nor leaves them behind."""
    mail = untrusted(4).replace(b"\n", b"\r\n")
    assert deliver(cli, mail).endswith("quarantined=1 ignored=0")
    [entry] = entries(cli)
    folder = cli.root / "state" / "quarantine"
    old = hashlib.sha256(mail).hexdigest()[:12]                        # how the older version named it
    assert old != entry["id"]
    for ext in ("eml", "json"):
        (folder / f"{entry['id']}.{ext}").rename(folder / f"{old}.{ext}")
    assert cli("quarantine", "retry")[1].strip() == "retried: applied=0 ignored=0 still-quarantined=1"
    assert [e["id"] for e in entries(cli)] == [entry["id"]]           # one entry, under today's name
    assert entries(cli)[0]["quarantined_at"] == entry["quarantined_at"]
    for ext in ("eml", "json"):                                        # once more from the old name
        (folder / f"{entry['id']}.{ext}").rename(folder / f"{old}.{ext}")
    trust_other_helpdesk(cli)
    assert cli("quarantine", "retry")[1].strip() == "retried: applied=1 ignored=0 still-quarantined=0"
    assert entries(cli) == [] and sorted(folder.iterdir()) == [] and history(cli, "goc:704") == 1


def test_retry_keeps_a_forgery_whose_message_id_a_genuine_mail_claimed(cli):
    forged = untrusted(5)
    genuine = goc_mail(705, "From elsewhere 5", datetime(2026, 11, 23, 9, tzinfo=CST), n=5)
    assert cli("import", write_mbox(cli.root / "f.mbox", [forged]))[1].strip().endswith("quarantined=1 ignored=0")
    assert deliver(cli, genuine) == "fetched=1 applied=1 duplicate=0 quarantined=0 ignored=0"
    assert cli("quarantine", "retry")[1].strip() == "retried: applied=0 ignored=0 still-quarantined=1"
    [entry] = entries(cli)                               # SPEC 4: quarantined with its reason, never dropped
    assert "helpdesk@other.example.org is not in trusted_senders" in entry["reason"]


def test_retry_keeps_a_mail_too_large_in_quarantine_and_applies_nothing_of_it(cli):
    at = datetime(2026, 11, 23, 9, tzinfo=CST)
    big = goc_mail(706, "Logs attached", at, entries=[(at, "Jane User", "x" * 9000)], n=6)
    limit = {"MAILDAEMON_MAX_MAIL_BYTES": "4096"}
    code, out, _ = cli("import", write_mbox(cli.root / "big.mbox", [big]), **limit)
    assert out.strip() == "fetched=1 applied=0 duplicate=0 quarantined=1 ignored=0"
    assert [e["reason"] for e in entries(cli)] == ["too large"]
    assert cli("quarantine", "retry", **limit)[1].strip() == "retried: applied=0 ignored=0 still-quarantined=1"
    assert [(e["reason"], e["size"]) for e in entries(cli)] == [("too large", len(big))]
    assert json.loads(cli("tickets", "--json", "--all")[1]) == []
