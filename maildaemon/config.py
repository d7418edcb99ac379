"""Configuration: deployment settings from the environment (and an env file), the team from TOML.

Everything is validated here, once, at start: a wrong setting raises `ConfigError(setting, fix)`,
which the CLI prints as one line and exit status 2. Secrets are kept out of reprs and messages.
"""
from __future__ import annotations

import difflib
import io
import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import regex
from dotenv import dotenv_values
from dotenv.parser import parse_stream

from maildaemon.model import DAYS, Meeting, Member, Outage, Policy, SystemSpec, Team  # noqa: F401 (DAYS re-exported)
from maildaemon.errors import ConfigError  # noqa: F401 (re-exported)

# what a team-defined system (SPEC 7.6) may read from its mail
CUSTOM_FIELDS = ("title", "status", "owner", "assignee", "assignees", "submitter", "next_action", "priority",
                 "url", "cc", "actor", "summary")


DEFAULT_MAX_MAIL_BYTES = 10 * 1024 * 1024


class _Problems(list):
    """Every problem found in the configuration, in order: validation goes on after one, so `check`
    can name them all in one run."""

    def run(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ConfigError as e:
            self.append(e)
            return None


@dataclass(frozen=True)
class ServerSettings:
    """An IMAP or SMTP endpoint. The password never appears in repr() or str()."""
    host: str
    port: int
    user: str = ""
    password: str = field(default="", repr=False)
    security: str = "ssl"          # ssl | starttls | plain
    folder: str = "INBOX"          # IMAP only

    def describe(self) -> str:
        who = f"{self.user}@" if self.user else ""
        return f"{who}{self.host}:{self.port} ({self.security})"


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

    problems = _Problems()
    templates = get("MAILDAEMON_TEMPLATES_DIR")
    if templates and not Path(templates).is_dir():
        problems.append(ConfigError("MAILDAEMON_TEMPLATES_DIR", f"{templates} is not a directory",
                                    "point it at a folder of template overrides or unset it"))
    maildir = get("MAILDAEMON_MAILDIR")
    imap = problems.run(_server, env, "IMAP", default_port=993, default_security="ssl") \
        if get("MAILDAEMON_IMAP_HOST") else None
    smtp = problems.run(_server, env, "SMTP", default_port=587, default_security="starttls") \
        if get("MAILDAEMON_SMTP_HOST") else None
    problems.run(_login_pair, env, "SMTP")
    level = (get("MAILDAEMON_LOG_LEVEL", "INFO") or "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        problems.append(ConfigError("MAILDAEMON_LOG_LEVEL", f"unknown level {level!r}",
                                    "use DEBUG, INFO, WARNING or ERROR"))
    numbers = dict(
        poll_seconds=problems.run(_int, get("MAILDAEMON_POLL_SECONDS", "60"), "MAILDAEMON_POLL_SECONDS", 1),
        max_mail_bytes=problems.run(_int, get("MAILDAEMON_MAX_MAIL_BYTES", str(DEFAULT_MAX_MAIL_BYTES)),
                                    "MAILDAEMON_MAX_MAIL_BYTES", 4096),
        quarantine_max_mb=problems.run(_int, get("MAILDAEMON_QUARANTINE_MAX_MB", "500"),
                                       "MAILDAEMON_QUARANTINE_MAX_MB", 1),
        quarantine_days=problems.run(_int, get("MAILDAEMON_QUARANTINE_DAYS", "90"), "MAILDAEMON_QUARANTINE_DAYS", 1),
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


def check_configuration(env_file: str | None, environ: dict[str, str]) -> list[str]:
    """Every configuration problem in one run, one line each (`setting: problem; fix`): the env
    file, the MAILDAEMON_* settings, `MAILDAEMON_NOW`, then the team file. Empty when all is well.
    For `maildaemon check`, which prints them all (SPEC 3) where other commands stop at the first."""
    try:
        env = read_environment(env_file, environ)
    except ConfigError as e:
        return [str(e)]
    settings, problems = validate_settings(env)
    now = (env.get("MAILDAEMON_NOW") or "").strip()
    if now:
        try:
            parse_now(now, ZoneInfo("UTC"), "MAILDAEMON_NOW")
        except ConfigError as e:
            problems.append(e)
    team_file = settings.team_file if settings else Path((env.get("MAILDAEMON_TEAM_FILE") or "").strip()
                                                         or "./team.toml")
    return [str(p) for p in problems] + check_team_file(team_file)


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


def _login_pair(env: dict[str, str], kind: str) -> None:
    """A user without a password (or the reverse) is half a login: refused, not tried at send time."""
    user = (env.get(f"MAILDAEMON_{kind}_USER") or "").strip()
    password = env.get(f"MAILDAEMON_{kind}_PASSWORD") or ""
    if user and not password:
        raise ConfigError(f"MAILDAEMON_{kind}_PASSWORD", f"not set while MAILDAEMON_{kind}_USER is",
                          f"set MAILDAEMON_{kind}_PASSWORD too, or unset MAILDAEMON_{kind}_USER "
                          "to send without logging in")
    if password and not user:
        raise ConfigError(f"MAILDAEMON_{kind}_USER", f"not set while MAILDAEMON_{kind}_PASSWORD is",
                          f"set MAILDAEMON_{kind}_USER to the login of that password, "
                          f"or unset MAILDAEMON_{kind}_PASSWORD")


def _server(env: dict[str, str], kind: str, default_port: int, default_security: str) -> ServerSettings:
    p = f"MAILDAEMON_{kind}_"
    host = env[p + "HOST"].strip()
    security = (env.get(p + "SECURITY") or default_security).strip().lower()
    if security not in ("ssl", "starttls", "plain"):
        raise ConfigError(p + "SECURITY", f"unknown value {security!r}", "use ssl, starttls or plain")
    if security == "plain" and not is_loopback(host):
        raise ConfigError(p + "SECURITY", f"plain (unencrypted) is refused toward {host}, which is not loopback",
                          "use ssl or starttls, or plain only with 127.0.0.1/localhost")
    port = _int(env.get(p + "PORT") or str(default_port), p + "PORT", 1, 65535)
    folder = (env.get(p + "FOLDER") or "INBOX").strip() if kind == "IMAP" else "INBOX"
    return ServerSettings(host=host, port=port, user=(env.get(p + "USER") or "").strip(),
                          password=env.get(p + "PASSWORD") or "", security=security, folder=folder)


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _int(value: str | None, setting: str, low: int, high: int | None = None) -> int:
    try:
        n = int(str(value).strip())
    except ValueError:
        raise ConfigError(setting, f"{value!r} is not a whole number", "set a number") from None
    if n < low or (high is not None and n > high):
        raise ConfigError(setting, f"{n} is out of range", f"use a number from {low}" + (f" to {high}" if high else " up"))
    return n


# --- the team file -------------------------------------------------------------------------

# Every key maildaemon knows, per section: the team file is read strictly (SPEC 3), so a key that is
# not here is refused with the nearest known one. README's "Team file" reference lists each of these
# (tests/test_config_strict.py checks that it does).
KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "team": ("name", "timezone", "list_address", "from_address", "triage_user", "triage_next_action",
             "trusted_senders", "holidays", "duty_start", "work_hours", "require_authentication", "authserv_id"),
    "policy": ("unassigned_after_hours", "stale_after_days", "user_wait_days", "user_close_days",
               "repeat_after_days", "reminder_times", "announce_time", "handoff_time", "silence_after_hours"),
    "members": ("name", "email", "aliases", "rotation", "signature", "suggest"),
    "outages": ("member", "start", "end", "reason"),
    "meetings": ("day", "time", "name", "brief", "brief_minutes"),
    "systems": ("name", "trusted_senders", "key", "fields", "status_map", "headers", "body_until"),
}
SINGLE_TABLES = ("team", "policy")          # [team], [policy]; the others are arrays: [[members]] ...
DUTY_WEEKDAYS = DAYS[:5]                    # duty days are business days: Monday to Friday (business.py)


