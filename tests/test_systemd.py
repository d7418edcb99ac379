"""The shipped unit files parse cleanly (systemd-analyze exits 0 even on bad keys: check stderr)."""
import shutil
import subprocess

import pytest

needs_systemd = pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")


def verify(tmp_path, source: str, name: str) -> subprocess.CompletedProcess:
    unit = open(source).read().replace("/opt/maildaemon/venv/bin/maildaemon", shutil.which("true"))
    path = tmp_path / name
    path.write_text(unit)
    return subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)


@needs_systemd
def test_unit_file_verifies_without_warnings(tmp_path):
    r = verify(tmp_path, "systemd/maildaemon.service", "maildaemon.service")
    assert r.returncode == 0
    assert r.stderr.strip() == ""


@needs_systemd
def test_the_template_unit_verifies_for_an_instance(tmp_path):
    """`maildaemon@.service` is verified as an instance, the way systemd loads it (a template alone
    cannot be verified): each team's env file, team file and state folder are its own."""
    (tmp_path / "maildaemon@.service").write_text(
        open("systemd/maildaemon@.service").read().replace("/opt/maildaemon/venv/bin/maildaemon", shutil.which("true")))
    r = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "maildaemon@physics.service")],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == ""
    text = (tmp_path / "maildaemon@.service").read_text()
    for line in ("EnvironmentFile=/etc/maildaemon/%i.env", "MAILDAEMON_STATE_DIR=/var/lib/maildaemon/%i",
                 "MAILDAEMON_TEAM_FILE=/etc/maildaemon/%i.toml", "StateDirectory=maildaemon/%i", "User=maildaemon-%i"):
        assert line in text
