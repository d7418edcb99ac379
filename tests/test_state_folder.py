"""The state folder as an attacker or a full disk leaves it (SPEC 9, "The state folder").

Real files, real `maildaemon` processes: planted symbolic links are refused and their targets left
untouched, folders are 0700 and files 0600 whatever the umask, a folder others may write is refused,
an empty or malformed state file stops every command with one line, a full disk is one line that
`status` shows afterwards, and a reader that goes away (`| head -1`) is no error.
"""
import json
import os
import resource
import stat
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from builders import CST, goc_mail

from maildaemon.atomic import StateIOError, write_atomic
from maildaemon.model import Health, Problem
from maildaemon.store import Store
from builders import write_mbox as mbox

REPO = Path(__file__).resolve().parents[1]


def run(cli, *args, preexec=None, **env):
    """`python -m maildaemon ARGS` in a fresh process, with the fixture's settings."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MAILDAEMON_")}
    environ.update(cli.env, PYTHONPATH=str(REPO), **env)
    p = subprocess.run([sys.executable, "-m", "maildaemon", *args], cwd=cli.root, env=environ,
                       capture_output=True, text=True, preexec_fn=preexec, timeout=120)
    return p.returncode, p.stdout, p.stderr



def untrusted(n=1, size=0):
    """A notification from a sender the team does not trust: it goes to the quarantine."""
    at = datetime(2026, 11, 23, 9, tzinfo=CST)
    entries = [(at, "Jane User", "x" * size)] if size else []
    return goc_mail(500 + n, f"From elsewhere {n}", at, n=n, entries=entries).replace(
        b"ticket@example.org", b"helpdesk@other.example.org")


def trusted(n=1):
    """A notification of a ticket Ada owns, from Monday 09:00."""
    return goc_mail(600 + n, f"Pilot jobs fail {n}", datetime(2026, 11, 23, 9, tzinfo=CST), n=n,
                    assignees=("Software Support (Triage)", "Ada Lovelace"))


def one_line(err):
    return err.count("\n") == 1 and "Traceback" not in err and "unexpected" not in err


# --- symbolic links are refused, never followed ---------------------------------------------

def test_a_planted_lock_link_is_refused_and_its_target_untouched(cli):
    state = cli.root / "state"
    state.mkdir(mode=0o700)
    target = cli.root / "precious.txt"
    target.write_text("do not truncate me\n")
    (state / "lock").symlink_to(target)
    code, _, err = run(cli, "import", mbox(cli.root / "a.mbox", [trusted()]))
    assert code != 0 and one_line(err)
    assert f"{state / 'lock'} is a symbolic link" in err
    assert target.read_text() == "do not truncate me\n"
    assert not (state / "maildaemon.json").exists()           # nothing done without the lock


def test_a_planted_quarantine_link_is_refused_and_nothing_written_there(cli):
    state = cli.root / "state"
    state.mkdir(mode=0o700)
    elsewhere = cli.root / "elsewhere"
    elsewhere.mkdir()
    (state / "quarantine").symlink_to(elsewhere)
    code, _, err = run(cli, "import", mbox(cli.root / "q.mbox", [untrusted()]))
    assert code == 1 and one_line(err) and f"{state / 'quarantine'} is a symbolic link" in err
    assert list(elsewhere.iterdir()) == []
    code, _, err = run(cli, "quarantine", "list")                 # reading does not follow it either
    assert code == 1 and f"{state / 'quarantine'} is a symbolic link" in err


def test_a_planted_outbox_link_is_refused_and_nothing_written_there(cli):
    state = cli.root / "state"
    assert run(cli, "import", mbox(cli.root / "w.mbox", [trusted()]))[0] == 0
    elsewhere = cli.root / "elsewhere"
    elsewhere.mkdir()
    (state / "outbox").symlink_to(elsewhere)
    with pytest.raises(StateIOError, match="outbox is a symbolic link"):
        Store(state).subdir("outbox")                               # the helper outbox.py uses
    with pytest.raises(StateIOError, match="outbox is a symbolic link"):
        write_atomic(state / "outbox" / "x.eml", b"mail")           # and no write goes through it
    # end to end: the owner reminder for goc:601 is due on Wednesday (signed by the person on duty)
    (cli.root / "rotation.txt").write_text("2026-11-23  grace@example.org  Grace Hopper\n")
    assert run(cli, "rotation", "load", str(cli.root / "rotation.txt"))[0] == 0
    code, out, err = run(cli, "remind", "--now", "2026-11-25T14:01")
    assert code != 0 and "outbox is a symbolic link" in err and "Traceback" not in err
    assert list(elsewhere.iterdir()) == []


def test_a_linked_state_file_is_an_error_naming_it_and_its_target_untouched(cli):
    state = cli.root / "state"
    assert run(cli, "import", mbox(cli.root / "w.mbox", [trusted(1)]))[0] == 0
    real = cli.root / "real.json"
    (state / "maildaemon.json").rename(real)
    (state / "maildaemon.json").symlink_to(real)
    before = real.read_bytes()
    for args in (("tickets",), ("import", mbox(cli.root / "x.mbox", [trusted(2)]))):
        code, _, err = run(cli, *args)
        assert code == 1 and one_line(err), err
        assert f"{state / 'maildaemon.json'} is a symbolic link" in err
    assert real.read_bytes() == before
    assert (state / "maildaemon.json").is_symlink()


def test_the_state_folder_itself_may_be_a_link(cli):
    """systemd's DynamicUser makes /var/lib/maildaemon a link to /var/lib/private/maildaemon."""
    real = cli.root / "private" / "state"
    real.parent.mkdir(mode=0o700)
    real.mkdir(mode=0o700)
    (cli.root / "state").symlink_to(real)
    code, out, err = run(cli, "import", mbox(cli.root / "w.mbox", [trusted(), untrusted()]))
    assert code == 0, err
    assert (real / "maildaemon.json").is_file() and len(list((real / "quarantine").glob("*.eml"))) == 1


