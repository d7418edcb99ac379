"""The command line as a user drives it: exit codes, one-line errors, JSON keys, no secrets."""
import email
import email.policy
import json
import mailbox
from datetime import datetime

from builders import CST, goc_mail, rt_mail
from builders import write_mbox

SCHEMA_KEYS = {"key", "system", "id", "title", "url", "status", "status_raw", "next_action", "owner", "assignees",
               "cc", "submitter", "opened_at", "updated_at", "last_team_update_at", "last_user_update_at", "links",
               "warnings"}



def week(root):
    t = lambda d, h: datetime(2026, 11, d, h, 0, tzinfo=CST)
    return write_mbox(root / "archive.mbox", [
        goc_mail(41234, "Pilot jobs fail", t(23, 9), assignees=("Software Support (Triage)",), n=1,
                 entries=[(t(23, 9), "Jane User", "It fails.")]),
        goc_mail(41234, "Pilot jobs fail", t(23, 11), assignees=("Software Support (Triage)", "Ada Lovelace",
                                                                  "Grace Hopper"), status="Customer", n=2,
                 entries=[(t(23, 11), "Ada Lovelace", "Logs please."), (t(23, 9), "Jane User", "It fails.")]),
        rt_mail(1234, "Cannot install client", t(24, 10), transaction="Given to grace by ada", actor="Ada Lovelace",
                actor_email="ada@example.org", owner="grace", status="open", n=3),
        rt_mail(1235, "Old and done", t(24, 11), transaction="Status changed from 'open' to 'resolved' by alan",
                actor="Alan Turing", actor_email="alan@example.org", owner="alan", status="resolved", n=4),
    ])


def on_duty(cli, *lines: str):
    """Store a rotation (mail is signed by the person on duty: without one nothing is sent)."""
    path = cli.root / "rotation.txt"
    path.write_text("".join(line + "\n" for line in lines or ("2026-11-23  grace@example.org  Grace Hopper",)))
    code, _, err = cli("rotation", "load", str(path))
    assert code == 0, err


def test_import_then_tickets_json_has_the_schema(cli):
    code, out, err = cli("import", week(cli.root))
    assert code == 0, err
    assert out.strip() == "fetched=4 applied=4 duplicate=0 quarantined=0 ignored=0"
    code, out, _ = cli("tickets", "--json", "--now", "2026-11-24T12:00")
    tickets = {t["key"]: t for t in json.loads(out)}
    assert set(tickets) == {"goc:41234", "rt:1234"}                  # resolved ones only with --all
    goc = tickets["goc:41234"]
    assert SCHEMA_KEYS <= set(goc)
    assert goc["owner"] == "ada@example.org"
    assert goc["status"] == "waiting-on-user" and goc["status_raw"] == "Customer"
    assert "several team members assigned" in goc["warnings"]
    assert goc["opened_at"] == "2026-11-23T09:00:00-06:00"
    assert tickets["rt:1234"]["owner"] == "grace@example.org"
    _, out, _ = cli("tickets", "--json", "--all")
    assert len(json.loads(out)) == 3
    _, out, _ = cli("tickets", "--json", "--owner", "grace@example.org")
    assert [t["key"] for t in json.loads(out)] == ["rt:1234"]


def test_import_twice_applies_nothing_twice(cli):
    path = week(cli.root)
    cli("import", path)
    code, out, _ = cli("import", path)
    assert out.strip() == "fetched=4 applied=0 duplicate=4 quarantined=0 ignored=0"
    _, out, _ = cli("ticket", "goc:41234", "--json")
    assert len(json.loads(out)["history"]) == 2


def test_owner_away_warning_depends_on_now(cli):
    cli("import", week(cli.root))
    _, out, _ = cli("tickets", "--json", "--owner", "grace@example.org", "--now", "2026-12-01")
    assert json.loads(out)[0]["warnings"] == ["owner away until 2026-12-04"]


def test_ticket_text_shows_history_and_unknown_ticket_is_exit_2(cli):
    cli("import", week(cli.root))
    code, out, _ = cli("ticket", "goc:41234")
    assert code == 0
    assert "owner:        ada@example.org" in out and "history (2 messages)" in out and "Logs please." in out
    code, _, err = cli("ticket", "goc:999")
    assert code == 2 and "no ticket goc:999" in err


