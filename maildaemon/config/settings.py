"""The deployment settings: the environment's `MAILDAEMON_*` values (over an env file's) into `Settings`.

The env file is read strictly, and without `${VAR}` interpolation, because it holds passwords:
a line that is not `KEY=value` is an error naming the file and the line, never its text.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from dotenv import dotenv_values
from dotenv.parser import parse_stream

from maildaemon.config.server import ServerSettings, login_pair, server
from maildaemon.config.values import Problems, whole_number
from maildaemon.errors import ConfigError
from maildaemon.limits import DEFAULT_MAX_MAIL_BYTES

ENVIRONMENT = (              # every setting, for `maildaemon --help`, the man page and the README
    ("MAILDAEMON_IMAP_HOST", "the stream's IMAP server; also _PORT, _USER,\n_PASSWORD, _SECURITY, _FOLDER"),
    ("MAILDAEMON_MAILDIR", "a Maildir to read instead (read only)"),
    ("MAILDAEMON_SMTP_HOST", "where mail is sent; also _PORT, _USER,\n_PASSWORD, _SECURITY (unset: files only)"),
    ("MAILDAEMON_STATE_DIR", "state, quarantine, outbox (./state)"),
    ("MAILDAEMON_TEAM_FILE", "the team file (./team.toml)"),
    ("MAILDAEMON_TEMPLATES_DIR", "overrides of the bundled templates"),
    ("MAILDAEMON_METRICS_FILE", "Prometheus textfile, after each pass"),
    ("MAILDAEMON_POLL_SECONDS", "seconds between searches (60)"),
    ("MAILDAEMON_LOG_LEVEL", "DEBUG, INFO, WARNING, ERROR (INFO)"),
    ("MAILDAEMON_MAX_MAIL_BYTES", "bigger mail is quarantined (10485760)"),
    ("MAILDAEMON_QUARANTINE_MAX_MB", "the quarantine's size (500)"),
    ("MAILDAEMON_QUARANTINE_DAYS", "days quarantined mail is kept (90)"),
    ("MAILDAEMON_NOW", "act at this moment (like --now)"),
)


@dataclass(frozen=True)
class Settings:
    state_dir: Path
    team_file: Path
    templates_dir: Path | None
    imap: ServerSettings | None
    maildir: Path | None
    smtp: ServerSettings | None
    poll_seconds: int
    log_level: str
    now: str | None                # MAILDAEMON_NOW, resolved by the CLI
    max_mail_bytes: int = DEFAULT_MAX_MAIL_BYTES      # a bigger mail is quarantined "too large" (SPEC 9)
    quarantine_max_mb: int = 500                      # the quarantine's size cap, oldest removed first
    quarantine_days: int = 90                         # entries older than this are removed
    metrics_file: Path | None = None                  # MAILDAEMON_METRICS_FILE: Prometheus textfile (SPEC 11)


def read_environment(env_file: str | None, environ: dict[str, str]) -> dict[str, str]:
    """The effective environment: the env file's values under the real environment's.

    Values are read without `${VAR}` interpolation (python-dotenv expands it by default, even in
    single quotes), so a password containing `$` survives. The file is read strictly: a line that
    is not `KEY=value` (python-dotenv would only warn and skip it) is a ConfigError naming the file
    and the line, never its text (it may hold a password).
    """
    merged: dict[str, str] = {}
    path = Path(env_file) if env_file else Path(".env")
    setting = "--env-file" if env_file else ".env"
    if env_file and path.is_dir():
        raise ConfigError("--env-file", f"{env_file} is a folder, not an env file",
                          "pass the path of the env file itself (KEY=value lines)")
    if env_file and not path.is_file():
        raise ConfigError("--env-file", f"{env_file} does not exist",
                          "pass the path of an existing env file")
    if path.is_file():
        merged.update(_env_file_values(path, setting))
    merged.update({k: v for k, v in environ.items() if k.startswith("MAILDAEMON_")})
    return merged


def _env_file_values(path: Path, setting: str) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(setting, f"{path} is not UTF-8 text", "save the env file as UTF-8") from None
    except OSError as e:
        raise ConfigError(setting, f"{path} cannot be read ({e.strerror or e})",
                          "make it readable by the user maildaemon runs as") from None
    for binding in parse_stream(io.StringIO(text)):
        if binding.error or (binding.key is not None and binding.value is None):
            raise ConfigError(f"{path} line {binding.original.line}", "not a KEY=value line",
                              "write KEY=value (double quotes around a value with spaces, # or quotes), "
                              "or begin a comment with #")
    values = dotenv_values(stream=io.StringIO(text), interpolate=False)
    return {k: v for k, v in values.items() if v is not None}


def load_settings(env: dict[str, str]) -> Settings:
    """The deployment settings; the first problem is raised (`validate_settings` lists them all)."""
    settings, problems = validate_settings(env)
    if problems:
        raise problems[0]
    return settings


def validate_settings(env: dict[str, str]) -> tuple[Settings | None, list[ConfigError]]:
    """The settings and [], or None and every problem of the environment's MAILDAEMON_* values."""
    def get(name: str, default: str | None = None) -> str | None:
        v = env.get(name)
        return v.strip() if v is not None and v.strip() != "" else default

    problems = Problems()
    templates = get("MAILDAEMON_TEMPLATES_DIR")
    if templates and not Path(templates).is_dir():
        problems.append(ConfigError("MAILDAEMON_TEMPLATES_DIR", f"{templates} is not a directory",
                                    "point it at a folder of template overrides or unset it"))
    maildir = get("MAILDAEMON_MAILDIR")
    imap = problems.run(server, env, "IMAP", default_port=993, default_security="ssl") \
        if get("MAILDAEMON_IMAP_HOST") else None
    smtp = problems.run(server, env, "SMTP", default_port=587, default_security="starttls") \
        if get("MAILDAEMON_SMTP_HOST") else None
    problems.run(login_pair, env, "SMTP")
    level = (get("MAILDAEMON_LOG_LEVEL", "INFO") or "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        problems.append(ConfigError("MAILDAEMON_LOG_LEVEL", f"unknown level {level!r}",
                                    "use DEBUG, INFO, WARNING or ERROR"))

    def number(name: str, default: int, low: int) -> int | None:
        return problems.run(whole_number, get(name, str(default)), name, low)

    numbers = dict(
        poll_seconds=number("MAILDAEMON_POLL_SECONDS", 60, 1),
        max_mail_bytes=number("MAILDAEMON_MAX_MAIL_BYTES", DEFAULT_MAX_MAIL_BYTES, 4096),
        quarantine_max_mb=number("MAILDAEMON_QUARANTINE_MAX_MB", 500, 1),
        quarantine_days=number("MAILDAEMON_QUARANTINE_DAYS", 90, 1),
    )
    if problems:
        return None, list(problems)
    return Settings(
        state_dir=Path(get("MAILDAEMON_STATE_DIR", "./state")),
        team_file=Path(get("MAILDAEMON_TEAM_FILE", "./team.toml")),
        templates_dir=Path(templates) if templates else None,
        imap=imap,
        maildir=Path(maildir) if maildir else None,
        smtp=smtp,
        log_level=level,
        now=get("MAILDAEMON_NOW"),
        metrics_file=Path(get("MAILDAEMON_METRICS_FILE")) if get("MAILDAEMON_METRICS_FILE") else None,
        **numbers,
    ), []


