"""`maildaemon sync` against a real Dovecot: what a user sees in `tickets --json` and `status`."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest

from builders import CST, goc_mail, rt_mail, stream as corpus
from builders import demo_stream

pytestmark = pytest.mark.live


@pytest.fixture
def imap_cli(cli, dovecot):
    cli.env.update(MAILDAEMON_IMAP_HOST=dovecot.host, MAILDAEMON_IMAP_PORT=str(dovecot.port),
                   MAILDAEMON_IMAP_USER=dovecot.user, MAILDAEMON_IMAP_PASSWORD=dovecot.password,
                   MAILDAEMON_IMAP_SECURITY="plain")
    cli.team_file.write_text(cli.team_file.read_text().replace(
        '"*@rt.example.org"]', '"*@rt.example.org", "notifications@github.com"]').replace(
        'name = "Grace Hopper"', 'name = "Grace Hopper"\naliases = ["@ghopper"]'))
    return cli


def tickets(cli, *args):
    code, out, err = cli("tickets", "--json", *args)
    assert code == 0, err
    return {t["key"]: t for t in json.loads(out)}


def test_sync_reads_the_stream_once_and_tickets_show_the_state(imap_cli, dovecot):
    for raw in demo_stream():
        dovecot.append(raw)
    code, out, err = imap_cli("sync")
    assert code == 0, err
    assert out.strip() == "fetched=19 applied=16 duplicate=1 quarantined=1 ignored=1"
    t = tickets(imap_cli, "--all")
    assert set(t) == {"goc:41234", "goc:41240", "goc:41250", "rt:1234", "rt:1240", "github:example-org/client#45"}
    assert t["goc:41234"]["status"] == "resolved" and t["goc:41234"]["owner"] == "ada@example.org"
    assert t["goc:41240"]["owner"] is None and t["goc:41240"]["submitter"] == "juergen@example.de"
    assert t["rt:1234"]["status"] == "waiting-on-user" and t["rt:1234"]["owner"] == "grace@example.org"
    assert t["goc:41250"]["warnings"] == ["several team members assigned"]
    assert [x["key"] for x in t["goc:41250"]["links"]] == ["jira:SOFTWARE-6123"]
    assert t["github:example-org/client#45"]["owner"] == "grace@example.org"      # @ghopper alias
    # nothing was marked read: the list mailbox is shared
    assert all(b"\\Seen" not in flags for flags in dovecot.flags().values())
    code, out, _ = imap_cli("sync")
    assert out.strip() == "fetched=0 applied=0 duplicate=0 quarantined=0 ignored=0"
    dovecot.append(rt_mail(1234, "Cannot install client", datetime(2026, 11, 30, 9, tzinfo=CST),
                           transaction="Correspondence added by carol@example.edu", actor="Carol Admin",
                           actor_email="carol@example.edu", owner="grace", requestor="carol@example.edu",
                           status="open", content="CentOS Stream 9.", n=99))
    code, out, _ = imap_cli("sync")
    assert out.strip() == "fetched=1 applied=1 duplicate=0 quarantined=0 ignored=0"
    rt = tickets(imap_cli)["rt:1234"]
    assert rt["status"] == "open" and rt["last_user_update_at"] == "2026-11-30T09:00:00-06:00"
    s = json.loads(imap_cli("status", "--json")[1])
    assert (s["messages_seen"], s["quarantined"], s["open_tickets"], s["last_error"]) == (19, 1, 4, None)
    assert s["positions"][f"imap://{dovecot.user}@127.0.0.1:{dovecot.port}/INBOX"]["last_uid"] == 20


def test_uidvalidity_reset_rereads_the_folder_without_applying_twice(imap_cli, dovecot):
    for raw in demo_stream()[:5]:
        dovecot.append(raw)
    assert imap_cli("sync")[1].strip() == "fetched=5 applied=5 duplicate=0 quarantined=0 ignored=0"
    dovecot.set_uidvalidity(dovecot.uidvalidity() + 1000)
    assert imap_cli("sync")[1].strip() == "fetched=5 applied=0 duplicate=5 quarantined=0 ignored=0"
    assert len(json.loads(imap_cli("ticket", "goc:41234", "--json")[1])["history"]) == 2


def test_server_outage_is_exit_1_with_last_error_then_recovers(imap_cli, dovecot):
    dovecot.append(goc_mail(7, "A ticket", datetime(2026, 11, 23, 9, tzinfo=CST)))
    dovecot.stop()
    code, out, err = imap_cli("sync")
    assert code == 1 and "IMAP 127.0.0.1" in err and dovecot.password not in out + err
    status = json.loads(imap_cli("status", "--json")[1])
    assert status["last_error"]["message"].startswith("IMAP 127.0.0.1") and status["last_sync"] is None
    assert dovecot.password not in json.dumps(status)
    dovecot.start()
    code, out, _ = imap_cli("sync")
    assert code == 0 and out.startswith("fetched=1 applied=1")
    assert json.loads(imap_cli("status", "--json")[1])["last_error"] is None


def test_wrong_password_is_exit_1_and_never_printed(imap_cli, dovecot):
    code, out, err = imap_cli("sync", MAILDAEMON_IMAP_PASSWORD="not-the-Secr3t")
    assert code == 1 and "login refused" in err and "not-the-Secr3t" not in out + err


def test_check_reports_each_part(imap_cli, dovecot, tmp_path):
    (tmp_path / "r.txt").write_text("2026-11-23  grace@example.org  Grace Hopper\n"
                                    "2026-11-30  alan@example.org  Alan Turing\n")
    assert imap_cli("rotation", "load", str(tmp_path / "r.txt"))[0] == 0
    code, out, _ = imap_cli("check", "--now", "2026-11-24T10:00")
    lines = out.splitlines()
    assert code == 0, out
    assert [line.split()[0] for line in lines] == ["ok", "ok", "ok", "ok", "ok", "skip"]
    assert [line.split()[1] for line in lines] == ["config:", "state:", "rotation:", "templates:", "imap:", "smtp:"]
    assert "INBOX" in lines[4] and dovecot.password not in out


def test_kill_9_during_sync_loses_nothing_and_applies_nothing_twice(imap_cli, dovecot, tmp_path):
    """The promise of the state design, tested the hard way: SIGKILL at random moments."""
    mails = corpus(400, seed=11)
    client = dovecot.client()
    for raw in mails:
        client.append("INBOX", raw)
    client.logout()
    env = dict(os.environ, **imap_cli.env, PYTHONPATH=os.getcwd())
    rnd = random.Random(5)
    for _ in range(4):
        p = subprocess.Popen([sys.executable, "-m", "maildaemon", "sync"], env=env, cwd=tmp_path,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rnd.uniform(0.6, 2.0))
        p.send_signal(signal.SIGKILL)
        p.wait()
    code, out, err = imap_cli("sync")
    assert code == 0, err
    status = json.loads(imap_cli("status", "--json")[1])
    assert status["messages_seen"] == len(mails)              # every message recorded exactly once
    histories = json.loads(imap_cli("tickets", "--json", "--all")[1])
    assert sum(t["messages"] for t in histories) == len(mails)   # and applied once: no history twice
