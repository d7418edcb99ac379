"""`init` reading one sample mail the way `classify` does, keeping a few hundred bytes about it.

The same decoder, the same parsers in the same order, under the same CPU budget; short of trust,
which needs the list address the whole sample decides (survey.py). `examine` never raises: a mail
that cannot be read is a `Seen` with a problem, and the survey goes on.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import getaddresses, mktime_tz, parsedate_tz

from maildaemon.limits import CLASSIFY_CPU_SECONDS, OutOfTime, cpu_limit
from maildaemon.model import Change, RawMail, valid_address
from maildaemon.parse import trust
from maildaemon.parse.base import RegexTimeout, Unparseable
from maildaemon.parse.mail import Mail, header_view, read_mail
from maildaemon.propose.people import LOGIN
from maildaemon.propose.toml_text import cut

# Systems whose own headers mark their notifications (a person's reply carries none of them).
OWN_HEADERS = {"rt": ("X-RT-Ticket", "RT-Ticket"), "jira": ("X-JIRA-FingerPrint",),
               "github": ("X-GitHub-Reason", "X-GitHub-Sender")}

_BOUNCE_FROM = re.compile(r"^(mailer-daemon|postmaster)@", re.I)
_MAILTO = re.compile(r"<mailto:([^<>?\s]{1,320})[^<>]{0,2000}>", re.I)
_LIST_ID = re.compile(r"^\s*(?P<phrase>[^<>]{0,300}?)\s*<(?P<id>[^<>\s]{1,300})>\s*$")
_VIA = re.compile(r"\s+via\s+\S.*$", re.I)


class SenderHeaders:
    """The raw sender headers of a mail, enough for `trust.read_sender` once the list is known."""

    def __init__(self, values: dict[str, list[str]]):
        self.values = values

    def raw_headers(self, name: str) -> list[str]:
        return self.values.get(name.lower(), [])


@dataclass
class Seen:
    """What the survey keeps of one mail (a few hundred bytes)."""
    system: str | None = None        # the recognising parser's system
    change: Change | None = None     # None: not recognised, or it did not parse
    problem: str | None = None       # "too large", "unreadable: …", "unparseable (rt): …", "bounce", "auto-reply"
    senders: SenderHeaders = field(default_factory=lambda: SenderHeaders({}))
    machine: bool = False            # Auto-Submitted: auto-… or the system's own headers
    list_votes: tuple[tuple[str, int], ...] = ()
    list_ids: tuple[tuple[str, str], ...] = ()   # (phrase, id) of List-Id
    offset: int | None = None        # the Date header's UTC offset in minutes
    instant: datetime | None = None
    links: tuple[tuple[str, ...], ...] = ()      # mentions of one person: (name, email, @login) parts
    authserv: str | None = None


def _read(raw: RawMail) -> tuple[Mail, Seen]:
    if raw.oversize:
        return header_view(raw.data), Seen(problem="too large")
    return read_mail(raw.data), Seen()


def examine(raw: RawMail, parsers, cpu_seconds: float = CLASSIFY_CPU_SECONDS) -> Seen:
    """One mail, as `classify` would see it, short of trust. Never raises, never runs long."""
    mail = None
    try:
        with cpu_limit(cpu_seconds):
            mail, seen = _read(raw)
            _headers(mail, seen)
            if seen.problem is None:
                _recognise(mail, seen, parsers)
            return seen
    except OutOfTime:
        problem = f"time limit: more than {cpu_seconds:g} s of CPU"
    except RegexTimeout as e:
        problem = str(e)
    except RecursionError:
        problem = "unreadable: nested too deeply"
    except Exception as e:  # noqa: BLE001 - one mail never stops the survey
        problem = f"unreadable: {type(e).__name__}"
    seen = Seen(problem=problem)
    try:                                    # what the header section alone says
        with cpu_limit(cpu_seconds):
            _headers(header_view(raw.data), seen)
    except (OutOfTime, Exception):  # noqa: BLE001
        pass
    return seen


def _headers(mail: Mail, seen: Seen) -> None:
    seen.senders = SenderHeaders({n.lower(): mail.raw_headers(n)[:2]
                                  for n in ("From", "X-Original-From", "Reply-To")})
    auto = (mail.header("Auto-Submitted") or "").strip().lower()
    seen.machine = auto.startswith("auto-") and not auto.startswith("auto-replied")
    votes: list[tuple[str, int]] = []
    for value in mail.headers("List-Post")[:1]:
        m = _MAILTO.search(value[:4000])
        if m:
            votes.append((m.group(1).lower(), 3))
    ids = []
    for value in mail.headers("List-Id")[:1]:
        m = _LIST_ID.match(value[:1000])
        if m:
            ids.append((" ".join(m.group("phrase").strip().strip('"').split()), m.group("id").lower()))
    seen.list_ids = tuple(ids)
    for name in ("To", "Cc", "Delivered-To", "X-Original-To"):
        for value in mail.headers(name)[:2]:
            for _, addr in getaddresses([value[:4000]])[:20]:
                votes.append((addr.strip().lower(), 1))
    seen.list_votes = tuple(votes)
    date = (mail.header("Date") or "")[:200]
    parsed = parsedate_tz(date) if date else None
    if parsed and parsed[9] is not None:
        try:
            seen.instant = datetime.fromtimestamp(mktime_tz(parsed), timezone.utc)
            seen.offset = parsed[9] // 60
        except (OverflowError, ValueError, OSError):
            pass
    results = mail.headers("Authentication-Results")[:1]
    if results:
        server, _ = trust.parse_results(results[0])
        if server and re.fullmatch(r"[a-z0-9][a-z0-9.-]{0,200}", server):
            seen.authserv = server


def _recognise(mail: Mail, seen: Seen, parsers) -> None:
    ctype = (mail.header("Content-Type") or "").lower()
    if (mail.content_type == "multipart/report" and "delivery-status" in ctype) or \
            (_BOUNCE_FROM.match(mail.from_addr) and not mail.has("X-RT-Ticket")):
        seen.problem = "bounce"
        return
    if (mail.header("Auto-Submitted") or "").lower().startswith("auto-replied"):
        seen.problem = "auto-reply"
        return
    parser = None
    for p in parsers:
        try:
            if p.recognises(mail):
                parser = p
                break
        except (RegexTimeout, OutOfTime, RecursionError):
            raise
        except Exception:  # noqa: BLE001 - a recogniser that fails says no, as in classify
            continue
    if parser is None:
        return
    seen.system = parser.system
    if any(mail.has(h) for h in OWN_HEADERS.get(parser.system, ())):
        seen.machine = True
    try:
        seen.change = parser.parse(mail)
    except (RegexTimeout, OutOfTime, RecursionError):
        raise
    except Unparseable as e:
        seen.problem = f"unparseable ({parser.system}): {str(e)[:200]}"
        return
    except Exception as e:  # noqa: BLE001
        seen.problem = f"parser error ({parser.system}): {type(e).__name__}"
        return
    seen.links = tuple(_header_links(mail, parser.system))


def _header_links(mail: Mail, system: str):
    """(name, address, login) a mail's own headers tie together."""
    display = cut(mail.from_name).strip('"').strip()
    if system == "rt":
        for name in ("X-RT-Originator", "RT-Originator"):
            found = [a.lower() for _, a in getaddresses([(mail.header(name) or "")[:1000]]) if valid_address(a)]
            person = cut(_VIA.sub("", display))
            if found and person and " via " in display.lower():
                yield (person, found[0], "")
                break
    elif system == "github":
        login = cut(mail.header("X-GitHub-Sender")).lstrip("@")
        if login and display and LOGIN.fullmatch(login) and display.lower() != login.lower():
            yield (display, "", "@" + login)