# --- modes ----------------------------------------------------------------------------------

def test_umask_000_still_gives_private_folders_and_files(cli):
    code, _, err = run(cli, "import", mbox(cli.root / "q.mbox", [trusted(), untrusted()]),
                       preexec=lambda: os.umask(0),
                       MAILDAEMON_STATE_DIR=str(cli.root / "new" / "state"))
    assert code == 0, err
    state = cli.root / "new" / "state"
    mode = lambda p: stat.S_IMODE(p.lstat().st_mode)
    assert mode(cli.root / "new") == 0o700 and mode(state) == 0o700 and mode(state / "quarantine") == 0o700
    files = [p for p in state.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"maildaemon.json", "lock", "health.json"}
    assert any(p.suffix == ".eml" for p in files) and any(p.suffix == ".json" and p.parent.name == "quarantine"
                                                          for p in files)
    assert {str(p.relative_to(state)): oct(mode(p)) for p in files if mode(p) != 0o600} == {}


def test_subdir_is_0700_under_umask_000(tmp_path):
    old = os.umask(0)
    try:
        Store(tmp_path / "state").subdir("outbox")
        write_atomic(tmp_path / "state" / "outbox" / "a.eml", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "state" / "outbox").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "state" / "outbox" / "a.eml").stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702])
def test_a_state_folder_others_may_write_is_refused_with_exit_2(cli, mode):
    state = cli.root / "state"
    state.mkdir()
    os.chmod(state, mode)
    # with holidays: agenda and rotation check the country before the state folder (nothing may be
    # written there first, not even the holiday calendar's cache)
    cli.team_file.write_text(cli.team_file.read_text().replace("[team]\n", '[team]\nholidays = "US"\n', 1))
    for args in (("tickets",), ("status",), ("quarantine", "list"), ("import", mbox(cli.root / "a.mbox", [trusted()])),
                 ("agenda", "--now", "2026-06-02T09:00"), ("rotation", "show")):
        code, _, err = run(cli, *args)
        assert code == 2 and one_line(err), (args, err)
        assert err.startswith("maildaemon: MAILDAEMON_STATE_DIR:") and str(state) in err
        assert f"chmod 700 {state}" in err
    assert list(state.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a folder owned by someone else")
def test_a_state_folder_of_another_user_is_refused(tmp_path):
    """A process running as `nobody` against a folder owned by uid 4242: refused. Root may look at a
    daemon's folder (README: `sudo ... maildaemon status`), so as root the same folder is fine."""
    base = Path("/tmp") / f"maildaemon-owner-{uuid.uuid4().hex[:8]}"
    base.mkdir(mode=0o755)
    try:
        os.chmod(base, 0o755)
        state = base / "state"
        state.mkdir(mode=0o755)
        os.chown(state, 4242, 4242)
        script = (
            "import os, sys\n"
            "from maildaemon.config import ConfigError\n"
            "from maildaemon.store import Store\n"
            "if sys.argv[2] == 'nobody':\n"
            "    os.setegid(65534); os.seteuid(65534)\n"
            "try:\n"
            "    Store(sys.argv[1]).check()\n"
            "    print('accepted')\n"
            "except ConfigError as e:\n"
            "    print(e)\n")
        environ = dict(os.environ, PYTHONPATH=str(REPO))
        as_nobody = subprocess.run([sys.executable, "-c", script, str(state), "nobody"], env=environ,
                                   capture_output=True, text=True, timeout=60)
        assert as_nobody.stdout.startswith("MAILDAEMON_STATE_DIR: ") and "another user (uid 4242)" in as_nobody.stdout, \
            as_nobody.stdout + as_nobody.stderr
        as_root = subprocess.run([sys.executable, "-c", script, str(state), "root"], env=environ,
                                 capture_output=True, text=True, timeout=60)
        assert as_root.stdout == "accepted\n", as_root.stderr
    finally:
        import shutil
        shutil.rmtree(base)


# --- a state file that is not a state ---------------------------------------------------------

@pytest.mark.parametrize("content, problem", [
    (b"", "is empty"),
    (b"  \n\t\n", "is empty"),
    (b'{"tickets": []}', "table 'tickets' as an array"),
    (b"[]", "holds an array"),
    (b'{"tickets": {"x": {"key": "rt:1"}}}', "document id 'x'"),
    (b'{"tickets": {"1": {"key": "rt:1", "system": "rt", "id": "1", "history": [5]}}}', "ticket 'rt:1' does not load"),
    (b'{"meta": {"1": {"last_error": "disk"}}}', "last_error"),
    (b'{"tickets": {"1": ', "is not valid JSON"),
])
def test_an_empty_or_malformed_state_file_stops_every_command_with_one_line(cli, content, problem):
    state = cli.root / "state"
    state.mkdir(mode=0o700)
    (state / "maildaemon.json").write_bytes(content)
    for args in (("tickets",), ("status",), ("import", mbox(cli.root / "a.mbox", [trusted()]))):
        code, out, err = run(cli, *args)
        assert code == 1 and one_line(err), (args, err)
        assert f"{state / 'maildaemon.json'} " in err and problem in err and "restore" in err and "move" in err
    assert (state / "maildaemon.json").read_bytes() == content      # never replaced by a fresh state


# --- a full disk ------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs when we may mount one; else None (the test then limits the file size)."""
    where = tmp_path / "disk"
    where.mkdir()
    if os.geteuid() == 0:
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=700", "tmpfs", str(where)],
                           capture_output=True)
        if p.returncode == 0:
            yield where
            subprocess.run(["umount", "-l", str(where)], capture_output=True)
            return
    yield None


