"""Render stage: Jinja templates from the bundled `templates/`, overridable per team.

A team overrides any template by putting a file of the same name in `MAILDAEMON_TEMPLATES_DIR`;
the bundled set is the fallback. Undefined variables are errors, not silent blanks; HTML templates
autoescape. `compose` turns a `Due` into a complete mail: headers are built from parts (never
pasted from ticket data), so a title with CR/LF cannot add a header or a recipient.
"""
from __future__ import annotations

import re
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from jinja2 import (ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError,
                    select_autoescape)

from maildaemon.model import Due, Outgoing, Team

KINDS = ("unassigned", "owner", "owner-away", "user", "close", "announcement", "handoff")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_ADDRESS = re.compile(r"^[^@\s<>\",;]+@[^@\s<>\",;]+\.[^@\s<>\",;]+$")


class TemplateProblem(Exception):
    """A template (bundled or override) does not compile: the text names the file and line."""


def bundled_templates() -> Path:
    """The copy `pip install` put in the package, or `templates/` of a checkout."""
    from importlib.resources import files
    try:
        installed = Path(str(files("maildaemon.templates")))
        if installed.is_dir():
            return installed
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "templates"


def environment(overrides: Path | None = None) -> Environment:
    loaders = [FileSystemLoader(str(overrides))] if overrides else []
    loaders.append(FileSystemLoader(str(bundled_templates())))
    return Environment(loader=ChoiceLoader(loaders), undefined=StrictUndefined, keep_trailing_newline=True,
                       trim_blocks=True, lstrip_blocks=True,
                       autoescape=select_autoescape(enabled_extensions=("html", "html.j2"),
                                                    default_for_string=False, default=False))


def check_templates(env: Environment) -> None:
    """Compile every template now, so a broken override stops start-up, not the 09:30 digest."""
    for name in env.list_templates(extensions=["j2"]):
        try:
            env.get_template(name)
        except TemplateError as e:
            line = getattr(e, "lineno", None)
            raise TemplateProblem(f"{name}{f' line {line}' if line else ''}: {getattr(e, 'message', e)}") from None


def clean_header(text: str, limit: int = 200) -> str:
    """One line, no control characters (CR/LF included), at most `limit` characters."""
    text = " ".join(_CONTROL.sub(" ", text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def valid_address(addr: str | None) -> bool:
    return bool(addr) and bool(_ADDRESS.match(addr))


def message_id(due: Due, team: Team) -> str:
    """`<maildaemon.KIND.ABOUT.PERIOD@domain>`: derived from what the mail is about, nothing else."""
    about = "-".join(due.tickets) if len(due.tickets) == 1 else ("team" if not due.tickets else "digest")
    token = ".".join(re.sub(r"[^A-Za-z0-9-]+", "-", part).strip("-") for part in (due.kind, about, due.period))
    return f"<maildaemon.{token}@{team.from_address.rpartition('@')[2]}>"


def compose(env: Environment, due: Due, team: Team, now: datetime) -> Outgoing:
    duty = team.member(due.duty)
    signer = duty.name if duty else team.name
    context = dict(due.data, team=team, duty=duty, signer=signer, signature=(duty.signature if duty else None),
                   now=now, kind=due.kind)
    subject = clean_header(env.get_template(f"{due.kind}.subject.j2").render(context))
    text = env.get_template(f"{due.kind}.txt.j2").render(context)
    html = env.get_template(f"{due.kind}.html.j2").render(context)
    to = tuple(a for a in dict.fromkeys(due.to) if valid_address(a))
    cc = tuple(a for a in dict.fromkeys(due.cc) if valid_address(a) and a not in to)
    msg = EmailMessage()
    msg["From"] = Address(display_name=clean_header(f"{signer} ({team.name})"), addr_spec=team.from_address)
    if duty:
        msg["Reply-To"] = Address(display_name=clean_header(duty.name), addr_spec=duty.email)
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    mid = message_id(due, team)
    msg["Message-ID"] = mid
    if due.in_reply_to and re.fullmatch(r"<[^<>\s]+>", due.in_reply_to):
        msg["In-Reply-To"] = due.in_reply_to
        msg["References"] = due.in_reply_to
    msg["Auto-Submitted"] = "auto-generated"
    msg["Precedence"] = "bulk"
    msg["X-Auto-Response-Suppress"] = "All"
    msg["X-Maildaemon-Kind"] = due.kind
    # quoted-printable keeps every line under SMTP's 998-octet limit, whatever the template makes
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return Outgoing(message_id=mid, kind=due.kind, period=due.period, tickets=due.tickets,
                    sender=team.from_address, recipients=to + cc, subject=subject, raw=msg.as_bytes())