def test_untrusted_mail_is_quarantined_and_retry_after_fix_applies_it(cli):
    mail = goc_mail(5, "From elsewhere", datetime(2026, 11, 23, 9, tzinfo=CST), n=9).replace(
        b"ticket@example.org", b"helpdesk@other.example.org")
    code, out, _ = cli("import", write_mbox(cli.root / "q.mbox", [mail]))
    assert out.strip().endswith("quarantined=1 ignored=0")
    _, out, _ = cli("quarantine", "list", "--json")
    [entry] = json.loads(out)
    assert "helpdesk@other.example.org is not in trusted_senders" in entry["reason"]
    code, out, _ = cli("quarantine", "show", entry["id"][:6])
    assert code == 0 and "ISSUE=5 PROJ=71" in out
    _, out, _ = cli("quarantine", "retry")
    assert "still-quarantined=1" in out                      # nothing changed yet
    cli.team_file.write_text(cli.team_file.read_text().replace(
        '"*@rt.example.org"]', '"*@rt.example.org", "helpdesk@other.example.org"]'))
    _, out, _ = cli("quarantine", "retry")
    assert out.strip() == "retried: applied=1 ignored=0 still-quarantined=0"
    _, out, _ = cli("tickets", "--json")
    assert [t["key"] for t in json.loads(out)] == ["goc:5"]
    _, out, _ = cli("quarantine")
    assert out.strip() == "quarantine is empty"


def test_status_json_reports_counts(cli):
    cli("import", week(cli.root))
    code, out, _ = cli("status", "--json")
    s = json.loads(out)
    assert code == 0
    for key in ("last_sync", "messages_seen", "applied", "duplicates", "quarantined", "open_tickets", "last_error"):
        assert key in s
    assert (s["messages_seen"], s["applied"], s["open_tickets"], s["quarantined"]) == (4, 4, 2, 0)
    assert s["last_sync"] is None                             # an import is not a sync of the stream


def test_missing_team_file_is_one_line_exit_2(cli):
    code, out, err = cli("tickets", MAILDAEMON_TEAM_FILE=str(cli.root / "nope.toml"))
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("maildaemon: MAILDAEMON_TEAM_FILE:") and "Traceback" not in err


def test_bad_team_values_name_the_setting(cli):
    cli.team_file.write_text(cli.team_file.read_text().replace("America/Chicago", "Mars/Olympus"))
    code, _, err = cli("tickets")
    assert code == 2 and "team.timezone" in err and "IANA" in err


def test_plain_imap_to_a_remote_host_is_refused_and_password_never_shown(cli):
    env = dict(MAILDAEMON_IMAP_HOST="imap.example.org", MAILDAEMON_IMAP_USER="stream",
               MAILDAEMON_IMAP_PASSWORD="s3cret-Pa55", MAILDAEMON_IMAP_SECURITY="plain")
    code, out, err = cli("sync", **env)
    assert code == 2 and "MAILDAEMON_IMAP_SECURITY" in err and "loopback" in err
    assert "s3cret-Pa55" not in out + err


def test_sync_without_a_source_names_the_settings(cli):
    code, _, err = cli("sync")
    assert code == 2 and "MAILDAEMON_IMAP_HOST" in err and "MAILDAEMON_MAILDIR" in err


def test_bad_now_and_bad_usage_exit_2(cli):
    code, _, err = cli("tickets", "--now", "next tuesday")
    assert code == 2 and "--now" in err
    code, _, err = cli("frobnicate")
    assert code == 2 and "invalid choice" in err


def test_env_file_is_read_and_the_real_environment_wins(cli):
    (cli.root / "alt.env").write_text(f"MAILDAEMON_TEAM_FILE={cli.root / 'nope.toml'}\nMAILDAEMON_LOG_LEVEL=LOUD\n")
    code, _, err = cli("tickets", "--env-file", str(cli.root / "alt.env"))
    assert code == 2 and "MAILDAEMON_LOG_LEVEL" in err
    (cli.root / "alt.env").write_text("MAILDAEMON_STATE_DIR=/nonexistent/x\nMAILDAEMON_POLL_SECONDS=5\n")
    code, out, _ = cli("tickets", "--env-file", str(cli.root / "alt.env"))
    assert code == 0 and out == "no tickets\n"                 # real env's STATE_DIR won


def test_dollar_signs_in_env_file_values_survive(cli):
    from maildaemon.config import read_environment
    (cli.root / ".env").write_text("MAILDAEMON_IMAP_PASSWORD='pa$word${HOME}'\n")
    assert read_environment(None, {})["MAILDAEMON_IMAP_PASSWORD"] == "pa$word${HOME}"