def load_team(path: Path) -> Team:
    """Read and validate the team file. Errors name the TOML key, e.g. `team.timezone`; with several
    problems the first is raised and says how many more there are (`check_team_file` lists them)."""
    team, problems = validate_team_file(path)
    if problems:
        raise _first(problems)
    return team


def check_team_file(path: Path | str) -> list[str]:
    """Every problem of a team file, one line each (`setting: problem; fix`); empty when it is fine.
    What `maildaemon check` prints, one `FAIL` line per problem."""
    return [str(p) for p in validate_team_file(Path(path))[1]]


def validate_team_file(path: Path) -> tuple[Team | None, list[ConfigError]]:
    """The team, or None and every problem found (a missing or unreadable file is one problem)."""
    if path.is_dir():
        return None, [ConfigError("MAILDAEMON_TEAM_FILE", f"{path} is a folder, not a team file",
                                  "point MAILDAEMON_TEAM_FILE at the team's TOML file")]
    if not path.is_file():
        return None, [ConfigError("MAILDAEMON_TEAM_FILE", f"{path} not found",
                                  "create the team file (see README, 'Team file') or point MAILDAEMON_TEAM_FILE at it")]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        return None, [ConfigError("MAILDAEMON_TEAM_FILE", f"{path} is not valid TOML ({e})", "fix the syntax")]
    except OSError as e:
        return None, [ConfigError("MAILDAEMON_TEAM_FILE", f"{path} cannot be read ({e.strerror or e})",
                                  "make it readable by the user maildaemon runs as")]
    return validate_team(data)