def require_source(settings: Settings) -> None:
    """`sync` and `run` need a stream to read: IMAP or a Maildir."""
    if settings.maildir:
        if not (settings.maildir / "cur").is_dir() and not (settings.maildir / "new").is_dir():
            raise ConfigError("MAILDAEMON_MAILDIR", f"{settings.maildir} is not a Maildir (no cur/ or new/)",
                              "point it at a Maildir folder")
        return
    if not settings.imap:
        raise ConfigError("MAILDAEMON_IMAP_HOST", "no source configured",
                          "set MAILDAEMON_IMAP_HOST (with _USER and _PASSWORD) or MAILDAEMON_MAILDIR")
    for part in ("USER", "PASSWORD"):
        if not getattr(settings.imap, part.lower()):
            raise ConfigError(f"MAILDAEMON_IMAP_{part}", "not set",
                              f"set MAILDAEMON_IMAP_{part} for the stream mailbox")


def parse_now(value: str, tz, setting: str = "--now") -> datetime:
    """An ISO 8601 date (its start, in the team's zone) or date-time (naive: the team's zone).
    A malformed value is a ConfigError naming `setting` (`--now` or `MAILDAEMON_NOW`)."""
    v = value.strip()
    try:
        if len(v) == 10:
            d = date.fromisoformat(v)
            return datetime(d.year, d.month, d.day, tzinfo=tz)
        dt = datetime.fromisoformat(v.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ConfigError(setting, f"{value!r} is not an ISO 8601 date or date-time",
                          "write e.g. 2026-11-24 or 2026-11-24T09:30 or 2026-11-24T09:30:00-06:00"
                          + (", or unset it to use the clock" if setting.isupper() else "")) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=tz)
