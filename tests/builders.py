"""Builders for the tests: a team in America/Chicago with US holidays, a duty ledger, tickets
built directly or by folding `Change`s through `apply`, local instants, and the notification mails
of SPEC 7.1 (GOC/FootPrints) and 7.2 (Request Tracker) as a ticket system sends them through the
list (Received hops, list headers, quoted-printable bodies, HTML alternatives,
`Auto-Submitted: auto-generated`). bench/corpus.py builds its streams from the same mails.

Calendar notes (America/Chicago, 2026): DST ends Sunday 2026-11-01 (CDT UTC-5 -> CST UTC-6);
Thanksgiving is Thursday 2026-11-26; Mondays in November: 2, 9, 16, 23, 30.
"""
from __future__ import annotations

import copy
import html
import mailbox
import random
import zlib
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from maildaemon.apply import apply
from maildaemon.config import team_from_dict
from maildaemon.model import Change, OutboxRecord, Team, Ticket
from maildaemon.rotation import Assignment

CHICAGO = ZoneInfo("America/Chicago")
CST = timezone(timedelta(hours=-6), "CST")          # the fixed offset GOC prints its entries in
LIST = "software-support-stream@example.org"
LIST_ID = "Software support stream <software-support-stream.example.org>"
DEMO_STREAM = Path(__file__).resolve().parents[1] / "maildaemon" / "demo" / "stream.mbox"
FROM = "software-triage@example.org"
TRIAGE = "Software Support (Triage)"
ADA, GRACE, ALAN, LINUS = "ada@example.org", "grace@example.org", "alan@example.org", "linus@example.org"
NAMES = {ADA: "Ada Lovelace", GRACE: "Grace Hopper", ALAN: "Alan Turing", LINUS: "Linus Torvalds"}

TEAM_DATA = {
    "team": {
        "name": "Software Team",
        "timezone": "America/Chicago",
        "list_address": LIST,
        "triage_user": TRIAGE,
        "triage_next_action": "SOFTWARE TRIAGE",
        "from_address": FROM,
        "trusted_senders": ["ticket@example.org"],
        "holidays": "US",
        "duty_start": "mon",
        "work_hours": "09:00-17:00",
    },
    "policy": {
        "unassigned_after_hours": 4,
        "stale_after_days": 2,
        "user_wait_days": 5,
        "user_close_days": 10,
        "repeat_after_days": 2,
        "reminder_times": ["09:30", "14:00"],
        "announce_time": "mon 09:00",
        "handoff_time": "fri 15:00",
    },
    "members": [
        {"name": "Ada Lovelace", "email": ADA, "aliases": ["Ada L.", "alovelace"]},
        {"name": "Grace Hopper", "email": GRACE},
        {"name": "Alan Turing", "email": ALAN},
        {"name": "Linus Torvalds", "email": LINUS, "rotation": False},
    ],
    "outages": [
        {"member": ADA, "start": date(2026, 12, 21), "end": date(2027, 1, 1)},
    ],
    "meetings": [
        {"day": "wed", "time": "16:00", "name": "Operations meeting"},
        {"day": "mon", "time": "11:00", "name": "Team standup"},
    ],
}


def team(policy: dict | None = None, outages: list | None = None, members: list | None = None,
         **team_keys) -> Team:
    """The test team; `policy`/`team_keys` override single settings, `outages` replaces the list."""
    data = copy.deepcopy(TEAM_DATA)
    data["policy"].update(policy or {})
    data["team"].update(team_keys)
    if outages is not None:
        data["outages"] = outages
    if members is not None:
        data["members"] = members
    return team_from_dict(data)


def week(start: date, email: str | None) -> Assignment:
    return Assignment(start, email, NAMES.get(email, "") if email else "")


# Who is on duty: Alan the week of Thanksgiving's predecessor, Grace on Thanksgiving week, ...
LEDGER = [
    week(date(2026, 10, 26), ADA),
    week(date(2026, 11, 2), GRACE),
    week(date(2026, 11, 9), ADA),
    week(date(2026, 11, 16), ALAN),
    week(date(2026, 11, 23), GRACE),
    week(date(2026, 11, 30), ADA),
    week(date(2026, 12, 7), ALAN),
    week(date(2026, 12, 14), GRACE),
    week(date(2026, 12, 21), GRACE),
    week(date(2026, 12, 28), ALAN),
]


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """An aware instant from the team's wall clock."""
    return datetime(y, mo, d, h, mi, tzinfo=CHICAGO)


