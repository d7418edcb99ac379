"""Shared test helpers: a team file and an in-process CLI runner."""
import io
from pathlib import Path

import pytest

from maildaemon.cli import main

from team_file import TEAM_TOML  # noqa: E402,F401 - re-exported for older tests


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
