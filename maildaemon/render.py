"""Render stage: Jinja templates from the bundled `templates/`, overridable per team.

A team overrides any template by putting a file of the same name in `MAILDAEMON_TEMPLATES_DIR`;
the bundled set is the fallback. Undefined variables are errors, not silent blanks; HTML templates
autoescape. `compose` turns a `Due` into a complete mail: headers are built from parts (never
pasted from ticket data), so a title with CR/LF cannot add a header or a recipient.
"""
from __future__ import annotations

import email.policy
import hashlib
import io
import re
from datetime import datetime
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from jinja2 import (BytecodeCache, ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError,
                    select_autoescape)

from maildaemon import ownmail
from maildaemon.model import Due, Outgoing, Team, valid_address
from maildaemon.errors import ConfigError, TemplateProblem  # noqa: F401 (TemplateProblem: re-exported)

# headers are generated unfolded up to RFC 5322's 998: a folded Message-ID breaks threading in some
# readers (the parts were already encoded with 76-character lines by set_content)
_UNFOLDED = email.policy.default.clone(max_line_length=998)
KINDS = ("unassigned", "owner", "owner-away", "user", "close", "announcement", "handoff",
         "work-done", "silence", "brief")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_MSGID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]+>")       # printable ASCII, no < or > inside