def test_a_full_disk_is_one_line_and_status_shows_it(cli, small_disk):
    if small_disk is not None:
        state = small_disk / "state"
        env = dict(MAILDAEMON_STATE_DIR=str(state))
        big = 0
        limit = None
    else:                    # no mount: RLIMIT_FSIZE makes writes fail with EFBIG, the same path
        state = cli.root / "state"
        env = {}
        big = 200_000
        limit = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
    assert run(cli, "import", mbox(cli.root / "a.mbox", [trusted(1)]), **env)[0] == 0
    before = (state / "maildaemon.json").read_bytes()
    if small_disk is not None:
        with open(small_disk / "filler", "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError:
                pass
    code, out, err = run(cli, "import", mbox(cli.root / "b.mbox", [trusted(2), untrusted(3, size=big)]),
                         preexec=limit, **env)
    assert code == 1 and one_line(err), err
    assert "cannot write " + str(state) in err and ("No space left on device" in err or "File too large" in err)
    assert "free space in " + str(state) in err
    assert (state / "maildaemon.json").read_bytes() == before        # the old state, intact
    code, out, _ = run(cli, "status", **env)
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("last error:"))
    assert "cannot write" in line and "free space in" in line
    _, out, _ = run(cli, "status", "--json", **env)
    assert "cannot write" in json.loads(out)["last_error"]["message"]
    if small_disk is not None:
        (small_disk / "filler").unlink()
    code, out, err = run(cli, "import", mbox(cli.root / "b.mbox", [trusted(2), untrusted(3, size=big)]), **env)
    assert code == 0, err
    _, out, _ = run(cli, "status", "--json", **env)
    assert json.loads(out)["last_error"] is None                      # a successful import after it