def test_maildir_source_sync(cli):
    md = mailbox.Maildir(str(cli.root / "stream"), create=True)
    for m in mailbox.mbox(week(cli.root)):
        md.add(m)
    code, out, err = cli("sync", MAILDAEMON_MAILDIR=str(cli.root / "stream"))
    assert code == 0, err
    assert out.strip() == "fetched=4 applied=4 duplicate=0 quarantined=0 ignored=0"
    code, out, _ = cli("sync", MAILDAEMON_MAILDIR=str(cli.root / "stream"))
    assert out.strip() == "fetched=0 applied=0 duplicate=0 quarantined=0 ignored=0"
    _, out, _ = cli("status", "--json", MAILDAEMON_MAILDIR=str(cli.root / "stream"))
    assert json.loads(out)["last_sync"] is not None


def test_a_broken_template_override_stops_remind_with_the_template_and_line(cli):
    overrides = cli.root / "templates"
    overrides.mkdir()
    (overrides / "owner.txt.j2").write_text("Hello {{ owner.name }},\n\n{% if %}\n")
    code, out, err = cli("remind", "--dry-run", MAILDAEMON_TEMPLATES_DIR=str(overrides))
    assert code == 2 and err.count("\n") == 1
    assert "MAILDAEMON_TEMPLATES_DIR" in err and "owner.txt.j2 line 3" in err


def test_remind_dry_run_prints_and_changes_nothing(cli):
    cli("import", week(cli.root))
    on_duty(cli)
    code, out, _ = cli("remind", "--dry-run", "--now", "2026-11-26T14:00")
    assert code == 0 and "dry run: nothing sent or stored" in out
    assert "would send owner" in out                      # rt:1234: Grace's, no team update for 2 business days
    assert not (cli.root / "state" / "outbox").exists()
    _, out2, _ = cli("remind", "--dry-run", "--now", "2026-11-26T14:00")
    assert out2 == out


TITLE = "Pilot \x1b[2J\x1b]52;c;ZXZpbA==\x07 jobs \x9b31m \u202efail\u202c"
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e", "\u202c")


def test_control_characters_in_a_ticket_title_never_reach_the_terminal(cli):
    mail = goc_mail(4242, TITLE, datetime(2026, 11, 23, 9, tzinfo=CST), n=1,
                    assignees=("Software Support (Triage)", "Ada Lovelace"))
    code, out, err = cli("import", write_mbox(cli.root / "t.mbox", [mail]))
    assert out.strip() == "fetched=1 applied=1 duplicate=0 quarantined=0 ignored=0", err
    _, out, _ = cli("tickets", "--json")
    assert not any(c in out for c in RAW_CONTROLS)                 # escaped, and still the same string
    assert json.loads(out)[0]["title"] == TITLE
    _, table, _ = cli("tickets")
    _, text, _ = cli("ticket", "goc:4242")
    for shown in (table, text):
        assert not any(c in shown for c in RAW_CONTROLS), repr(shown)
        assert "Pilot ^[[2J^[]52;c;ZXZpbA==^G jobs <U+009B>31m" in shown
    on_duty(cli)
    _, out, _ = cli("remind", "--dry-run", "--now", "2026-11-25T14:01")
    assert "would send owner" in out and "Pilot ^[[2J" in out and not any(c in out for c in RAW_CONTROLS)
    code, _, err = cli("ticket", "goc:\x1b]52;c;eA==\x07")         # a log line with text in it
    assert code == 2 and "\x1b" not in err and "goc:^[]52;c;eA==^G" in err and err.count("\n") == 1


# --- no mail signed by nobody (SPEC 9) --------------------------------------------------------------

def test_with_no_one_on_duty_check_fails_and_remind_and_handoff_send_nothing(cli):
    maildir = cli.root / "stream"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    env = {"MAILDAEMON_MAILDIR": str(maildir)}
    cli("import", week(cli.root))
    code, out, err = cli("check", "--now", "2026-11-25T14:00", **env)
    assert code == 1, err
    assert out.splitlines()[2:4] == ["FAIL rotation: no one on duty in the week of 2026-11-23",
                                     "FAIL rotation: no one on duty in the week of 2026-11-30"]
    _, out, _ = cli("status", "--now", "2026-11-25T14:00")
    assert ("on duty:         no one on duty in the week of 2026-11-23; no mail is sent until a rotation is "
            "stored") in out.splitlines()
    assert json.loads(cli("status", "--json", "--now", "2026-11-25T14:00")[1])["on_duty"] == {
        "week": "2026-11-23", "email": None, "name": None, "problem": "no one on duty in the week of 2026-11-23"}
    for command in (("remind",), ("remind", "--dry-run"), ("handoff",)):
        code, out, err = cli(*command, "--now", "2026-11-27T15:00")
        assert code == 1 and out == "", command
        assert err == ("maildaemon: ERROR no one on duty in the week of 2026-11-23: no mail is sent (store a "
                       "rotation: `maildaemon rotation load FILE`)\n"), command
    assert not (cli.root / "state" / "outbox").exists() or not list((cli.root / "state" / "outbox").iterdir())
    # once the week has someone, the same moment sends the mails, signed by them
    on_duty(cli, "2026-11-23  grace@example.org  Grace Hopper", "2026-11-30  alan@example.org  Alan Turing")
    code, out, _ = cli("check", "--now", "2026-11-25T14:00", **env)
    assert code == 0 and ("ok    rotation: Grace Hopper on duty in the week of 2026-11-23, Alan Turing in the "
                          "week of 2026-11-30") in out.splitlines()
    _, out, _ = cli("status", "--now", "2026-11-25T14:00")
    assert "on duty:         Grace Hopper <grace@example.org>, week of 2026-11-23" in out.splitlines()
    code, out, _ = cli("handoff", "--now", "2026-11-27T15:00")
    assert code == 0 and out.startswith("handoff     to alan@example.org")


