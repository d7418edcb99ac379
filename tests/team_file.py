"""The test team file, and `toml`, which writes a team file from a dict (so that each test team
is written once, as data, and variants are a dict away). A module of its own: `from conftest
import` breaks when tests/live/conftest.py is collected first."""
from __future__ import annotations

import json
from datetime import date

TEAM = {
    "team": {
        "name": "Software Team",
        "timezone": "America/Chicago",
        "list_address": "software-support-stream@example.org",
        "triage_user": "Software Support (Triage)",
        "triage_next_action": "SOFTWARE TRIAGE",
        "from_address": "software-triage@example.org",
        "trusted_senders": ["ticket@example.org", "*@rt.example.org"],
    },
    "members": [
        {"name": "Ada Lovelace", "email": "ada@example.org", "aliases": ["alovelace"]},
        {"name": "Grace Hopper", "email": "grace@example.org"},
        {"name": "Alan Turing", "email": "alan@example.org"},
    ],
    "outages": [{"member": "grace@example.org", "start": date(2026, 11, 30), "end": date(2026, 12, 4)}],
}


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float, date)):
        return v.isoformat() if isinstance(v, date) else str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")   # a TOML basic string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(map(_value, v)) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"no TOML for {type(v).__name__}")


def toml(data: dict) -> str:
    """`data` as a team file: a `[table]` for each dict, `[[table]]`s for each list of dicts (a dict
    inside one of those is an inline table)."""
    tables = []
    for name, value in data.items():
        rows = [(f"[{name}]", value)] if isinstance(value, dict) else [(f"[[{name}]]", row) for row in value]
        tables += ["\n".join([head, *(f"{k} = {_value(v)}" for k, v in row.items())]) + "\n" for head, row in rows]
    return "\n" + "\n".join(tables)


TEAM_TOML = toml(TEAM)