def team_from_dict(data: dict) -> Team:
    """The team of a parsed team file; the first problem is raised (see `validate_team`)."""
    team, problems = validate_team(data)
    if problems:
        raise _first(problems)
    return team


def _first(problems: list[ConfigError]) -> ConfigError:
    first = problems[0]
    if len(problems) == 1:
        return first
    more = len(problems) - 1
    return ConfigError(first.setting, first.problem,
                       f"{first.fix} ({more} more problem{'s' if more > 1 else ''} in the team file: "
                       "`maildaemon check` lists them all)")


def validate_team(data: dict) -> tuple[Team | None, list[ConfigError]]:
    """The team and [], or None and every problem of the parsed team file, in file order as far as
    possible: unknown keys first (a typo is the cause of the `missing` it leads to, which is then not
    repeated), then each value, then values that contradict each other."""
    problems = _Problems(_unknown_keys(data))
    t = problems.run(_table, data, "team", required=True) or {}
    name = problems.run(_str, t, "team.name", required=True)
    tz = problems.run(_timezone, t)
    list_address = problems.run(_address, t, "team.list_address", required=True)
    from_address = problems.run(_address, t, "team.from_address", required=True)
    triage_user = problems.run(_str, t, "team.triage_user")
    triage_next_action = problems.run(_str, t, "team.triage_next_action")
    trusted = problems.run(_trusted_senders, t)
    duty_start = problems.run(_day, t.get("duty_start", "mon"), "team.duty_start")
    work_hours = problems.run(_hours, t.get("work_hours", "09:00-17:00"))
    holidays = problems.run(_holidays, t)
    auth = problems.run(_authentication, t)
    policy_table = problems.run(_table, data, "policy")
    policy = _policy(policy_table or {}, problems)

    member_entries = problems.run(_array, data, "members") or []
    members = [_member(m, i, problems) for i, m in enumerate(member_entries)]
    emails = [m.email for m in members if m is not None]
    dup = sorted({e for e in emails if emails.count(e) > 1})
    if dup:
        problems.append(ConfigError("members.email", f"{dup[0]} is listed twice", "list each member once"))
    # an outage's member is checked against the members only when every member could be read
    # (and [[members]] was not misspelt: its outages are then no news)
    typos = {e.suggestion for e in problems if e.suggestion}
    known = set(emails) if None not in members and "members" not in typos else None
    outages = [problems.run(_outage, o, i, known) for i, o in enumerate(problems.run(_array, data, "outages") or [])]
    meetings = [problems.run(_meeting, m, i) for i, m in enumerate(problems.run(_array, data, "meetings") or [])]
    systems = [_system(s, i, problems) for i, s in enumerate(problems.run(_array, data, "systems") or [])]

    problems[:] = [e for e in problems if not (e.problem == "missing" and e.setting in typos)]
    if problems:
        return None, list(problems)
    require_auth, authserv_id = auth
    return Team(
        name=name, timezone=tz, list_address=list_address, from_address=from_address,
        triage_user=triage_user or "", triage_next_action=triage_next_action or "",
        trusted_senders=tuple(s.lower() for s in trusted), holidays=holidays, duty_start=duty_start,
        work_hours=work_hours, require_authentication=require_auth,
        authserv_id=authserv_id.lower() if authserv_id else None, policy=policy,
        members=tuple(members), outages=tuple(outages), meetings=tuple(meetings), systems=tuple(systems),
    ), []


# --- unknown keys ------------------------------------------------------------------------------

