"""The shipped unit files parse cleanly (systemd-analyze exits 0 even on bad keys: check stderr)."""
import os
import shutil
import subprocess

import pytest

needs_systemd = pytest.mark.skipif(not shutil.which("systemd-analyze") or not shutil.which("man"),
                                   reason="systemd-analyze or man not installed (tests/run.sh installs them)")


def man_env(tmp_path) -> dict:
    """The man page installed as the README says (man1/maildaemon.1), for Documentation=man:…"""
    man1 = tmp_path / "man" / "man1"
    man1.mkdir(parents=True)
    shutil.copy("docs/maildaemon.1", man1 / "maildaemon.1")
    return dict(os.environ, MANPATH=str(tmp_path / "man"))


def verify(tmp_path, source: str, name: str) -> subprocess.CompletedProcess:
    unit = open(source).read().replace("/opt/maildaemon/venv/bin/maildaemon", shutil.which("true"))
    path = tmp_path / name
    path.write_text(unit)
    return subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True,
                          env=man_env(tmp_path))


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
                       capture_output=True, text=True, cwd=tmp_path, env=man_env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == ""
    text = (tmp_path / "maildaemon@.service").read_text()
    for line in ("EnvironmentFile=/etc/maildaemon/%i.env", "MAILDAEMON_STATE_DIR=/var/lib/maildaemon/%i",
                 "MAILDAEMON_TEAM_FILE=/etc/maildaemon/%i.toml", "StateDirectory=maildaemon/%i", "User=maildaemon-%i"):
        assert line in text
