"""Shared test helpers: a team file and an in-process CLI runner."""
import io
from pathlib import Path

import pytest

from maildaemon.cli import main

TEAM_TOML = """
[team]
name = "Software Team"
timezone = "America/Chicago"
list_address = "software-support-stream@example.org"
triage_user = "Software Support (Triage)"
triage_next_action = "SOFTWARE TRIAGE"
from_address = "software-triage@example.org"
trusted_senders = ["ticket@example.org", "*@rt.example.org"]

[[members]]
name = "Ada Lovelace"
email = "ada@example.org"
aliases = ["alovelace"]

[[members]]
name = "Grace Hopper"
email = "grace@example.org"

[[members]]
name = "Alan Turing"
email = "alan@example.org"

[[outages]]
member = "grace@example.org"
start = 2026-11-30
end = 2026-12-04
"""


class Cli:
    """Runs `maildaemon` in-process with a clean environment rooted in a temp folder."""

    def __init__(self, root: Path):
        self.root = root
        self.team_file = root / "team.toml"
        self.team_file.write_text(TEAM_TOML)
        self.env = {"MAILDAEMON_STATE_DIR": str(root / "state"), "MAILDAEMON_TEAM_FILE": str(self.team_file)}

    def __call__(self, *args: str, **env: str):
        out, err = io.StringIO(), io.StringIO()
        code = main(list(args), environ={**self.env, **env}, stdout=out, stderr=err)
        return code, out.getvalue(), err.getvalue()


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)          # no stray .env from the developer's folder
    return Cli(tmp_path)