def _brackets(section: str) -> str:
    return f"[{section}]" if section in SINGLE_TABLES else f"[[{section}]]"


def _unknown_keys(data: dict) -> list[ConfigError]:
    """A key or table maildaemon does not know, each named with the nearest known one."""
    out = []
    for key, value in data.items():
        if key not in KNOWN_KEYS:
            out.append(_unknown_table(key, value))
            continue
        if key in SINGLE_TABLES:
            entries = [(key, value)]
        else:
            entries = [(f"{key}[{i}]", v) for i, v in enumerate(value)] if isinstance(value, list) else []
        for where, entry in entries:
            if isinstance(entry, dict):
                out.extend(_unknown_key(key, where, k) for k in entry if k not in KNOWN_KEYS[key])
    return out


def _unknown_table(key: str, value) -> ConfigError:
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        what = f"unknown table [[{key}]]"
    elif isinstance(value, dict):
        what = f"unknown table [{key}]"
    else:
        what = "unknown key at the top of the file, outside any table"
    table = isinstance(value, dict) or isinstance(value, list) and all(isinstance(v, dict) for v in value)
    close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
    home = [s for s, keys in KNOWN_KEYS.items() if key in keys]
    if home and not table:
        fix = f"{key} belongs in {_brackets(home[0])}: move it below that table's header"
    elif close:
        fix = f"did you mean {_brackets(close[0])}?"
    else:
        fix = "remove it; the tables are " + ", ".join(_brackets(s) for s in KNOWN_KEYS)
    e = ConfigError(key, what, fix)
    if close and table:
        e.suggestion = close[0]
    return e


def _unknown_key(section: str, where: str, key: str) -> ConfigError:
    close = difflib.get_close_matches(key, KNOWN_KEYS[section], n=1)
    elsewhere = [s for s, keys in KNOWN_KEYS.items() if key in keys and s != section]
    if close:
        fix = f"did you mean {close[0]}?"
    elif elsewhere:
        fix = f"{key} belongs in {_brackets(elsewhere[0])}: move it there"
    else:
        fix = f"remove it; the keys of {_brackets(section)} are " + ", ".join(KNOWN_KEYS[section])
    e = ConfigError(f"{where}.{key}", f"unknown key in {_brackets(section)}", fix)
    if close:
        e.suggestion = f"{where}.{close[0]}"
    return e


# --- each section ------------------------------------------------------------------------------

def _timezone(t: dict) -> str:
    tz = _str(t, "team.timezone", required=True)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("team.timezone", f"unknown time zone {tz!r}",
                          "use an IANA name such as America/Chicago") from None
    return tz


def _trusted_senders(t: dict) -> list[str]:
    trusted = t.get("trusted_senders", [])
    if not isinstance(trusted, list) or not all(isinstance(s, str) and _sender_pattern_ok(s) for s in trusted):
        raise ConfigError("team.trusted_senders", "must be a list of addresses or '*@domain' patterns",
                          'e.g. trusted_senders = ["ticket@example.org", "*@rt.example.org"]')
    return trusted


def _holidays(t: dict) -> str | None:
    """A country (and subdivision) the holidays package knows: checked now, not at the first
    reminder (SPEC 3)."""
    holidays = t.get("holidays")
    if holidays is None:
        return None
    if not (isinstance(holidays, str) and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,3})?", holidays)):
        raise ConfigError("team.holidays", f"{holidays!r} is not a country code", 'use e.g. "US" or "DE", or leave it out')
    reason = _unsupported_holidays(holidays)
    if reason:
        raise ConfigError("team.holidays", f"{holidays!r} is not supported by the holidays package ({reason})",
                          'use a supported ISO 3166 code such as "US", "US-CA" or "DE", or leave it out')
    return holidays


@lru_cache(maxsize=64)
def _unsupported_holidays(code: str) -> str | None:
    """Why the holidays package refuses `code`, or None. A country is looked up in the package's
    registry (names only: `list_supported_countries` imports all 500 country modules, 90 ms of
    every command); a subdivision, or a code it lacks, is confirmed by building the calendar of
    that one country."""
    import holidays as holidays_lib
    from holidays import registry
    country, _, subdiv = code.strip().upper().partition("-")
    known = any(country in names[1:] for names in registry.COUNTRIES.values())
    if known and not subdiv:
        return None
    try:
        holidays_lib.country_holidays(country, subdiv=subdiv or None, years=[])
    except NotImplementedError as e:
        return str(e)
    return None


