"""The demo's support stream: one scripted duty week (Mon 2026-11-23 .. Fri 2026-11-27, Chicago).

Weekend arrivals, a triage assignment, a user waited on, two members on one ticket, an
out-of-office reply, a forged notification, a re-delivered mail and a late one: what a week brings.
Regenerate `maildaemon/demo/stream.mbox` with `python bench/corpus.py --demo maildaemon/demo/stream.mbox`.
"""
from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from bench.corpus import CST, LIST, goc_mail, rt_mail

TRIAGE = ("Alice Operator (GOC)", "Software Support (Triage)")


def at(day: int, hh: int, mm: int) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=CST)


def demo_stream() -> list[bytes]:
    e1 = (at(20, 16, 40), "Jane User", "Since Thursday all pilot jobs at Example site fail with\n"
                                        "'condor_startd: cannot allocate slot'. Nothing changed on our side.")
    e2 = (at(23, 9, 45), "Ada Lovelace", "I'll take this. Could you send the pilot logs of one failed job?")
    e3 = (at(24, 8, 15), "Jane User", "Logs are attached, thanks for looking.")
    e4 = (at(27, 10, 0), "Ada Lovelace", "Fixed in osg-pilot 23.0.4, released today. Closing; reopen if needed.")
    mails = [
        goc_mail(41234, "Pilot jobs fail at Example site", at(20, 16, 40), assignees=TRIAGE, entries=[e1], n=1),
        goc_mail(41240, "HTCondor-CE upgrade question", at(21, 10, 12), assignees=TRIAGE, n=2,
                 submitter="Jürgen Müller <juergen@example.de>",
                 entries=[(at(21, 10, 12), "Jürgen Müller", "Is it safe to upgrade HTCondor-CE to 24.0 before the\n"
                                                            "pilot factory is updated?")]),
        goc_mail(41234, "Pilot jobs fail at Example site", at(23, 9, 45), status="Customer",
                 assignees=TRIAGE + ("Ada Lovelace",), next_action="ENG Action", deadline=at(25, 17, 0),
                 entries=[e2, e1], n=3),
        rt_mail(1240, "Certificate renewal fails", at(23, 11, 2), transaction="Ticket created by bob@example.edu",
                actor="Bob Scientist", actor_email="bob@example.edu", requestor="bob@example.edu",
                content="The renewal script says 'CSR rejected'.", n=4),
        rt_mail(1240, "Certificate renewal fails", at(23, 13, 30), transaction="Taken by alan",
                actor="Alan Turing", actor_email="alan@example.org", owner="alan", requestor="bob@example.edu",
                status="open", n=5),
        goc_mail(41234, "Pilot jobs fail at Example site", at(24, 8, 15), assignees=TRIAGE + ("Ada Lovelace",),
                 next_action="ENG Action", deadline=at(25, 17, 0), entries=[e3, e2, e1], n=6),
        rt_mail(1234, "Cannot install client", at(24, 10, 0), transaction="Ticket created by carol@example.edu",
                actor="Carol Admin", actor_email="carol@example.edu", requestor="carol@example.edu",
                content="yum install osg-client fails with a missing dependency.", n=7),
        rt_mail(1234, "Cannot install client", at(24, 10, 5), transaction="Given to grace by ada",
                actor="Ada Lovelace", actor_email="ada@example.org", owner="grace", requestor="carol@example.edu",
                status="open", n=8),
        goc_mail(41250, "Data transfer slow from Fermilab", at(24, 15, 20),
                 assignees=TRIAGE + ("Ada Lovelace", "Grace Hopper"), next_action="ENG Action", n=9,
                 submitter="Dan Physicist <dan@example.edu>",
                 entries=[(at(24, 15, 20), "Dan Physicist", "Transfers from FNAL dropped to 2 MB/s since Monday.")]),
        rt_mail(1234, "Cannot install client", at(25, 9, 10),
                transaction="Status changed from 'open' to 'stalled' by grace", actor="Grace Hopper",
                actor_email="grace@example.org", owner="grace", requestor="carol@example.edu", status="stalled",
                content="Which OS release is this? Please send the output of `yum repolist`.", n=10),
        _github(45, "issues/45", at(24, 16, 5), "Jane User", "janeu",
                "osg-client 24.1 segfaults in `voms-proxy-init` on EL9 hosts; EL8 is fine."),
        _out_of_office(),
        _forged(),
        _github(45, "issue/45/issue_event/15023912345", at(25, 14, 30), "Grace Hopper", "ghopper",
                "Assigned #45 to @ghopper."),
        goc_mail(41250, "Data transfer slow from Fermilab", at(25, 15, 10),
                 assignees=TRIAGE + ("Ada Lovelace", "Grace Hopper"), next_action="ENG Action", n=13,
                 submitter="Dan Physicist <dan@example.edu>",
                 entries=[(at(25, 15, 10), "Ada Lovelace", "Reproduced; the fix is tracked in SOFTWARE-6123 "
                                                          "(https://jira.example.org/browse/SOFTWARE-6123)."),
                          (at(24, 15, 20), "Dan Physicist", "Transfers from FNAL dropped to 2 MB/s since Monday.")]),
    ]
    mails.append(mails[5])                       # the list delivered Tuesday's update twice
    mails.append(goc_mail(41234, "Pilot jobs fail at Example site", at(27, 10, 0), status="Resolved",
                          assignees=TRIAGE + ("Ada Lovelace",), next_action="None", entries=[e4, e3, e2, e1], n=14))
    mails.append(goc_mail(41234, "Pilot jobs fail at Example site", at(27, 9, 0),     # delayed in transit
                          assignees=TRIAGE + ("Ada Lovelace",), next_action="ENG Action", cc=("bob@example.edu",),
                          entries=[e3, e2, e1], n=15))
    mails.append(rt_mail(1240, "Certificate renewal fails", at(27, 11, 30),
                         transaction="Status changed from 'open' to 'resolved' by alan", actor="Alan Turing",
                         actor_email="alan@example.org", owner="alan", requestor="bob@example.edu", status="resolved",
                         subject_prefix="Resolved: ", n=16))
    return mails


