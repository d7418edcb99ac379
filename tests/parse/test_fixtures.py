"""Every `fixtures/<system>/<case>.eml` is parsed and compared with `<case>.json`.

Adding a case is adding two files. The folder name is the system: its parser is the class in
`maildaemon.parse.<system>` whose `system` is that name. A folder with a `_system.toml` (a team
file's `[[systems]]` table) holds a team-defined system instead: its parser is a `CustomParser`
of that entry, and its changes carry the entry's name as `system`. The JSON lists only the `Change` fields
the case asserts (datetimes as ISO 8601 strings with their offset, tuples and `kinds` as lists);
a field named there must exist. Optional keys starting with `_`:
  `_list_names`: list names passed to `read_mail` (as the team's list address would be);
  `_unparseable`: a regex the `Unparseable` reason must match (the case must not parse).
Each mail must also be recognised by its own parser and by no other system's.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import re
import tomllib
from datetime import datetime
from pathlib import Path

import pytest

from maildaemon.config import team_from_dict
from maildaemon.model import Change
from maildaemon.parse.custom import CustomParser
from maildaemon.parse.base import Unparseable
from maildaemon.parse.mail import read_mail

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(FIXTURES.glob("*/*.eml"))
SYSTEMS = sorted({p.parent.name for p in CASES})
FIELDS = {f.name for f in dataclasses.fields(Change)}


def parser_for(system: str):
    spec_file = FIXTURES / system / "_system.toml"
    if spec_file.is_file():
        team = team_from_dict({"team": {"name": "t", "timezone": "UTC", "from_address": "t@example.org",
                                        "list_address": "software-support-stream@example.org"},
                               **tomllib.loads(spec_file.read_text())})
        return CustomParser(team.systems[0], list_address=team.list_address)
    module = importlib.import_module(f"maildaemon.parse.{system}")
    for value in vars(module).values():
        if isinstance(value, type) and getattr(value, "system", None) == system and hasattr(value, "parse"):
            return value()
    raise LookupError(f"no parser class with system = {system!r} in maildaemon.parse.{system}")


def as_json(value):
    """A Change field as the JSON files write it."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, tuple):
        return [as_json(v) for v in value]
    return value


def expected_value(name: str, value):
    """Normalise an expected datetime string so '+00:00' and 'Z' spellings compare alike."""
    if isinstance(value, str) and name in ("at", "actor_at", "next_action_deadline"):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    if name == "kinds":
        return sorted(value)
    return value


def test_every_fixture_has_its_expectations():
    emls = {p.with_suffix("") for p in FIXTURES.glob("*/*.eml")}
    jsons = {p.with_suffix("") for p in FIXTURES.glob("*/*.json")}
    assert emls == jsons, f"unpaired fixture files: {sorted(map(str, emls ^ jsons))}"
    assert CASES, "no fixtures found"


@pytest.mark.parametrize("eml", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture(eml: Path):
    expected = json.loads(eml.with_suffix(".json").read_text(encoding="utf-8"))
    mail = read_mail(eml.read_bytes(), tuple(expected.pop("_list_names", ())))
    system = eml.parent.name
    parser = parser_for(system)
    assert parser.recognises(mail), f"{system} parser does not recognise {eml.name}"
    for other in SYSTEMS:
        if other != system:
            assert not parser_for(other).recognises(mail), f"{other} parser also recognises {eml.name}"

    unparseable = expected.pop("_unparseable", None)
    if unparseable is not None:
        with pytest.raises(Unparseable, match=unparseable):
            parser.parse(mail)
        return

    unknown = sorted(set(expected) - FIELDS)
    assert not unknown, f"{eml.with_suffix('.json').name} names fields Change does not have: {unknown}"
    change = parser.parse(mail)
    got = {name: as_json(getattr(change, name)) for name in expected}
    want = {name: expected_value(name, value) for name, value in expected.items()}
    assert got == want
    assert change.key == f"{change.system}:{change.id}" and change.system == parser.system
    assert change.at.tzinfo is not None and re.fullmatch(r"<[^<>\s]+>", change.message_id)