def test_next_week_without_anyone_is_a_check_failure_too(cli):
    maildir = cli.root / "stream"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    on_duty(cli)
    code, out, _ = cli("check", "--now", "2026-11-25T14:00", MAILDAEMON_MAILDIR=str(maildir))
    assert code == 1 and "FAIL rotation: no one on duty in the week of 2026-11-30" in out.splitlines()
    assert "2026-11-23" not in out


# --- reading: ticket, tickets, times in the team's zone ------------------------------------------------

def test_ticket_shows_no_next_action_when_goc_says_none(cli):
    t = lambda d, h: datetime(2026, 11, d, h, 0, tzinfo=CST)
    path = write_mbox(cli.root / "n.mbox", [
        goc_mail(7, "Resolved one", t(23, 9), next_action="None", deadline=t(25, 17), n=1),
        goc_mail(8, "Plain one", t(23, 10), next_action="None", n=2)])
    assert cli("import", path)[0] == 0
    _, out, _ = cli("ticket", "goc:7")
    assert "  next action:  none (deadline 2026-11-25T17:00:00-06:00)\n" in out and "None" not in out
    _, out, _ = cli("ticket", "goc:8")
    assert "next action" not in out and "None" not in out


def test_tickets_lists_unowned_first_then_the_oldest_first(cli):
    t = lambda d, h: datetime(2026, 11, d, h, 0, tzinfo=CST)
    ada = ("Software Support (Triage)", "Ada Lovelace")
    path = write_mbox(cli.root / "o.mbox", [
        goc_mail(1, "Owned, newest", t(24, 9), assignees=ada, n=1),
        goc_mail(2, "Unowned, newer", t(23, 12), n=2),
        goc_mail(3, "Owned, oldest", t(20, 9), assignees=ada, n=3),
        goc_mail(4, "Unowned, older", t(21, 9), n=4)])
    assert cli("import", path)[0] == 0
    _, out, _ = cli("tickets")
    lines = out.splitlines()
    assert lines[0].split() == ["KEY", "STATUS", "OWNER", "OPENED", "UPDATED", "TITLE"]
    assert [line.split()[0] for line in lines[1:]] == ["goc:4", "goc:2", "goc:3", "goc:1"]
    assert lines[1] == "goc:4  open    -                2026-11-21 09:00  2026-11-21 09:00  Unowned, older"
    _, out, _ = cli("tickets", "--json")
    assert [x["key"] for x in json.loads(out)] == ["goc:4", "goc:2", "goc:3", "goc:1"]


def test_quarantine_times_are_in_the_team_zone(cli):
    mail = goc_mail(5, "From elsewhere", datetime(2026, 11, 23, 9, tzinfo=CST), n=9).replace(
        b"ticket@example.org", b"helpdesk@other.example.org")
    cli("import", write_mbox(cli.root / "q.mbox", [mail]), "--now", "2026-11-23T15:30")
    _, out, _ = cli("quarantine", "list", "--json")
    [entry] = json.loads(out)
    assert entry["quarantined_at"] == "2026-11-23T15:30:00-06:00"
    _, out, _ = cli("quarantine", "list")
    assert out.startswith(f"{entry['id']}  2026-11-23T15:30:00-06:00  helpdesk@other.example.org")
    _, out, _ = cli("quarantine", "show", entry["id"])
    assert "quarantined: 2026-11-23T15:30:00-06:00\n" in out


