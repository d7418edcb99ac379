"""SPEC 11, "Ownership": root running a writing command on the service's state leaves it the service's."""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from team_file import TEAM_TOML

ROOT = Path(__file__).resolve().parent.parent
SERVICE_UID, SERVICE_GID = 65534, 65534          # nobody/nogroup: a user that is not root


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root, as the operator's sudo has")
def test_root_writing_into_the_services_state_leaves_every_file_to_the_service():
    base = Path(tempfile.mkdtemp(prefix="own-", dir="/tmp"))
    try:
        base.chmod(0o755)
        state = base / "state"
        state.mkdir(mode=0o700)
        os.chown(state, SERVICE_UID, SERVICE_GID)
        team = base / "team.toml"
        team.write_text(TEAM_TOML)
        team.chmod(0o600)                                  # root's, as /etc/maildaemon files often are
        env_file = base / "maildaemon.env"
        env_file.write_text(f"MAILDAEMON_STATE_DIR={state}\nMAILDAEMON_TEAM_FILE={team}\n")
        env_file.chmod(0o600)
        rota = base / "rotation.txt"
        rota.write_text("2026-11-23  grace@example.org  Grace Hopper\n")
        rota.chmod(0o644)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILDAEMON_")}
        env["PYTHONPATH"] = str(ROOT)
        r = subprocess.run([sys.executable, "-m", "maildaemon", "rotation", "load", str(rota),
                            "--env-file", str(env_file)], env=env, cwd=base, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        owners = {(p.relative_to(state).as_posix(), p.stat().st_uid) for p in [state, *state.rglob("*")]}
        assert owners and all(uid == SERVICE_UID for _, uid in owners), owners
        r = subprocess.run([sys.executable, "-m", "maildaemon", "rotation", "show", "--env-file", str(env_file)],
                           env=env, cwd=base, capture_output=True, text=True)
        assert r.returncode == 0 and "grace@example.org" in r.stdout
    finally:
        shutil.rmtree(base, ignore_errors=True)