def _authentication(t: dict) -> tuple[bool, str | None]:
    require_auth = t.get("require_authentication", False)
    if not isinstance(require_auth, bool):
        raise ConfigError("team.require_authentication", "must be true or false", "write true or false")
    authserv_id = _str(t, "team.authserv_id")
    if authserv_id is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]*", authserv_id):
        raise ConfigError("team.authserv_id", f"{authserv_id!r} is not a server name",
                          'write the receiving server\'s id as its Authentication-Results show it, e.g. "mx.example.org"')
    if require_auth and not authserv_id:
        raise ConfigError("team.authserv_id", "missing while require_authentication = true",
                          'set authserv_id to the id your mail server writes first in Authentication-Results, '
                          'e.g. "mx.example.org"')
    return require_auth, authserv_id


def _policy(p: dict, problems: _Problems) -> Policy | None:
    d = Policy()
    before = len(problems)

    def num(key, default, integer=True):
        v = p.get(key, default)
        ok = isinstance(v, int) if integer else isinstance(v, (int, float))
        if not ok or isinstance(v, bool) or v < 0:
            raise ConfigError(f"policy.{key}", f"{v!r} is not a non-negative {'whole ' if integer else ''}number",
                              f"set policy.{key} = {default}")
        return v

    def reminder_times():
        times = p.get("reminder_times", ["09:30", "14:00"])
        if not isinstance(times, list) or not times:
            raise ConfigError("policy.reminder_times", "must be a list of HH:MM times", 'e.g. ["09:30", "14:00"]')
        return tuple(sorted(_time(x, "policy.reminder_times") for x in times))

    values = dict(
        unassigned_after_hours=problems.run(num, "unassigned_after_hours", d.unassigned_after_hours, integer=False),
        stale_after_days=problems.run(num, "stale_after_days", d.stale_after_days),
        user_wait_days=problems.run(num, "user_wait_days", d.user_wait_days),
        user_close_days=problems.run(num, "user_close_days", d.user_close_days),
        repeat_after_days=problems.run(num, "repeat_after_days", d.repeat_after_days),
        reminder_times=problems.run(reminder_times),
        announce_time=problems.run(_day_time, p.get("announce_time", "mon 09:00"), "policy.announce_time"),
        handoff_time=problems.run(_day_time, p.get("handoff_time", "fri 15:00"), "policy.handoff_time"),
        silence_after_hours=problems.run(num, "silence_after_hours", d.silence_after_hours, integer=False),
    )
    wait, close = values["user_wait_days"], values["user_close_days"]
    if wait is not None and close is not None and close <= wait:
        problems.append(ConfigError(
            "policy.user_close_days", f"{close} is not above policy.user_wait_days ({wait}), so the owner would be "
            "told to close before the user is reminded",
            f"set user_close_days above user_wait_days (e.g. {wait + 5}) or lower user_wait_days"))
    handoff = values["handoff_time"]
    if handoff is not None and handoff[0] not in DUTY_WEEKDAYS:
        problems.append(ConfigError(
            "policy.handoff_time", f"{p.get('handoff_time')!r} is not on a duty day (duty days are Monday to "
            "Friday, whatever team.duty_start is)", 'hand over on a weekday, e.g. handoff_time = "fri 15:00"'))
    return None if len(problems) > before else Policy(**values)


def _member(m, i: int, problems: _Problems) -> Member | None:
    where = f"members[{i}]"
    if not isinstance(m, dict):
        problems.append(ConfigError(where, "must be a table", "write [[members]] with name and email"))
        return None
    before = len(problems)
    name = problems.run(_str, m, f"{where}.name", required=True)
    email = problems.run(_address, m, f"{where}.email", required=True)
    aliases = m.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        problems.append(ConfigError(f"{where}.aliases", "must be a list of strings",
                                    'e.g. aliases = ["Ada L.", "@alovelace"]'))
    rotation = m.get("rotation", True)
    if not isinstance(rotation, bool):
        problems.append(ConfigError(f"{where}.rotation", "must be true or false", "write true or false"))
    signature = problems.run(_str, m, f"{where}.signature")
    suggest = m.get("suggest", True)
    if not isinstance(suggest, bool):
        problems.append(ConfigError(f"{where}.suggest", "must be true or false",
                                    "write suggest = false to never be suggested as an owner"))
    if len(problems) > before:
        return None
    return Member(name=name, email=email, aliases=tuple(a.strip() for a in aliases if a.strip()),
                  rotation=rotation, signature=signature, suggest=suggest)


