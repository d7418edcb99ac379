"""`check` and `metrics`: what an operator runs to see that the service can work and is working.

Both read the state and write nothing in it. `check` builds its own `Context` (it lists every
problem in one run, where other commands stop at the first).
"""
from __future__ import annotations

from maildaemon.cli.context import Context
from maildaemon.cli.rotation import duty_weeks
from maildaemon.errors import ConfigError
from maildaemon.metrics_file import exposition
from maildaemon.terminal import safe


def metrics(ctx) -> int:
    ctx.stdout.write(exposition(ctx.store, ctx.team, ctx.now).decode())
    return 0


def check(args, environ: dict[str, str], stdout, stderr) -> int:
    """`maildaemon check`: one line per check and every problem in one run (SPEC 3): the
    configuration (env file, MAILDAEMON_* settings, MAILDAEMON_NOW, the team file, holidays), the
    state folder, the template overrides (compiled, then rendered with real sample mails), the
    rotation for this week and the next, the stream and SMTP. What a broken setting makes
    impossible to check is skipped with the reason. Exit 2 when the configuration is wrong, 1 when
    another check fails, 0 when all is well."""
    from maildaemon import template_check
    from maildaemon.config import check_configuration

    def out(line: str) -> None:
        stdout.write(safe(line) + "\n")

    problems = check_configuration(getattr(args, "env_file", None), environ)
    ctx = settings = team = None
    try:
        ctx = Context(args, environ, stdout, stderr)
        settings = ctx.settings
        team = ctx.team
        ctx.now
    except ConfigError:
        pass                                    # listed in `problems` already
    config_bad = bool(problems)
    failed = False
    for p in problems:
        out(f"FAIL  config: {p}")
    if team is not None and not problems:
        rotating = sum(1 for m in team.members if m.rotation)
        out(f"ok    config: team {team.name!r}, {len(team.members)} members ({rotating} on the rotation), "
            f"time zone {team.timezone}, holidays {team.holidays or 'none'}")
    if settings is None:
        out("skip  state, templates, rotation, stream, smtp: fix the settings above first")
        return 2
    try:
        ctx.store.ensure()
        out(f"ok    state: {settings.state_dir} is writable")
    except (ConfigError, OSError) as e:
        out(f"FAIL  state: {e}")
        config_bad = config_bad or isinstance(e, ConfigError)
        failed = True
    if team is not None and not failed:
        lines = rotation_lines(ctx)
        for line in lines:
            out(line)
        failed = failed or any(line.startswith("FAIL") for line in lines)
    elif team is None:
        out("skip  rotation: fix the team file first")
    broken, looked = template_check.problems(settings.templates_dir)
    for p in broken:
        out(f"FAIL  templates: {p}")
    config_bad = config_bad or bool(broken)
    if not broken:
        out(f"ok    templates: {looked} override(s) in {settings.templates_dir} compile and render"
            if looked else "ok    templates: the bundled set (no overrides)")
    failed = _check_servers(settings, out) or failed
    return 2 if config_bad else 1 if failed else 0


def _check_servers(settings, out) -> bool:
    """The stream and SMTP lines; True if one failed."""
    from maildaemon.config import require_source
    failed = False
    try:
        require_source(settings)
        if settings.maildir:
            out(f"ok    maildir: {settings.maildir}")
        else:
            from maildaemon.errors import SourceError
            from maildaemon.source.imap import probe
            try:
                out(f"ok    imap: {settings.imap.describe()} {probe(settings.imap)}")
            except SourceError as e:
                out(f"FAIL  imap: {str(e).removeprefix('IMAP ')}")
                failed = True
    except ConfigError as e:
        out(f"FAIL  stream: {e}")
        failed = True
    if settings.smtp:
        from maildaemon.errors import SendError
        from maildaemon.send import probe as smtp_probe
        try:
            out(f"ok    smtp: {settings.smtp.describe()} {smtp_probe(settings.smtp)}")
        except SendError as e:
            out(f"FAIL  smtp: {str(e).removeprefix('SMTP ')}")
            failed = True
    else:
        out(f"skip  smtp: MAILDAEMON_SMTP_HOST not set; mail is written to {settings.state_dir / 'outbox'}/")
    return failed


def rotation_lines(ctx) -> list[str]:
    """`check`: someone on duty this week and the next (SPEC 3), in SPEC 9's words when not."""
    from maildaemon import rotation
    ledger, weeks = duty_weeks(ctx)
    missing = [f"FAIL rotation: {rotation.nobody_on_duty(ledger, ctx.team, week)}" for week, m in weeks if m is None]
    if missing:
        return missing
    (this, a), (nxt, b) = weeks
    return [f"ok    rotation: {safe(a.name)} on duty in the week of {this.isoformat()}, "
            f"{safe(b.name)} in the week of {nxt.isoformat()}"]