def test_a_mail_is_dated_on_the_teams_clock_whatever_the_zone_of_now(cli):
    cli("import", week(cli.root))
    on_duty(cli)
    code, out, err = cli("remind", "--now", "2026-11-26T20:00:00Z")          # 14:00 in Chicago
    assert code == 0 and "owner" in out, err
    paths = sorted((cli.root / "state" / "outbox").glob("*.eml"))
    assert paths
    for path in paths:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert msg["Date"] == "Thu, 26 Nov 2026 14:00:00 -0600"
        assert msg["From"] == '"Grace Hopper (Software Team)" <software-triage@example.org>'
        assert msg["Reply-To"] == "Grace Hopper <grace@example.org>"


def test_tickets_owner_takes_a_name_and_refuses_a_stranger(cli):
    cli("import", week(cli.root))
    _, by_mail, _ = cli("tickets", "--json", "--owner", "grace@example.org")
    for name in ("Grace", "Grace Hopper"):
        code, out, _ = cli("tickets", "--json", "--owner", name)
        assert code == 0 and out == by_mail and json.loads(out)
    code, out, err = cli("tickets", "--owner", "Gandalf")
    assert code == 2 and out == ""
    assert err.strip() == ("maildaemon tickets: --owner Gandalf is no member of the team file; "
                           "give a member's email, name or alias")


def test_ticket_by_bare_id_and_an_unknown_ticket_is_exit_2(cli):
    cli("import", week(cli.root))
    code, out, _ = cli("ticket", "1234", "--json")
    assert code == 0 and json.loads(out)["key"] == "rt:1234"
    code, out, err = cli("ticket", "rt:9999")
    assert code == 2 and err.strip() == "maildaemon ticket: no ticket rt:9999 (see `maildaemon tickets --all`)"


def test_a_broken_ticket_template_override_is_one_line_naming_file_and_line(cli):
    cli("import", week(cli.root))
    tdir = cli.root / "overrides"
    tdir.mkdir()
    (tdir / "ticket.txt.j2").write_text("{{ t.key }}\n{{ t.nosuch.attr }}\n")
    code, out, err = cli("ticket", "rt:1234", MAILDAEMON_TEMPLATES_DIR=str(tdir))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("maildaemon: MAILDAEMON_TEMPLATES_DIR: template ticket.txt.j2 line 2: UndefinedError")
    (tdir / "announcement.txt.j2").write_text("{% if %}\n")
    (tdir / "ticket.txt.j2").unlink()
    code, out, err = cli("rotation", "announce", "--date", "2026-11-23", MAILDAEMON_TEMPLATES_DIR=str(tdir))
    assert code == 2 and "announcement.txt.j2 line 1" in err and "unexpected" not in err


def test_status_text_as_the_operator_reads_it(cli):
    """The whole `status` page, every line as printed: the stream, who is on duty, the counts, the
    quarantine, the outbox, the last error and the stream's silence (SPEC, `status`)."""
    at = lambda d, h: datetime(2026, 11, d, h, 0, tzinfo=CST)
    maildir = mailbox.Maildir(cli.root / "stream")
    first = goc_mail(41234, "Pilot jobs \x1b[2Jfail", at(23, 9), n=1, entries=[(at(23, 9), "Jane User", "It fails.")])
    elsewhere = goc_mail(5, "From elsewhere", at(23, 10), n=2).replace(b"ticket@example.org",
                                                                       b"helpdesk@other.example.org")
    for mail in (first, first, elsewhere):          # the same mail twice: a duplicate
        maildir.add(mail)
    on_duty(cli)
    env = {"MAILDAEMON_MAILDIR": str(cli.root / "stream")}
    assert cli("sync", "--now", "2026-11-23T10:30", **env)[0] == 0
    assert cli("remind", "--now", "2026-11-23T14:00", **env)[0] == 0
    code, out, err = cli("status", "--now", "2026-11-24T13:00", **env)
    assert code == 0, err
    state = cli.root / "state"
    assert out == (
        f"source:          maildir:{cli.root / 'stream'}\n"
        "on duty:         Grace Hopper <grace@example.org>, week of 2026-11-23\n"
        "last sync:       2026-11-23T10:30:00-06:00\n"
        "messages seen:   2 (applied 1, duplicates 1, ignored 0)\n"
        "open tickets:    1 of 1\n"
        "quarantine:      1 entry, 0.0 MB of 500 MB, kept 90 days (see `maildaemon quarantine list`)\n"
        f"outbox:          no SMTP configured: mail is written to {state / 'outbox'}/; queued 0, failed 0, sent 0, "
        "written 2\n"
        "last error:      none\n"
        "silent since:    2026-11-23T10:30:00-06:00, 10.5 business hours without a trusted notification "
        '(last: goc:41234 "Pilot jobs ^[[2Jfail ISSUE=41234 PROJ=71")\n')