def _outage(o, i: int, emails: set[str] | None) -> Outage:
    where = f"outages[{i}]"
    if not isinstance(o, dict):
        raise ConfigError(where, "must be a table", "write [[outages]] with member, start and end")
    member = _address(o, f"{where}.member", required=True)
    if emails is not None and member not in emails:
        raise ConfigError(f"{where}.member", f"{member} is not a member", "use the email of a [[members]] entry")
    start, end = _date(o.get("start"), f"{where}.start"), _date(o.get("end"), f"{where}.end")
    if end < start:
        raise ConfigError(f"{where}.end", f"{end} is before start {start}", "end is inclusive and not before start")
    return Outage(member=member, start=start, end=end, reason=_str(o, f"{where}.reason") or "")


def _meeting(m, i: int) -> Meeting:
    where = f"meetings[{i}]"
    if not isinstance(m, dict):
        raise ConfigError(where, "must be a table", "write [[meetings]] with day, time and name")
    brief = m.get("brief", False)
    if not isinstance(brief, bool):
        raise ConfigError(f"{where}.brief", f"{brief!r} is not true or false",
                          "write brief = true to get a brief before the meeting")
    minutes = m.get("brief_minutes", Meeting.brief_minutes)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 < minutes <= 24 * 60:
        raise ConfigError(f"{where}.brief_minutes", f"{minutes!r} is not a number of minutes from 1 to 1440",
                          f"set brief_minutes = {Meeting.brief_minutes}")
    return Meeting(day=_day(m.get("day"), f"{where}.day"), time=_time(m.get("time"), f"{where}.time"),
                   name=_str(m, f"{where}.name", required=True), brief=brief, brief_minutes=minutes)


def _system(s, i: int, problems: _Problems) -> SystemSpec | None:
    """A team-defined system: every regex compiled now, so a bad one stops start-up."""
    if not isinstance(s, dict):
        problems.append(ConfigError(f"systems[{i}]", "must be a table", "write [[systems]] with name and key"))
        return None
    before = len(problems)
    name = problems.run(_str, s, f"systems[{i}].name", required=True)
    if name is not None and not re.fullmatch(r"[a-z][a-z0-9_-]*", name):
        problems.append(ConfigError(f"systems[{i}].name", f"{name!r} is not a lower-case identifier",
                                    'use e.g. "freshdesk"'))
    where = f"systems.{name}" if len(problems) == before else f"systems[{i}]"
    key = problems.run(_str, s, f"{where}.key", required=True)
    if key is not None:
        problems.run(_regex, key, f"{where}.key", "id")
    fields = s.get("fields", {})
    if not isinstance(fields, dict):
        problems.append(ConfigError(f"{where}.fields", "must be a table of field = regex",
                                    "e.g. fields = { status = '^Status:\\s*(?P<value>.+)$' }"))
        fields = {}
    for f, rx in fields.items():
        if f not in CUSTOM_FIELDS:
            problems.append(_unknown_field(f"{where}.fields.{f}", f))
        else:
            problems.run(_regex, rx, f"{where}.fields.{f}", "value")
    status_map = s.get("status_map", {})
    if not isinstance(status_map, dict) or not all(v in ("open", "waiting-on-user", "resolved", "closed")
                                                   for v in status_map.values()):
        problems.append(ConfigError(f"{where}.status_map", "values must be open, waiting-on-user, resolved or closed",
                                    "map each of the system's words to one of those"))
    senders = s.get("trusted_senders", [])
    if not isinstance(senders, list) or not all(isinstance(x, str) and _sender_pattern_ok(x) for x in senders):
        problems.append(ConfigError(f"{where}.trusted_senders", "must be a list of addresses or '*@domain'",
                                    "fix the list"))
    headers = s.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) and re.fullmatch(r"[!-9;-~]+", v)
                                                for v in headers.values()):
        problems.append(ConfigError(f"{where}.headers", "must be a table of field = header name",
                                    'e.g. headers = { owner = "X-Bugzilla-Assigned-To" }'))
        headers = {}
    for f in headers:
        if f not in CUSTOM_FIELDS:
            problems.append(_unknown_field(f"{where}.headers.{f}", f))
    body_until = s.get("body_until")
    if body_until is not None:
        problems.run(_regex, body_until, f"{where}.body_until", None)
    if len(problems) > before:
        return None
    return SystemSpec(name=name, key=key, fields=tuple(fields.items()), status_map=tuple(status_map.items()),
                      trusted_senders=tuple(x.lower() for x in senders), headers=tuple(headers.items()),
                      body_until=body_until)


