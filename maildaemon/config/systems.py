"""`[[systems]]`: a ticket system the team describes with regexes (SPEC 7.6), checked at start.

Every regex is compiled here with the `regex` module that parse/custom.py runs it with, so a
regex that passes `check` is one that runs, and a bad one stops start-up naming its key.
"""
from __future__ import annotations

import re

from maildaemon.config.values import Problems, sender_pattern_ok, string
from maildaemon.errors import ConfigError
from maildaemon.model import STATUSES, SystemSpec

# what a team-defined system (SPEC 7.6) may read from its mail
CUSTOM_FIELDS = ("title", "status", "owner", "assignee", "assignees", "submitter", "next_action", "priority",
                 "url", "cc", "actor", "summary")


def system(s, i: int, problems: Problems) -> SystemSpec | None:
    """A team-defined system: every regex compiled now, so a bad one stops start-up."""
    if not isinstance(s, dict):
        problems.append(ConfigError(f"systems[{i}]", "must be a table", "write [[systems]] with name and key"))
        return None
    before = len(problems)
    name = problems.run(string, s, f"systems[{i}].name", required=True)
    if name is not None and not re.fullmatch(r"[a-z][a-z0-9_-]*", name):
        problems.append(ConfigError(f"systems[{i}].name", f"{name!r} is not a lower-case identifier",
                                    'use e.g. "freshdesk"'))
    where = f"systems.{name}" if len(problems) == before else f"systems[{i}]"
    key = problems.run(string, s, f"{where}.key", required=True)
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
    if not isinstance(status_map, dict) or not all(v in STATUSES for v in status_map.values()):
        problems.append(ConfigError(f"{where}.status_map", f"values must be {', '.join(STATUSES[:-1])} or {STATUSES[-1]}",
                                    "map each of the system's words to one of those"))
    senders = s.get("trusted_senders", [])
    if not isinstance(senders, list) or not all(isinstance(x, str) and sender_pattern_ok(x) for x in senders):
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
    import difflib                     # only for a mistake: 2 ms of every start otherwise
    close = difflib.get_close_matches(f, CUSTOM_FIELDS, n=1)
    return ConfigError(setting, "is not a field maildaemon knows",
                       (f"did you mean {close[0]}? " if close else "") + "use one of " + ", ".join(CUSTOM_FIELDS))


def _regex(rx, setting: str, group: str | None) -> None:
    """Team regexes run with the `regex` module (under a time limit, parse/custom.py): compile them
    with it, so what passes here is what runs. Imported here: only a team with its own systems has
    team regexes, and the module costs 11 ms of every command's start (issue 14)."""
    import regex
    if not isinstance(rx, str):
        raise ConfigError(setting, "must be a regex string", "quote it with single quotes in TOML")
    try:
        compiled = regex.compile(rx, regex.M | regex.I)
    except (regex.error, ValueError, OverflowError) as e:
        raise ConfigError(setting, f"regex does not compile ({e})", "fix the regular expression") from None
    if group is not None and group not in compiled.groupindex:
        raise ConfigError(setting, f"regex has no (?P<{group}>...) group", f"add a named group (?P<{group}>...)")