def _github(number: int, path: str, when: datetime, name: str, login: str, text: str) -> bytes:
    """A GitHub notification for example-org/client: `issues/N` opens, a longer path is an event."""
    m = EmailMessage()
    m["From"] = f'"{name}" <notifications@github.com>'
    m["To"] = "example-org/client <client@noreply.github.com>"
    m["Cc"] = f"Software Support <{LIST}>"
    m["Subject"] = ("" if path.startswith("issues/") else "Re: ") + \
        f"[example-org/client] Client crashes on EL9 with OpenSSL 3 (Issue #{number})"
    m["Date"] = format_datetime(when)
    m["Message-ID"] = f"<example-org/client/{path}@github.com>"
    if not path.startswith("issues/"):
        m["In-Reply-To"] = m["References"] = f"<example-org/client/issues/{number}@github.com>"
    m["X-GitHub-Sender"] = login
    m["X-GitHub-Reason"] = "subscribed"
    m["List-ID"] = "example-org/client <client.example-org.github.com>"
    m["Precedence"] = "list"
    m.set_content(f"{text}\n\n--\nReply to this email directly, view it on GitHub:\n"
                  f"https://github.com/example-org/client/issues/{number}\n")
    return m.as_bytes()


def _plain(sender: str, subject: str, when: datetime, message_id: str, text: str, **headers: str) -> bytes:
    """A one-part mail to the list that no ticket system wrote."""
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, LIST, subject
    m["Date"], m["Message-ID"] = format_datetime(when), message_id
    for name, value in headers.items():
        m[name.replace("_", "-")] = value
    m.set_content(text)
    return m.as_bytes()


def _out_of_office() -> bytes:
    return _plain("Carol Admin <carol@example.edu>", "Automatic reply: [rt.example.org #1234] Cannot install client",
                  at(25, 12, 0), "<ooo-20261125-1200@example.edu>",
                  "I am out of the office until Monday, November 30.", Auto_Submitted="auto-replied")


def _forged() -> bytes:
    return _plain("GOC Ticket <ticket@example.net>", "Pilot jobs fail at Example site ISSUE=41234 PROJ=71",
                  at(25, 14, 0), "<forged-41234@example.net>", "Ticket ID: 41234\nStatus: Closed\nAssignees: Mallory\n")
