"""Realistic ticket notifications (GOC/FootPrints and Request Tracker), built from SPEC section 7.

Used by the benchmarks (`corpus(n)`: a random-but-seeded stream) and to write the demo stream
(`python bench/corpus.py --demo maildaemon/demo/stream.mbox`: a scripted duty week). The mails
carry what real ones do: Received hops, list headers, RFC 2047 subjects, quoted-printable bodies,
HTML alternatives, `Auto-Submitted: auto-generated`.
"""
from __future__ import annotations

import argparse
import mailbox
import random
import sys
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime

CST = timezone(timedelta(hours=-6), "CST")
LIST = "software-support-stream@example.org"
LIST_ID = "Software support stream <software-support-stream.example.org>"


def _base(msg_id: str, subject: str, from_: str, at: datetime, extra: dict | None = None) -> EmailMessage:
    m = EmailMessage()
    m["Received"] = (f"from lists.example.org (lists.example.org [192.0.2.10]) by mx.example.org "
                     f"with ESMTPS id {abs(hash(msg_id)) % 10**8:08d}; {format_datetime(at + timedelta(seconds=4))}")
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
    import html
    return "<html><body>" + "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n")) + "</body></html>"


TEAM = [("Ada Lovelace", "ada@example.org"), ("Grace Hopper", "grace@example.org"),
        ("Alan Turing", "alan@example.org"), ("Katherine Johnson", "katherine@example.org")]
TITLES = ["Pilot jobs fail at {s}", "HTCondor-CE upgrade breaks {s}", "Certificate renewal fails on {s}",
          "Frontier squid cache misses at {s}", "XRootD transfers slow from {s}", "CVMFS repository stale at {s}",
          "Gratia accounting missing for {s}", "Singularity images fail to start at {s}"]
SITES = ["Example site", "UNL", "Wisconsin CHTC", "Fermilab", "München LRZ", "Caltech", "Ohio Supercomputer Center"]


def corpus(n: int, seed: int = 7, start: datetime | None = None) -> list[bytes]:
    """`n` notifications over a few dozen tickets, in time order, roughly half GOC and half RT."""
    rnd = random.Random(seed)
    at = start or datetime(2026, 9, 1, 14, 0, tzinfo=timezone.utc)
    tickets: dict[int, dict] = {}
    out = []
    for i in range(n):
        at += timedelta(minutes=rnd.randint(1, 90))
        if not tickets or rnd.random() < 0.25:
            tid = (41000 if rnd.random() < 0.5 else 1000) + len(tickets) * 3 + i % 3
            tickets[tid] = {"title": rnd.choice(TITLES).format(s=rnd.choice(SITES)), "entries": [],
                            "owner": None, "status": "Engineering" if tid >= 41000 else "new"}
        tid = rnd.choice(list(tickets))
        t = tickets[tid]
        who_name, who_mail = rnd.choice(TEAM + [("Jane User", "jane@example.edu")])
        if rnd.random() < 0.3:
            t["owner"] = rnd.choice(TEAM)
        text = rnd.choice(["Could you send the job logs?", "Looking into it.", "The fix is in the next release.",
                           "Still failing after the upgrade — see attached log.", "Thanks, that worked!"]) * rnd.randint(1, 20)
        if tid >= 41000:
            t["entries"].insert(0, (at, who_name, text))
            t["status"] = rnd.choice(["Engineering", "Customer", "Engineering", "Resolved"])
            assignees = ["Alice Operator (GOC)", "Software Support (Triage)"] + ([t["owner"][0]] if t["owner"] else [])
            out.append(goc_mail(tid, t["title"], at, status=t["status"], assignees=assignees,
                                entries=t["entries"][:6], html=rnd.random() < 0.2, n=i))
        else:
            t["status"] = rnd.choice(["open", "open", "stalled", "resolved"])
            owner = t["owner"][1].split("@")[0] if t["owner"] else "Nobody"
            out.append(rt_mail(tid, t["title"], at, transaction=f"Correspondence added by {who_mail}",
                               actor=who_name, actor_email=who_mail, owner=owner, status=t["status"],
                               content=text, n=i))
    return out


def write_mbox(path: str, mails: list[bytes]) -> None:
    box = mailbox.mbox(path, create=True)
    box.lock()
    try:
        for raw in mails:
            box.add(raw)
        box.flush()
    finally:
        box.unlock()
        box.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--mbox", help="write the random corpus to this mbox")
    p.add_argument("--demo", help="write the scripted demo week to this mbox")
    a = p.parse_args(argv)
    if a.demo:
        from bench.demo_stream import demo_stream
        write_mbox(a.demo, demo_stream())
    if a.mbox:
        write_mbox(a.mbox, corpus(a.count))
    return 0


if __name__ == "__main__":
    sys.exit(main())
