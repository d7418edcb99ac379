"""Parse stage: one decision per mail — a ticket change, recorded-but-ignored, or quarantined.

`classify` is pure: bytes and the team in, a verdict out. The order of the checks is the policy:
our own mail coming back, bounces and auto-replies are recorded and ignored (they must never
change a ticket or count as an update); then the ticket system is detected (`parsers_for`, in
order: systems with their own headers first, subject-only formats last); then the sender must be
trusted; only then is the mail parsed, and the Jira and GitHub work items its text mentions are
attached as links. Anything that fails becomes a quarantine reason, never an exception.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from maildaemon.model import Change, RawMail, Team
from maildaemon.parse import trust
from maildaemon.parse.base import Parser, Unparseable
from maildaemon.parse.custom import CustomParser
from maildaemon.parse.ggus import GgusParser
from maildaemon.parse.github import GithubParser
from maildaemon.parse.goc import GocParser
from maildaemon.parse.jira import JiraParser
from maildaemon.parse.links import find_links
from maildaemon.parse.mail import Mail, read_mail
from maildaemon.parse.rt import RtParser
from maildaemon.parse.zammad import ZammadParser

OWN_MESSAGE_ID = re.compile(r"^<maildaemon\.", re.I)
_OOO_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto[- ]?reply|autoresponse|abwesenheitsnotiz|absence)\b", re.I)
_BOUNCE_FROM = re.compile(r"^(mailer-daemon|postmaster)@", re.I)
# an out-of-office that reached the ticket system and came back as the user's "update"
_OOO_TEXT = re.compile(r"^\W*(automatic reply|auto-?reply|out of (the )?office|i am (currently )?out of (the )?office"
                       r"|i('m| am) (currently )?(away|on (vacation|holiday|leave))|abwesenheitsnotiz)\b", re.I)


@dataclass(frozen=True)
class Accepted:
    change: Change
    mail: Mail


@dataclass(frozen=True)
class Ignored:
    reason: str            # "own mail", "bounce", "auto-reply"
    mail: Mail


@dataclass(frozen=True)
class Quarantined:
    reason: str
    mail: Mail


Verdict = Accepted | Ignored | Quarantined


def parsers_for(team: Team) -> tuple[Parser, ...]:
    """The parsers in precedence order (docs/formats.md, "Detection and precedence").

    Systems that mark their mail with their own headers first (RT, Jira, GitHub), then subject
    hooks from the most specific to the loosest (Zammad's `[Ticket#n]`, old GGUS's
    `GGUS-Ticket-ID: #n`, GOC's `ISSUE=n PROJ=p`), then the team's own systems, which also need
    their sender: a team regex can never take another system's mail.
    """
    custom = tuple(CustomParser(spec, team.trusted_senders, team.list_address) for spec in team.systems)
    return (RtParser(), JiraParser(), GithubParser(), ZammadParser(), GgusParser(), GocParser()) + custom


def classify(raw: RawMail, team: Team, parsers: tuple[Parser, ...] | None = None) -> Verdict:
    mail = read_mail(raw.data, list_names=(team.list_address.partition("@")[0],))
    if OWN_MESSAGE_ID.match(mail.message_id):
        return Ignored("own mail", mail)
    if _is_bounce(mail):
        return Ignored("bounce", mail)
    if (mail.header("Auto-Submitted") or "").lower().startswith("auto-replied"):
        return Ignored("auto-reply", mail)
    parser = next((p for p in (parsers or parsers_for(team)) if _safe_recognises(p, mail)), None)
    if parser is None:
        if _OOO_SUBJECT.match(mail.subject) or mail.has("X-Autoreply") or mail.has("X-Autorespond"):
            return Ignored("auto-reply", mail)
        return Quarantined("unknown format: not a notification of a known ticket system", mail)
    senders = team.trusted_senders + tuple(getattr(parser, "trusted_senders", ()))
    reason = trust.check(mail, team.list_address, senders, team.require_authentication)
    if reason:
        return Quarantined(reason, mail)
    try:
        change = parser.parse(mail)
    except Unparseable as e:
        return Quarantined(f"unparseable ({parser.system}): {e}", mail)
    except Exception as e:  # a parser bug must not stop the stream; the mail waits in quarantine
        return Quarantined(f"parser error ({parser.system}): {type(e).__name__}: {e}", mail)
    if is_auto_reply_text(change.summary):
        change = dataclasses.replace(change, auto_reply=True)
    repo = change.id.partition("#")[0] if change.system == "github" else None
    links = find_links(f"{mail.clean_subject}\n{mail.text}", self_key=change.key, github_repo=repo)
    if links:
        known = {x.get("key") for x in change.links}
        change = dataclasses.replace(change, links=change.links + tuple(x for x in links if x["key"] not in known))
    return Accepted(change, mail)


def is_auto_reply_text(summary: str) -> bool:
    """An update whose text opens like an out-of-office (also after RT's "Correspondence added…: ")."""
    return any(_OOO_TEXT.match(part) for part in (summary or "", (summary or "").partition(": ")[2]))


def _safe_recognises(parser: Parser, mail: Mail) -> bool:
    try:
        return bool(parser.recognises(mail))
    except Exception:
        return False


def _is_bounce(mail: Mail) -> bool:
    ctype = (mail.header("Content-Type") or "").lower()
    if mail.content_type == "multipart/report" and "delivery-status" in ctype:
        return True
    return bool(_BOUNCE_FROM.match(mail.from_addr)) and not mail.has("X-RT-Ticket")