# --- the reader goes away ---------------------------------------------------------------------

def test_a_closed_pipe_is_no_error(cli):
    r, w = os.pipe()
    os.close(r)                                 # like `| head -1` that has already exited
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("MAILDAEMON_", "PYTHONUNBUFFERED"))}
    environ.update(cli.env, PYTHONPATH=str(REPO))
    for args in (("rotation", "show"), ("status",)):
        for buffered in (True, False):          # block-buffered as in a shell pipe, or as under systemd
            env = environ if buffered else dict(environ, PYTHONUNBUFFERED="1")
            p = subprocess.run([sys.executable, "-m", "maildaemon", *args], cwd=cli.root, env=env,
                               stdout=w, stderr=subprocess.PIPE, text=True, timeout=60)
            assert p.stderr == "" and p.returncode == 141, (args, buffered, p.stderr)
    os.close(w)


# --- stale temporary files ----------------------------------------------------------------------

def test_a_reader_or_a_waiting_writer_never_removes_a_writers_temporary_file(tmp_path):
    store = Store(tmp_path)
    with store.transaction():
        tmp = tmp_path / ".tmp-inflight"
        tmp.write_bytes(b"half")                 # the lock holder's write in progress
        Store(tmp_path).ensure()
        Store(tmp_path).view()
        assert tmp.exists()
    with store.transaction():                     # once the lock is ours, leftovers go
        assert not tmp.exists()


def test_record_error_and_last_error(tmp_path):
    store = Store(tmp_path)
    store.ensure()
    last_error = lambda **stored: store.with_files(Health(**stored)).last_error       # noqa: E731
    assert store.recorded_error() is None and last_error() is None
    t = lambda h: datetime(2026, 11, 24, h, tzinfo=timezone.utc)
    store.record_error("cannot write x: No space left on device; free space in y", t(10))
    assert last_error().message.startswith("cannot write x")
    assert (tmp_path / "health.json").stat().st_size == 4096
    older, newer = Problem(t(9).isoformat(), "IMAP down"), Problem(t(11).isoformat(), "IMAP down")
    assert last_error(last_error=older).message.startswith("cannot write")
    assert last_error(last_error=newer) == newer
    assert last_error(last_sync=t(12).isoformat()) is None