def iso(when: datetime) -> str:
    """UTC ISO 8601, as `apply` stores times."""
    return when.astimezone(timezone.utc).isoformat(timespec="seconds")


def liso(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> str:
    """UTC ISO string of a local wall-clock time."""
    return iso(local(y, mo, d, h, mi))


def ticket(key: str = "goc:1", **kw) -> Ticket:
    """A ticket built directly; times as UTC ISO strings (use `liso`)."""
    system, _, ident = key.partition(":")
    base = dict(key=key, system=system, id=ident, title=f"Ticket {ident}",
                url=f"https://ticket.example.org/{ident}", submitter="jane@example.edu",
                latest_message_id=f"<{system}-{ident}-latest@ticket.example.org>")
    base.update(kw)
    return Ticket(**base)


def change(key: str, at: datetime, n: int, **kw) -> Change:
    system, _, ident = key.partition(":")
    base = dict(key=key, system=system, id=ident, message_id=f"<{system}-{ident}-{n}@ticket.example.org>", at=at)
    base.update(kw)
    return Change(**base)


def fold(t: Team, key: str, *steps: tuple[datetime, dict]) -> Ticket:
    """Apply (at, fields) steps in order to a new ticket `key`; returns the final state."""
    state = None
    for n, (at, fields) in enumerate(steps, 1):
        state, _ = apply(state, change(key, at, n, **fields), t)
    return state


def sent(kind: str, keys: tuple[str, ...] | list[str], at: datetime, period: str | None = None) -> OutboxRecord:
    """An outbox record as the policy reads it (kind, tickets, period, created_at). The period
    defaults to what the policy gives a mail queued at `at`: the slot for a digest, else the day."""
    day = at.astimezone(CHICAGO)
    if period is None:
        period = f"{day.date().isoformat()}T{day:%H%M}" if kind == "unassigned" else day.date().isoformat()
    return OutboxRecord(f"<{kind}.{period}@test>", kind, period, tuple(keys), created_at=iso(at))


def write_mbox(path, mails) -> str:
    """An mbox file holding `mails` (bytes), for `maildaemon import`."""
    box = mailbox.mbox(str(path))
    for m in mails:
        box.add(m)
    box.close()
    return str(path)


# --- notification mails (SPEC 7.1, 7.2) ------------------------------------------------------

def _base(msg_id: str, subject: str, from_: str, at: datetime, extra: dict | None = None) -> EmailMessage:
    m = EmailMessage()
    m["Received"] = (f"from lists.example.org (lists.example.org [192.0.2.10]) by mx.example.org "
                     f"with ESMTPS id {zlib.crc32(msg_id.encode()) % 10**8:08d}; {format_datetime(at + timedelta(seconds=4))}")
    m["Received"] = f"from ticket.example.org by lists.example.org with ESMTP; {format_datetime(at + timedelta(seconds=2))}"
    m["From"] = from_
    m["To"] = LIST
    m["Subject"] = subject
    m["Date"] = format_datetime(at)
    m["Message-ID"] = msg_id
    m["Auto-Submitted"] = "auto-generated"
    m["Precedence"] = "bulk"
    m["List-Id"] = LIST_ID
    for k, v in (extra or {}).items():
        m[k] = v
    return m


def goc_mail(ticket: int, title: str, at: datetime, *, status="Engineering", assignees=("Software Support (Triage)",),
             next_action="SOFTWARE TRIAGE", deadline: datetime | None = None, cc=(), submitter="Jane User <jane@example.edu>",
             entries=(), html=False, n=0) -> bytes:
    """One FootPrints notification; `entries` are (datetime, author, text), newest first."""
    fields = [f"Ticket ID: {ticket}", f"Title: {title}", f"Status: {status}", "Priority: 4 (Normal)",
              f"Next Action: {next_action}"]
    if deadline:
        fields.append(f"Next Action Deadline: {deadline.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC")
    fields.append("Assignees: " + "; ".join(assignees))
    if cc:
        fields.append("CC: " + ", ".join(cc))
    fields += [f"Submitter: {submitter}", f"Ticket URL: https://ticket.example.org/{ticket}", ""]
    for when, who, text in entries:
        local = when.astimezone(CST)
        fields += [f"Entered on {local:%m/%d/%Y} at {local:%H:%M:%S} CST (GMT-0600) by {who}:", text, ""]
    body = "\n".join(fields)
    m = _base(f"<goc.{ticket}.{int(at.timestamp())}.{n}@ticket.example.org>",
              f"{title} ISSUE={ticket} PROJ=71", '"GOC Ticket" <ticket@example.org>', at)
    if html:
        m.set_content(_as_html(body), subtype="html")
    else:
        m.set_content(body, cte="quoted-printable")
    return m.as_bytes()


def rt_mail(ticket: int, title: str, at: datetime, *, transaction: str, actor: str, actor_email: str,
            owner="Nobody", requestor="jane@example.edu", status="new", content="", subject_prefix="",
            n=0) -> bytes:
    """One RT notification in the default `Transaction` template."""
    stamp = at.astimezone(CST)
    body = (f"{stamp:%a %b %d %H:%M:%S %Y}: Request {ticket} was acted upon.\n"
            f" Transaction: {transaction}\n       Queue: software\n     Subject: {title}\n"
            f"       Owner: {owner}\n  Requestors: {requestor}\n      Status: {status}\n"
            f" Ticket <URL: https://rt.example.org/Ticket/Display.html?id={ticket} >\n\n{content}\n")
    m = _base(f"<rt-5.0.5-{4000 + n}-{int(at.timestamp())}-{n % 97}.{ticket}-5-0@example.org>",
              f"[rt.example.org #{ticket}] {subject_prefix}{title}", f'"{actor} via RT" <software@rt.example.org>', at,
              {"X-RT-Ticket": f"rt.example.org #{ticket}", "X-Managed-by": "RT 5.0.5 (http://www.bestpractical.com/rt/)",
               "X-RT-Originator": actor_email, "X-RT-Loop-Prevention": "rt.example.org",
               "References": f"<RT-Ticket-{ticket}@example.org>"})
    m.set_content(body)
    return m.as_bytes()


def _as_html(text: str) -> str:
    return "<html><body>" + "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n")) + "</body></html>"