def _unknown_field(setting: str, f: str) -> ConfigError:
    close = difflib.get_close_matches(f, CUSTOM_FIELDS, n=1)
    return ConfigError(setting, "is not a field maildaemon knows",
                       (f"did you mean {close[0]}? " if close else "") + "use one of " + ", ".join(CUSTOM_FIELDS))


def _regex(rx, setting: str, group: str | None) -> None:
    """Team regexes run with the `regex` module (under a time limit, parse/custom.py): compile them
    with it, so what passes here is what runs."""
    if not isinstance(rx, str):
        raise ConfigError(setting, "must be a regex string", "quote it with single quotes in TOML")
    try:
        compiled = regex.compile(rx, regex.M | regex.I)
    except (regex.error, ValueError, OverflowError) as e:
        raise ConfigError(setting, f"regex does not compile ({e})", "fix the regular expression") from None
    if group is not None and group not in compiled.groupindex:
        raise ConfigError(setting, f"regex has no (?P<{group}>...) group", f"add a named group (?P<{group}>...)")


# --- small validators -----------------------------------------------------------------------

def _table(data: dict, key: str, required: bool = False) -> dict:
    v = data.get(key)
    if v is None:
        if required:
            raise ConfigError(key, "section missing", f"add a [{key}] section (see README)")
        return {}
    if not isinstance(v, dict):
        raise ConfigError(key, "must be a table", f"write [{key}]")
    return v


def _array(data: dict, key: str) -> list:
    v = data.get(key, [])
    if not isinstance(v, list):
        raise ConfigError(key, "must be an array of tables", f"write [[{key}]] entries")
    return v


def _str(t: dict, setting: str, required: bool = False) -> str | None:
    v = t.get(setting.rsplit(".", 1)[-1])
    if v is None or (isinstance(v, str) and not v.strip()):
        if required:
            raise ConfigError(setting, "missing", f"set {setting.rsplit('.', 1)[-1]} in the team file")
        return None
    if not isinstance(v, str):
        raise ConfigError(setting, f"{v!r} is not a string", "quote the value")
    return v.strip()


def _address(t: dict, setting: str, required: bool = False) -> str | None:
    v = _str(t, setting, required)
    if v is not None and not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", v):
        raise ConfigError(setting, f"{v!r} is not an email address", "write a plain address like name@example.org")
    return v.lower() if v else v


def _sender_pattern_ok(s: str) -> bool:
    return bool(re.fullmatch(r"(\*|[^@\s*]+)@[^@\s*]+", s.strip()))


def _day(v, setting: str) -> str:
    s = str(v or "").strip().lower()[:3]
    if s not in DAYS:
        raise ConfigError(setting, f"{v!r} is not a weekday", "use mon, tue, wed, thu, fri, sat or sun")
    return s


def _time(v, setting: str) -> time:
    if isinstance(v, time):
        return v
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", str(v))
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ConfigError(setting, f"{v!r} is not a HH:MM time", 'write e.g. "09:30"')
    return time(int(m.group(1)), int(m.group(2)))


def _day_time(v, setting: str) -> tuple[str, time]:
    parts = str(v).split()
    if len(parts) != 2:
        raise ConfigError(setting, f"{v!r} is not 'day HH:MM'", 'write e.g. "fri 15:00"')
    return _day(parts[0], setting), _time(parts[1], setting)


def _hours(v) -> tuple[time, time]:
    parts = str(v).split("-")
    if len(parts) != 2:
        raise ConfigError("team.work_hours", f"{v!r} is not 'HH:MM-HH:MM'", 'write e.g. "09:00-17:00"')
    a, b = _time(parts[0], "team.work_hours"), _time(parts[1], "team.work_hours")
    if b <= a:
        raise ConfigError("team.work_hours", f"{v!r} ends before it starts", 'write e.g. "09:00-17:00"')
    return a, b


def _date(v, setting: str) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v))
    except ValueError:
        raise ConfigError(setting, f"{v!r} is not a date", "write YYYY-MM-DD") from None


def environ() -> dict[str, str]:
    return dict(os.environ)


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
