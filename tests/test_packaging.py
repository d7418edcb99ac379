"""`pip install .` ships what a checkout has: templates and demo data inside the package."""
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_carries_the_templates_and_the_demo(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    [wheel] = tmp_path.glob("maildaemon-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for t in (ROOT / "templates").glob("*.j2"):
        assert f"maildaemon/templates/{t.name}" in names
    for d in ("team.toml", "stream.mbox", "rotation.txt"):
        assert f"maildaemon/demo/{d}" in names
    assert not any(n.startswith("templates/") for n in names)
