"""The shipped unit file parses cleanly (systemd-analyze exits 0 even on bad keys: check stderr)."""
import shutil
import subprocess

import pytest


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_unit_file_verifies_without_warnings(tmp_path):
    unit = (open("systemd/maildaemon.service").read()
            .replace("/opt/maildaemon/venv/bin/maildaemon", shutil.which("true")))
    path = tmp_path / "maildaemon.service"
    path.write_text(unit)
    r = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    assert r.returncode == 0
    assert r.stderr.strip() == ""