def bundled_templates() -> Path:
    """The copy `pip install` put inside the package, or `templates/` of a checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "templates"
    return installed if installed.is_dir() else here.parent / "templates"


def count(n, unit: str, plural: str | None = None) -> str:
    """A number with its unit in words that agree with it: `{{ 1 | count("business day") }}` is
    "1 business day", `{{ 2.5 | count("business hour") }}` is "2.5 business hours" (SPEC 9,
    "Counting, exactly"). Whole floats print without ".0"."""
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    return f"{n} {unit if n == 1 else (plural or unit + 's')}"


class CompiledTemplates(BytecodeCache):
    """Compiled templates kept in a folder of the state (`STATE_DIR/templates.cache/`), so a command
    does not compile the handoff's templates again each time (60 ms of every `handoff`). Jinja keys
    each entry by the template's name and a checksum of its source: an edited override is compiled
    anew. Only the state folder's guarded files are read (never through a link) and written
    (atomically, given to the folder's owner); any failure is no cache, never an error."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def _path(self, bucket) -> Path:
        return self.folder / (hashlib.sha256(bucket.key.encode()).hexdigest()[:32] + ".cache")

    def load_bytecode(self, bucket) -> None:
        from maildaemon.atomic import read_bytes
        try:
            bucket.load_bytecode(io.BytesIO(read_bytes(self._path(bucket), limit=8 << 20)))
        except (OSError, ValueError, EOFError, TypeError):
            pass

    def dump_bytecode(self, bucket) -> None:
        from maildaemon.atomic import ensure_dir, write_atomic
        out = io.BytesIO()
        try:
            bucket.write_bytecode(out)
            ensure_dir(self.folder)
            write_atomic(self._path(bucket), out.getvalue())
        except (OSError, ValueError, TypeError):
            pass


def environment(overrides: Path | None = None, cache: Path | None = None) -> Environment:
    """The templates: the team's overrides first, then the bundled ones; compiled ones kept in
    `cache` (a folder of the state) when given."""
    loaders = [FileSystemLoader(str(overrides))] if overrides else []
    loaders.append(FileSystemLoader(str(bundled_templates())))
    env = Environment(loader=ChoiceLoader(loaders), undefined=StrictUndefined, keep_trailing_newline=True,
                      trim_blocks=True, lstrip_blocks=True,
                      bytecode_cache=CompiledTemplates(cache) if cache else None,
                      autoescape=select_autoescape(enabled_extensions=("html", "html.j2"),
                                                   default_for_string=False, default=False))
    env.filters["count"] = count
    return env


def check_templates(env: Environment) -> None:
    """Compile every override now, so a broken one stops start-up, not the 09:30 digest. The
    bundled templates are compiled when first used (their tests compile them all): compiling
    all 25 took 0.15 s of every `remind` and `handoff` (issue 14)."""
    loader = env.loader
    sources = loader.loaders[:-1] if isinstance(loader, ChoiceLoader) else [loader]
    for name in sorted({n for source in sources for n in source.list_templates() if n.endswith(".j2")}):
        try:
            env.get_template(name)
        except TemplateError as e:
            raise TemplateProblem(f"{where_failed(e, name)}: {getattr(e, 'message', e)}") from None


def where_failed(e: BaseException, name: str | None = None) -> str | None:
    """`file line N` of a template error: the template frame of a runtime error (Jinja rewrites
    the traceback so it shows the template's line), else the error's own line under `name`."""
    where, line = name, getattr(e, "lineno", None)
    tb = e.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            where, line = Path(tb.tb_frame.f_code.co_filename).name, tb.tb_lineno
        tb = tb.tb_next
    return f"{where}{f' line {line}' if line else ''}" if where else None


def render_checked(env: Environment, name: str, **context) -> str:
    """One template rendered for a command (`ticket`, `rotation announce`): a team override that
    does not compile or fails on its data is a ConfigError naming the file and line (exit 2),
    never "unexpected TemplateSyntaxError"."""
    try:
        return env.get_template(name).render(**context)
    except TemplateError as e:
        raise ConfigError("MAILDAEMON_TEMPLATES_DIR",
                          f"template {where_failed(e, name)}: {type(e).__name__}: "
                          f"{getattr(e, 'message', None) or e}", "fix the template or remove the override") from None


def clean_header(text: str, limit: int = 200) -> str:
    """One line of plain text: no control characters (CR/LF included), at most `limit` characters.

    RFC 2047 encoded words are decoded first (the header parser would decode them *after* our
    check, so `=?utf-8?q?A=0D=0ABcc:...?=` in a title would become a line break) and any `=?` left
    is broken up, so nothing in the value can be read as an encoded word again.
    """
    text = text or ""
    for _ in range(3):
        try:
            decoded = str(make_header(decode_header(text)))
        except Exception:
            break
        if decoded == text:
            break
        text = decoded
    text = " ".join(_CONTROL.sub(" ", text).replace("\u2028", " ").replace("\u2029", " ").split())
    text = text.replace("=?", "=\u200b?")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_message_id(value: str | None) -> str | None:
    """A Message-ID fit to copy into In-Reply-To: printable ASCII in angle brackets, no encoded words."""
    if value and _MSGID.fullmatch(value) and "=?" not in value:
        return value
    return None


def message_id(due: Due, team: Team, key: bytes = b"") -> str:
    """`<maildaemon.KIND.ABOUT.PERIOD.TOKEN@domain>`: derived from what the mail is about and the
    installation's key, nothing else (ownmail.py: only we can make TOKEN, so only our own mail
    coming back through the list is recognised as ours).

    ABOUT is the ticket for one-ticket mails (a readable slug of at most 60 characters plus a hash
    of the exact key, so `org/a.b#1` and `org/a-b#1` never collide and a 300-digit id stays short),
    `digest` for the unassigned digest whatever it lists (one per slot), `team` for the
    announcement and the handoff.
    """
    if due.kind == "unassigned":
        about = "digest"
    elif len(due.tickets) == 1:
        key_ = due.tickets[0]
        slug = re.sub(r"[^A-Za-z0-9-]+", "-", key_).strip("-")[:60]
        about = slug + "-" + hashlib.sha1(key_.encode()).hexdigest()[:8]
    else:
        about = "team"
    body = ".".join(re.sub(r"[^A-Za-z0-9-]+", "-", part).strip("-")[:80] for part in (due.kind, about, due.period))
    return ownmail.message_id(body, team.from_address.rpartition("@")[2], key)


def user_reply_to(due: Due) -> str | None:
    """Where a user's answer to a user reminder reaches the ticket: the ticket system's reply
    address as parse/apply kept it (`reply_to` of the ticket's data: the trusted Reply-To, else
    From, of its latest notification), or None when it takes no replies by mail (GitHub) or none
    is known. Only a plain, valid address: the value is a header's, never pasted."""
    ticket = due.data.get("ticket") or {}
    address = ticket.get("reply_to") if isinstance(ticket, dict) else None
    return address if isinstance(address, str) and address.isascii() and valid_address(address) else None


def heading(env: Environment, due: Due, team: Team, now: datetime) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The subject, To and Cc that `compose` gives `due`, without rendering a body: what the
    agenda lists for each of its few hundred mails a week."""
    subject = clean_header(env.get_template(f"{due.kind}.subject.j2").render(_context(due, team, now)))
    return (subject, *_recipients(due))


def _context(due: Due, team: Team, now: datetime) -> dict:
    """What the templates see: the due mail's data, the team, the person on duty who signs."""
    duty = team.member(due.duty)
    signer = duty.name if duty else team.name
    context = dict(due.data, team=team, duty=duty, signer=signer, signature=(duty.signature if duty else None),
                   now=now, kind=due.kind)
    if due.kind == "user":
        context["answer_by_mail"] = user_reply_to(due) is not None     # else the text points to the ticket's URL
    return context


def _recipients(due: Due) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """To and Cc: valid addresses only, each once, none in Cc that is in To."""
    to = tuple(a for a in dict.fromkeys(due.to) if valid_address(a))
    cc = tuple(a for a in dict.fromkeys(due.cc) if valid_address(a) and a not in to)
    return to, cc


def compose(env: Environment, due: Due, team: Team, now: datetime, key: bytes = b"",
            mime: bool = True) -> Outgoing:
    """Render `due` into a mail. `mime=False` is a preview (a dry run): subject and text are
    rendered, but neither the HTML part nor the MIME message (that was 3.7 ms a mail, most of a dry
    run's cost; the handoff's HTML template alone takes 0.3 s to compile and render)."""
    context = _context(due, team, now)
    duty, signer = context["duty"], context["signer"]
    answer_to = user_reply_to(due) if due.kind == "user" else None
    subject = clean_header(env.get_template(f"{due.kind}.subject.j2").render(context))
    text = env.get_template(f"{due.kind}.txt.j2").render(context)
    to, cc = _recipients(due)
    mid = message_id(due, team, key)
    if not mime:
        return Outgoing(message_id=mid, kind=due.kind, period=due.period, tickets=due.tickets,
                        sender=team.from_address, recipients=to + cc, subject=subject, raw=b"", text=text)
    msg = EmailMessage()
    msg["From"] = Address(display_name=clean_header(f"{signer} ({team.name})"), addr_spec=team.from_address)
    if due.kind == "user":
        # the user's answer goes to the ticket (SPEC 8), never privately to the person on duty;
        # without a reply address (GitHub) to the stream list, where the whole team reads it
        route = answer_to or (team.list_address if valid_address(team.list_address) else None)
        if route:
            msg["Reply-To"] = Address(addr_spec=route)
    elif duty:
        msg["Reply-To"] = Address(display_name=clean_header(duty.name), addr_spec=duty.email)
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = mid
    thread = safe_message_id(due.in_reply_to)
    if thread:
        msg["In-Reply-To"] = thread
        msg["References"] = thread
    msg["Auto-Submitted"] = "auto-generated"
    msg["Precedence"] = "bulk"
    msg["X-Auto-Response-Suppress"] = "All"
    msg["X-Maildaemon-Kind"] = due.kind
    # quoted-printable keeps every line under SMTP's 998-octet limit, whatever the template makes
    msg.set_content(text, cte="quoted-printable")
    html = env.get_template(f"{due.kind}.html.j2").render(context)     # not for a preview: 0.3 s of a handoff
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return Outgoing(message_id=mid, kind=due.kind, period=due.period, tickets=due.tickets,
                    sender=team.from_address, recipients=to + cc, subject=subject,
                    raw=msg.as_bytes(policy=_UNFOLDED), text=text)
