"""Parse stage: one decision per mail — a ticket change, recorded-but-ignored, or quarantined.

`classify` is pure: bytes and the team in, a verdict out. The order of the checks is the policy:
our own mail coming back, bounces and auto-replies are recorded and ignored (they must never
change a ticket or count as an update); then the ticket system is detected (`parsers_for`, in
order: systems with their own headers first, subject-only formats last); then the sender must be
trusted; only then is the mail parsed, its reply address (the trusted `Reply-To`, else sender)
noted for mail the user answers, and the Jira and GitHub work items its text mentions are
attached as links. Anything that fails becomes a quarantine reason, never an exception, and no
mail costs more than CLASSIFY_CPU_SECONDS of CPU (SPEC 9: the stream is a list anyone can post to;
limits.py is the backstop behind linear regexes and a linear HTML parser).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from maildaemon import ownmail
from maildaemon.limits import CLASSIFY_CPU_SECONDS, OutOfTime, cpu_limit
from maildaemon.model import Change, RawMail, Team, evolve
from maildaemon.parse import trust
from maildaemon.parse.base import Parser, RegexTimeout, Unparseable
from maildaemon.parse.custom import CustomParser
from maildaemon.parse.ggus import GgusParser
from maildaemon.parse.github import GithubParser
from maildaemon.parse.goc import GocParser
from maildaemon.parse.jira import JiraParser
from maildaemon.parse.links import find_links
from maildaemon.parse.mail import Mail, header_view, read_mail
from maildaemon.parse.rt import RtParser
from maildaemon.parse.zammad import ZammadParser

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


def classify(raw: RawMail, team: Team, parsers: tuple[Parser, ...] | None = None,
             own_key: bytes | None = None, cpu_seconds: float = CLASSIFY_CPU_SECONDS) -> Verdict:
    """The verdict on one mail. Never raises and never runs long, whatever the bytes hold.

    Any failure (an exception of any kind, a recursion limit, `cpu_seconds` of CPU used up) is a
    quarantine with the reason: one mail must never stop the stream (SPEC 9). `own_key` is the
    installation's key: only a Message-ID signed with it is our own mail coming back.
    """
    if raw.oversize:
        return Quarantined("too large", header_view(raw.data))
    mail = None
    try:
        with cpu_limit(cpu_seconds):
            mail = read_mail(raw.data, list_names=(team.list_address.partition("@")[0],))
            return _classify(mail, team, parsers, own_key)
    except OutOfTime:
        return Quarantined(f"time limit: classifying took more than {cpu_seconds:g} s of CPU",
                           mail or header_view(raw.data))
    except RegexTimeout as e:
        return Quarantined(str(e), mail or header_view(raw.data))
    except RecursionError:
        return Quarantined("unreadable: nested too deeply", mail or header_view(raw.data))
    except Exception as e:  # noqa: BLE001 - whatever a mail does to a library, the stream goes on
        return Quarantined(_one_line(f"unreadable: {type(e).__name__}: {e}"), mail or header_view(raw.data))


def _classify(mail: Mail, team: Team, parsers: tuple[Parser, ...] | None, own_key: bytes | None) -> Verdict:
    if ownmail.is_ours(mail.message_id, own_key):
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
    reason = trust.check(mail, team.list_address, senders, team.require_authentication, team.authserv_id)
    if reason:
        return Quarantined(reason, mail)
    try:
        change = parser.parse(mail)
    except RegexTimeout:
        raise
    except Unparseable as e:
        return Quarantined(_one_line(f"unparseable ({parser.system}): {e}"), mail)
    except (OutOfTime, RecursionError):
        raise
    except Exception as e:  # a parser bug must not stop the stream; the mail waits in quarantine
        return Quarantined(_one_line(f"parser error ({parser.system}): {type(e).__name__}: {e}"), mail)
    if is_auto_reply_text(change.summary):
        change = evolve(change, auto_reply=True)
    if getattr(parser, "replies_by_mail", True):       # GitHub's mail takes no replies (github.py)
        change = evolve(change, reply_to=trust.reply_address(
            mail, team.list_address, senders, avoid=(team.from_address,)))
    repo = change.id.partition("#")[0] if change.system == "github" else None
    links = find_links(f"{mail.clean_subject}\n{mail.text}", self_key=change.key, github_repo=repo)
    if links:
        known = {x.get("key") for x in change.links}
        change = evolve(change, links=change.links + tuple(x for x in links if x["key"] not in known))
    return Accepted(change, mail)


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_auto_reply_text(summary: str) -> bool:
    """An update whose text opens like an out-of-office (also after RT's "Correspondence added…: ")."""
    return any(_OOO_TEXT.match(part) for part in (summary or "", (summary or "").partition(": ")[2]))


def _safe_recognises(parser: Parser, mail: Mail) -> bool:
    """A recogniser that fails says no, except for a time limit, which is the mail's verdict."""
    try:
        return bool(parser.recognises(mail))
    except (RegexTimeout, OutOfTime, RecursionError):
        raise
    except Exception:
        return False


def _is_bounce(mail: Mail) -> bool:
    ctype = (mail.header("Content-Type") or "").lower()
    if mail.content_type == "multipart/report" and "delivery-status" in ctype:
        return True
    return bool(_BOUNCE_FROM.match(mail.from_addr)) and not mail.has("X-RT-Ticket")
