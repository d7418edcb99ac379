"""Every key the team file may hold, and the nearest known one for a key it does not know.

The team file is read strictly (SPEC 3): a misspelt key would otherwise be a setting silently left
at its default, so each unknown key or table is refused with a suggestion. README's "Team file"
reference lists each key of `KNOWN_KEYS` (tests/test_config_strict.py checks that it does).
"""
from __future__ import annotations


from maildaemon.errors import ConfigError

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


def brackets(section: str) -> str:
    return f"[{section}]" if section in SINGLE_TABLES else f"[[{section}]]"


def unknown_keys(data: dict) -> list[ConfigError]:
    """A key or table maildaemon does not know, each named with the nearest known one. An error
    for a misspelt table or key carries that one in `suggestion`."""
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
    import difflib                     # only for a mistake: 2 ms of every start otherwise
    close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
    home = [s for s, keys in KNOWN_KEYS.items() if key in keys]
    if home and not table:
        fix = f"{key} belongs in {brackets(home[0])}: move it below that table's header"
    elif close:
        fix = f"did you mean {brackets(close[0])}?"
    else:
        fix = "remove it; the tables are " + ", ".join(brackets(s) for s in KNOWN_KEYS)
    e = ConfigError(key, what, fix)
    if close and table:
        e.suggestion = close[0]
    return e


def _unknown_key(section: str, where: str, key: str) -> ConfigError:
    import difflib
    close = difflib.get_close_matches(key, KNOWN_KEYS[section], n=1)
    elsewhere = [s for s, keys in KNOWN_KEYS.items() if key in keys and s != section]
    if close:
        fix = f"did you mean {close[0]}?"
    elif elsewhere:
        fix = f"{key} belongs in {brackets(elsewhere[0])}: move it there"
    else:
        fix = f"remove it; the keys of {brackets(section)} are " + ", ".join(KNOWN_KEYS[section])
    e = ConfigError(f"{where}.{key}", f"unknown key in {brackets(section)}", fix)
    if close:
        e.suggestion = f"{where}.{close[0]}"
    return e
