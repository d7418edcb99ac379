"""The example env file names every setting maildaemon reads, and reads back as a valid env file."""
import re
from pathlib import Path

from maildaemon.config import read_environment

ROOT = Path(__file__).resolve().parent.parent


def test_the_example_env_file_lists_every_setting_and_is_valid(tmp_path):
    example = ROOT / "maildaemon.env.example"
    code = "\n".join(p.read_text() for p in (ROOT / "maildaemon").rglob("*.py"))
    used = set(re.findall(r'"(MAILDAEMON_[A-Z_]+)"', code))
    used |= {f"MAILDAEMON_{k}_{f}" for k in ("IMAP", "SMTP") for f in ("HOST", "PORT", "USER", "PASSWORD", "SECURITY")}
    used.add("MAILDAEMON_IMAP_FOLDER")
    used = {u for u in used if not u.endswith("_")}
    listed = set(re.findall(r"^# (MAILDAEMON_[A-Z_]+)=", example.read_text(), re.M))
    assert used - listed == set()
    # uncommented, it is a file maildaemon reads without complaint
    active = re.sub(r"^# (MAILDAEMON_)", r"\1", example.read_text(), flags=re.M)
    tmp = tmp_path / "maildaemon.env"
    tmp.write_text(active)
    env = read_environment(str(tmp), {})
    assert env["MAILDAEMON_IMAP_PASSWORD"] == "secret with spaces"
    assert env["MAILDAEMON_SMTP_PORT"] == "587"
