"""`maildaemon init --from-imap` against a real Dovecot: the last N mails of the folder, read-only.

The stream is test_init.py's mixed one (every format, in Date order). With `--last` smaller than
the folder only the newest mails count, and nothing in the folder changes (no \\Seen flag).
"""
from __future__ import annotations

import tomllib

import pytest

from test_init import NO_TEAM, mixed_stream

pytestmark = pytest.mark.live


@pytest.fixture
def imap_env(dovecot):
    return {**NO_TEAM, "MAILDAEMON_IMAP_HOST": dovecot.host, "MAILDAEMON_IMAP_PORT": str(dovecot.port),
            "MAILDAEMON_IMAP_USER": dovecot.user, "MAILDAEMON_IMAP_PASSWORD": dovecot.password,
            "MAILDAEMON_IMAP_SECURITY": "plain"}


def test_init_from_imap_reads_the_last_mails_of_the_folder(cli, dovecot, imap_env):
    mails, counts = mixed_stream()
    for raw in mails:
        dovecot.append(raw)
    code, out, err = cli("init", "--from-imap", **imap_env)
    assert code == 0, err
    assert f"the last {len(mails)} of {len(mails)} mails." in out
    for system, n in counts.items():
        assert f"#   {system}: {n} mails," in out, system
    team = tomllib.loads(out)
    assert team["team"]["list_address"] == "software-support-stream@example.org"
    assert {m["email"] for m in team["members"]} == {"ada@example.org", "grace@example.org"}

    code, out, err = cli("init", "--from-imap", "--last", "5", **imap_env)
    assert code == 0, err
    assert f"the last 5 of {len(mails)} mails." in out
    assert sum(int(x.split()[2]) for x in out.splitlines() if x.startswith("#   ") and " mail" in x
               and x.split()[2].isdigit()) <= 5

    client = dovecot.client()
    try:
        client.select_folder("INBOX", readonly=True)
        assert client.search(["SEEN"]) == []            # read-only: nothing marked
    finally:
        client.logout()


def test_init_from_imap_with_a_wrong_password_is_one_line(cli, imap_env):
    code, out, err = cli("init", "--from-imap", **{**imap_env, "MAILDAEMON_IMAP_PASSWORD": "wrong"})
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "login refused" in err and "wrong" not in err
