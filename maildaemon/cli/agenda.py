"""`maildaemon agenda [--days N] [--json]` (SPEC 10): the mails due over the next N days if nothing
new arrived. Reads one view of the state and prints; writes nothing (not even the key file: with
no key yet, nothing was ever sent, and the Message-IDs only need to agree among themselves).

The text is one block per mail under a line per day, within 78 columns:

    Tue 2026-11-24
      09:30  unassigned    to grace@example.org
             2 tickets waiting for triage (2026-11-24 09:30)

`--json` prints a list of {"at", "kind", "to", "cc", "subject", "tickets"}; the lines that say why
mails are missing (no one on duty) go to standard error then, so the output stays one JSON list.
"""
from __future__ import annotations

from datetime import timedelta

from maildaemon.cli.context import number_of
from maildaemon.terminal import dumps, safe

WIDTH = 78
KIND_WIDTH = 12                   # "announcement"
MAX_DAYS = 366                    # agenda.MAX_DAYS (the policy and Jinja load only when the command runs)


def add_parser(add) -> None:
    a = add("agenda", "every mail due over the next N days if nothing new arrived (sends and changes nothing)")
    a.add_argument("--days", type=number_of("days", MAX_DAYS), default=7, metavar="N", help=f"how many days from --now (1-{MAX_DAYS}, "
                   "default 7)")
    a.add_argument("--json", action="store_true", help='print JSON: [{"at", "kind", "to", "cc", "subject", "tickets"}]')


def compute(ctx):
    from maildaemon import agenda as agenda_mod
    from maildaemon import dispatch, workdays
    team = ctx.team
    workdays.check_holidays(team)
    env = dispatch.templates(ctx.settings.templates_dir)          # a broken override: exit 2, as remind
    snap, ledger = dispatch.agenda_snapshot(ctx.store)
    overrides = ctx.settings.templates_dir
    exact = bool(overrides) and (overrides / "handoff.subject.j2").exists()
    return agenda_mod.agenda(snap, ledger, team, ctx.now, ctx.args.days, env, exact_handoff=exact)


def run(ctx) -> int:
    result = compute(ctx)
    team = ctx.team
    if ctx.args.json:
        for note in result.notes:
            ctx.stderr.write(f"maildaemon agenda: {note}\n")
        ctx.out(dumps([e.as_json() for e in result.entries], indent=2))
        return 0
    ctx.out("\n".join(lines(result, team.timezone)))
    return 0


def lines(result, zone_name: str) -> list[str]:
    """The text form: a heading, the notes, then each day's mails (two lines each)."""
    n = len(result.entries)
    days = round((result.end - result.start) / timedelta(days=1))
    out = [_fit(f"{n} mail{'' if n == 1 else 's'} due in the {days} day{'' if days == 1 else 's'} from "
                f"{result.start:%a %Y-%m-%d %H:%M} ({zone_name})")]
    out += [_fit(note) for note in result.notes]
    if not n:
        out.append("nothing is due")
    day = None
    for e in result.entries:
        if e.at.date() != day:
            day = e.at.date()
            out.append(f"{e.at:%a %Y-%m-%d}")
        out.append(_fit(f"  {e.at:%H:%M}  {e.kind:<{KIND_WIDTH}}  " + _recipients(e, WIDTH - 9 - KIND_WIDTH - 2)))
        out.append(_fit(" " * 9 + safe(e.subject)))
    return out


def _recipients(e, room: int) -> str:
    """`to A, B, cc C` within `room` columns: as many addresses as fit, then `+N more`."""
    parts = [("to ", a) for a in e.to] + [("cc ", a) for a in e.cc]
    if not parts:
        return "to nobody"
    text, shown, last = "", 0, None
    for i, (prefix, address) in enumerate(parts):
        piece = (", " if text else "") + (prefix if prefix != last else "") + safe(address)
        rest = len(parts) - i - 1
        tail = f" +{rest} more" if rest else ""
        if len(text + piece + tail) > room and text:
            return text + f" +{len(parts) - i} more"
        text += piece
        shown, last = shown + 1, prefix
    return text


def _fit(line: str) -> str:
    return line if len(line) <= WIDTH else line[:WIDTH - 1] + "…"