def one_part(subject: str, body: str = "", *, from_: str, date: str, message_id: str, to: str = LIST,
             html: bool = False, **headers: str) -> bytes:
    """A one-part mail for the parser tests: From, To, Subject, Date, Message-ID, then `headers`
    (keyword arguments, `_` for `-`), and `body` as text/plain (text/html with `html`)."""
    msg = EmailMessage()
    for name, value in (("From", from_), ("To", to), ("Subject", subject), ("Date", date), ("Message-ID", message_id),
                        *((k.replace("_", "-"), v) for k, v in headers.items())):
        msg[name] = value
    msg.set_content(body, subtype="html" if html else "plain")
    return msg.as_bytes()


def demo_stream() -> list[bytes]:
    """The mails of the shipped demo stream (maildaemon/demo/stream.mbox), in order."""
    box = mailbox.mbox(str(DEMO_STREAM), create=False)
    try:
        return [m.as_bytes() for m in box]
    finally:
        box.close()


def stream(n: int, seed: int = 7) -> list[bytes]:
    """`n` GOC and RT notifications about a few dozen tickets, a few minutes apart, each GOC mail
    carrying its ticket's latest entries (so mails grow as a real thread does). Seeded."""
    rnd = random.Random(seed)
    at = datetime(2026, 9, 1, 9, 0, tzinfo=CST)
    entries: dict[int, list] = {}
    out = []
    for i in range(n):
        at += timedelta(minutes=rnd.randint(1, 60))
        tid = rnd.choice([41000 + k for k in range(20)] + [1000 + k for k in range(20)])
        title = f"Ticket {tid} at site {tid % 7}"
        who = rnd.choice(list(NAMES.values()) + ["Jane User"])
        text = f"Update {i} on ticket {tid}. " * rnd.randint(1, 30)
        if tid >= 41000:
            entries.setdefault(tid, []).insert(0, (at, who, text))
            out.append(goc_mail(tid, title, at, status=rnd.choice(["Engineering", "Customer", "Resolved"]),
                                entries=entries[tid][:6], html=i % 5 == 0, n=i))
        else:
            out.append(rt_mail(tid, title, at, transaction=f"Correspondence added by {who}", actor=who,
                               actor_email="jane@example.edu", status=rnd.choice(["open", "stalled"]),
                               content=text, n=i))
    return out
