"""`maildaemon rotation ...` as a user drives it: exact lines, exit codes, what is stored."""
import io
import json

from icalendar import Calendar


NOV23 = "2026-11-23"
PLAN = ("2026-11-23  ada@example.org  Ada Lovelace\n"
        "2026-11-30  alan@example.org  Alan Turing\n"
        "2026-12-07  grace@example.org  Grace Hopper\n"
        "2026-12-14  ada@example.org  Ada Lovelace\n")


def stdin(monkeypatch, text):
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def stored(cli):
    path = cli.root / "state" / "maildaemon.json"
    return json.loads(path.read_text()) if path.exists() else {}


def load_plan(cli, monkeypatch, text=PLAN):
    stdin(monkeypatch, text)
    code, out, err = cli("rotation", "load", "-", "--now", NOV23)
    assert code == 0, err
    return out


def test_generate_prints_the_plan_and_stores_nothing(cli):
    code, out, err = cli("rotation", "generate", "--weeks", "4", "--now", NOV23)
    assert (code, out, err) == (0, PLAN, "")
    assert "rotation" not in stored(cli)


def test_generate_piped_into_load_is_the_rotation(cli, monkeypatch):
    _, plan, _ = cli("rotation", "generate", "--weeks", "4", "--now", NOV23)
    assert load_plan(cli, monkeypatch, plan) == "loaded 4 weeks: 2026-11-23 to 2026-12-14 (4 changed)\n"
    code, out, _ = cli("rotation", "show", "--now", "2026-12-01")
    assert code == 0
    assert out == PLAN + (
        "\n"
        "# fairness: duty weeks in the 52 weeks 2025-12-08..2026-11-30\n"
        "# Ada Lovelace <ada@example.org>: 1 week, last 2026-11-23, next 2026-12-14\n"
        "# Grace Hopper <grace@example.org>: 0 weeks, last never, next 2026-12-07\n"
        "# Alan Turing <alan@example.org>: 1 week, last 2026-11-30, next none stored\n")
    assert load_plan(cli, monkeypatch, plan) == "loaded 4 weeks: 2026-11-23 to 2026-12-14 (0 changed)\n"
    assert load_plan(cli, monkeypatch, out) == "loaded 4 weeks: 2026-11-23 to 2026-12-14 (0 changed)\n"  # show too


def test_generate_continues_after_the_stored_weeks_counting_them(cli, monkeypatch):
    load_plan(cli, monkeypatch, "2026-11-23  ada@example.org\n2026-11-30  ada@example.org\n")
    code, out, _ = cli("rotation", "generate", "--weeks", "3", "--now", NOV23)
    assert out == ("2026-12-07  grace@example.org  Grace Hopper\n"
                   "2026-12-14  alan@example.org  Alan Turing\n"
                   "2026-12-21  grace@example.org  Grace Hopper\n")
    # from the week containing --start, re-planning stored weeks from there (Grace is away that week)
    _, out, _ = cli("rotation", "generate", "--weeks", "2", "--start", "2026-12-02", "--now", NOV23)
    assert out == ("2026-11-30  alan@example.org  Alan Turing\n"
                   "2026-12-07  grace@example.org  Grace Hopper\n")


def test_generate_never_starts_in_the_past(cli, monkeypatch):
    load_plan(cli, monkeypatch, "2026-11-23  ada@example.org\n")
    _, out, _ = cli("rotation", "generate", "--weeks", "1", "--now", "2027-02-03")
    assert out.startswith("2027-02-01  ")


def test_a_week_nobody_can_take_prints_unassigned_and_exits_1(cli):
    cli.team_file.write_text(cli.team_file.read_text() + """
[[outages]]
member = "ada@example.org"
start = 2026-11-30
end = 2026-12-04

[[outages]]
member = "alan@example.org"
start = 2026-11-30
end = 2026-11-30
""")
    code, out, err = cli("rotation", "generate", "--weeks", "3", "--now", NOV23)
    assert code == 1
    assert out == ("2026-11-23  ada@example.org  Ada Lovelace\n"
                   "2026-11-30  UNASSIGNED  # everyone on the rotation is away\n"
                   "2026-12-07  grace@example.org  Grace Hopper\n")
    assert "1 week nobody can take (UNASSIGNED): 2026-11-30" in err


def test_generate_rejects_bad_arguments(cli):
    assert cli("rotation", "generate", "--weeks", "0")[0] == 2
    assert cli("rotation", "generate")[0] == 2
    code, _, err = cli("rotation", "generate", "--weeks", "2", "--start", "next week")
    assert code == 2 and "'next week' is not a date" in err
    assert cli("rotation")[0] == 2


def test_load_reports_every_bad_line_and_stores_nothing(cli):
    path = cli.root / "edited.txt"
    path.write_text("# my edit\n2026-11-23  ada@example.org  Ada Lovelace\n2026-11-24: Ada Lovelace\n"
                    "2026-11-30  bob@example.org  Bob\n2026-11-23: Alan Turing\n")
    code, out, err = cli("rotation", "load", str(path), "--now", NOV23)
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "line 3: 2026-11-24 is a Tuesday, not a week start; weeks start on Monday (that week starts 2026-11-23)",
        "line 4: unknown member 'bob@example.org'; use the email of a [[members]] entry in the team file",
        "line 5: week 2026-11-23 is already on line 2",
        f"maildaemon rotation load: 3 bad lines in {path}; nothing stored"]
    assert "rotation" not in stored(cli)


def test_load_reads_the_old_calendar_tool_and_warns_about_outages(cli):
    path = cli.root / "history.txt"
    path.write_text("2026-11-16: alovelace\n2026-11-23: Alan Turing\n2026-11-30: Grace Hopper\n")
    code, out, err = cli("rotation", "load", str(path), "--now", NOV23)
    assert code == 0
    assert out == "loaded 3 weeks: 2026-11-16 to 2026-11-30 (3 changed)\n"
    assert err == "line 3: warning: Grace Hopper is away 2026-11-30..2026-12-04, during the week of 2026-11-30\n"
    _, out, _ = cli("rotation", "show", "--now", NOV23)
    assert out.splitlines()[:3] == [
        "2026-11-16  ada@example.org  Ada Lovelace", "2026-11-23  alan@example.org  Alan Turing",
        "2026-11-30  grace@example.org  Grace Hopper  # conflict: Grace Hopper is away 2026-11-30..2026-12-04"]


def test_load_of_a_missing_file_is_a_usage_error(cli):
    code, _, err = cli("rotation", "load", "nope.txt")
    assert code == 2 and err.startswith("maildaemon rotation load: cannot read nope.txt")


def test_show_keeps_past_weeks_as_served_when_the_team_changes(cli, monkeypatch):
    load_plan(cli, monkeypatch)
    cli.team_file.write_text(cli.team_file.read_text().replace('name = "Ada Lovelace"\nemail = "ada@example.org"\n'
                                               'aliases = ["alovelace"]\n', 'name = "Ada King"\nemail = '
                                               '"ada@example.org"\nrotation = false\n'))
    _, out, _ = cli("rotation", "show", "--now", "2026-12-01")
    lines = out.splitlines()
    assert lines[0] == "2026-11-23  ada@example.org  Ada Lovelace  # not on the rotation"
    assert "# Ada King <ada@example.org> (not on the rotation): 1 week, last 2026-11-23, next 2026-12-14" in lines


def test_show_with_nothing_stored(cli):
    code, out, _ = cli("rotation", "show", "--now", NOV23)
    assert code == 0
    assert out.splitlines()[0] == ("# no weeks stored yet; to start: "
                                   "maildaemon rotation generate --weeks 8 | maildaemon rotation load -")


def test_who_is_on_duty_weekends_included(cli, monkeypatch):
    load_plan(cli, monkeypatch)
    assert cli("rotation", "who", "--now", "2026-11-25T10:00") == (0, "2026-11-23  ada@example.org  Ada Lovelace\n", "")
    _, out, _ = cli("rotation", "who", "--date", "2026-11-29", "--now", NOV23)           # Sunday
    assert out == "2026-11-23  ada@example.org  Ada Lovelace\n"
    _, out, _ = cli("rotation", "who", "--date", "2026-11-30T05:59:00Z", "--now", NOV23)  # 23:59 Sunday, Chicago
    assert out.startswith("2026-11-23  ada@")
    _, out, _ = cli("rotation", "who", "--date", "2026-11-30T06:00:00Z", "--now", NOV23)  # Monday 00:00
    assert out.startswith("2026-11-30  alan@")


def test_who_across_the_dst_changes(cli, monkeypatch):
    load_plan(cli, monkeypatch, "2026-10-26  ada@example.org\n2026-11-02  alan@example.org\n"
                                "2027-03-08  grace@example.org\n2027-03-15  ada@example.org\n")
    assert cli("rotation", "who", "--now", "2026-11-02T05:30Z")[1].startswith("2026-10-26  ada@")   # Sun 23:30 CST
    assert cli("rotation", "who", "--now", "2026-11-02T06:00Z")[1].startswith("2026-11-02  alan@")
    assert cli("rotation", "who", "--now", "2027-03-15T04:59Z")[1].startswith("2027-03-08  grace@")  # Sun 23:59 CDT
    assert cli("rotation", "who", "--now", "2027-03-15T05:00Z")[1].startswith("2027-03-15  ada@")


def test_who_without_a_stored_week_exits_1_with_a_clear_message(cli, monkeypatch):
    code, out, err = cli("rotation", "who", "--now", NOV23)
    assert code == 1 and out == "" and "no rotation is stored" in err
    load_plan(cli, monkeypatch)
    code, _, err = cli("rotation", "who", "--date", "2027-01-05", "--now", NOV23)
    assert code == 1
    assert "nobody is on duty on 2027-01-05: the week of 2027-01-04 is not in the stored rotation" in err
    assert cli("rotation", "who", "--date", "soon")[0] == 2


def test_set_overrides_one_week(cli, monkeypatch):
    load_plan(cli, monkeypatch)
    code, out, err = cli("rotation", "set", "2026-11-30", "Grace Hopper", "--now", NOV23)
    assert code == 0
    assert out == "2026-11-30  grace@example.org  Grace Hopper\n"
    assert err == ("maildaemon: warning: Grace Hopper is away 2026-11-30..2026-12-04, during the week of "
                   "2026-11-30\n")
    assert cli("rotation", "who", "--date", "2026-12-01")[1] == out
    week = [d for d in stored(cli)["rotation"].values() if d["week"] == "2026-11-30"][0]
    assert (week["email"], week["action"], week["revision"]) == ("grace@example.org", "set", 2)
    log = list(stored(cli)["rotation_log"].values())
    assert log[-1] == {"at": "2026-11-23T00:00:00-06:00", "action": "set", "week": "2026-11-30",
                       "before": "alan@example.org", "after": "grace@example.org"}
    assert cli("rotation", "set", "2026-12-21", "alan@example.org")[1] == "2026-12-21  alan@example.org  Alan Turing\n"
    assert cli("rotation", "set", "2026-12-21", "UNASSIGNED")[1] == "2026-12-21  UNASSIGNED\n"
    assert "2026-12-21" not in cli("rotation", "show", "--now", NOV23)[1]


def test_set_refuses_unknown_members_and_mid_week_dates(cli):
    code, out, err = cli("rotation", "set", "2026-11-30", "bob@example.org")
    assert (code, out) == (2, "")
    assert err == ("maildaemon rotation set: unknown member 'bob@example.org'; use a member's email, name or "
                   "alias from the team file\n")
    code, _, err = cli("rotation", "set", "2026-12-02", "ada@example.org")
    assert code == 2 and err == ("maildaemon rotation set: 2026-12-02 is a Wednesday, not a week start; weeks "
                                 "start on Monday (that week starts 2026-11-30)\n")
    assert "rotation" not in stored(cli)


def test_swap_exchanges_two_weeks(cli, monkeypatch):
    load_plan(cli, monkeypatch)
    code, out, err = cli("rotation", "swap", "2026-11-23", "2026-12-14", "--now", NOV23)
    assert code == 0
    assert out == "2026-11-23  ada@example.org  Ada Lovelace\n2026-12-14  ada@example.org  Ada Lovelace\n"
    code, out, err = cli("rotation", "swap", "2026-11-23", "2026-11-30", "--now", NOV23)
    assert out == "2026-11-23  alan@example.org  Alan Turing\n2026-11-30  ada@example.org  Ada Lovelace\n"
    assert cli("rotation", "who", "--now", NOV23)[1] == "2026-11-23  alan@example.org  Alan Turing\n"
    code, _, err = cli("rotation", "swap", "2026-11-23", "2027-01-04")
    assert code == 2 and "week 2027-01-04 is not stored" in err
    assert cli("rotation", "swap", "2026-11-23", "2026-11-23")[0] == 2


def test_ics_to_stdout_and_to_a_file(cli, monkeypatch):
    load_plan(cli, monkeypatch)
    code, out, _ = cli("rotation", "ics", "--now", NOV23)
    assert code == 0
    cal = Calendar.from_ical(out.encode())
    summaries = sorted(str(e["SUMMARY"]) for e in cal.walk("VEVENT"))
    assert summaries == ["Away: Grace Hopper", "Software Team duty: Ada Lovelace", "Software Team duty: Ada Lovelace",
                         "Software Team duty: Alan Turing", "Software Team duty: Grace Hopper"]
    target = cli.root / "duty.ics"
    code, out, _ = cli("rotation", "ics", "--out", str(target), "--now", NOV23)
    assert (code, out) == (0, f"wrote 4 duty weeks and 1 outage to {target}\n")
    later = cli("rotation", "ics", "--now", "2026-12-01")[1].encode()
    uids = lambda data: sorted(str(e["UID"]) for e in Calendar.from_ical(data).walk("VEVENT"))
    assert uids(target.read_bytes()) == uids(later)                     # stable across runs
    assert target.read_bytes().count(b"\r\n") == len(target.read_bytes().splitlines())   # RFC 5545 CRLF


def test_announce_previews_this_week_and_next(cli, monkeypatch):
    load_plan(cli, monkeypatch)
    code, out, _ = cli("rotation", "announce", "--now", "2026-11-24T09:00")
    assert code == 0
    lines = out.splitlines()
    assert lines[:4] == ["Subject: This week's Software Team duty: Ada Lovelace", "",
                         "This week: Ada Lovelace", "Next week: Alan Turing"]
    assert "  Away: Grace Hopper, 2026-11-30 to 2026-12-04." in lines
    assert lines[-3:] == ["-- ", "Ada Lovelace", "on duty for Software Team"]       # signed by the duty person
    _, html, _ = cli("rotation", "announce", "--html", "--date", "2026-12-14", "--now", NOV23)
    assert "This week: Ada Lovelace<br>" in html and "Next week: UNASSIGNED</p>" in html


def test_a_tuesday_team_with_holidays(cli, monkeypatch):
    cli.team_file.write_text(cli.team_file.read_text().replace('trusted_senders', 'duty_start = "tue"\nholidays = "US"\n'
                                                                  'trusted_senders'))
    _, out, _ = cli("rotation", "generate", "--weeks", "2", "--now", "2026-11-23")
    assert out == ("2026-11-17  ada@example.org  Ada Lovelace\n"
                   "2026-11-24  alan@example.org  Alan Turing\n")
    stdin(monkeypatch, "2026-11-23  ada@example.org\n")
    code, _, err = cli("rotation", "load", "-")
    assert code == 2 and "weeks start on Tuesday (that week starts 2026-11-17)" in err
    _, out, _ = cli("rotation", "announce", "--date", "2026-11-24", "--now", NOV23)
    assert "  Holiday: Thursday 2026-11-26, Thanksgiving Day." in out.splitlines()


def test_an_unsupported_holiday_country_is_a_one_line_configuration_error(cli):
    cli.team_file.write_text(cli.team_file.read_text().replace('trusted_senders', 'holidays = "XX"\ntrusted_senders'))
    code, out, err = cli("rotation", "generate", "--weeks", "1", "--now", NOV23)
    assert code == 2 and out == "" and err.startswith("maildaemon: team.holidays: 'XX' is not supported")
    assert len(err.splitlines()) == 1


def test_the_announcement_template_can_be_overridden(cli, monkeypatch):
    load_plan(cli, monkeypatch)
    overrides = cli.root / "templates"
    overrides.mkdir()
    (overrides / "announcement.txt.j2").write_text("This week: {{ this_week.name }}\nNext week: {{ next_week.name }}\n")
    code, out, _ = cli("rotation", "announce", "--now", NOV23, MAILDAEMON_TEMPLATES_DIR=str(overrides))
    assert code == 0 and out.splitlines()[2:] == ["This week: Ada Lovelace", "Next week: Alan Turing"]


# --- rotation check (SPEC 10, issue 12): Grace is away 2026-11-30..2026-12-04 in the test team ----

CONFLICTED = ("2026-11-23  ada@example.org  Ada Lovelace\n"
              "2026-11-30  grace@example.org  Grace Hopper\n"
              "2026-12-07  alan@example.org  Alan Turing\n"
              "2026-12-14  ada@example.org  Ada Lovelace\n")


def test_check_lists_a_conflict_with_its_swap_and_exits_1_until_it_is_swapped(cli, monkeypatch):
    load_plan(cli, monkeypatch, CONFLICTED)
    code, out, err = cli("rotation", "check", "--now", NOV23)
    assert (code, out, err) == (1, "conflict 2026-11-30 grace@example.org away 2026-11-30..2026-12-04: "
                                   "swap with 2026-12-07 alan@example.org\n", "")
    before = stored(cli)
    cli("rotation", "check", "--now", NOV23)
    assert stored(cli) == before                                   # check stores nothing
    assert cli("rotation", "swap", "2026-11-30", "2026-12-07", "--now", NOV23)[0] == 0
    assert cli("rotation", "check", "--now", NOV23) == \
        (0, "ok: no stored week from 2026-11-23 on has its person away\n", "")


def test_check_offers_a_generated_week_or_says_there_is_no_swap(cli, monkeypatch):
    load_plan(cli, monkeypatch, "2026-11-23  ada@example.org\n2026-11-30  grace@example.org\n")
    code, out, _ = cli("rotation", "check", "--now", NOV23)
    assert (code, out) == (1, "conflict 2026-11-30 grace@example.org away 2026-11-30..2026-12-04: "
                              "swap with 2026-12-07 alan@example.org (generated)\n")
    # a team of two, both away that week: no exchange breaks no outage
    cli.team_file.write_text(cli.team_file.read_text().replace(
        '[[members]]\nname = "Alan Turing"\nemail = "alan@example.org"\n', "")
        + '\n[[outages]]\nmember = "ada@example.org"\nstart = 2026-12-01\nend = 2026-12-01\n')
    code, out, _ = cli("rotation", "check", "--now", "2026-12-02")
    assert (code, out) == (1, "conflict 2026-11-30 grace@example.org away 2026-11-30..2026-12-04: "
                              "no swap within the next 8 weeks; give the week to someone free by hand\n")
    # once the week is over it is history, not a conflict
    assert cli("rotation", "check", "--now", "2026-12-07")[0] == 0


def test_check_with_no_rotation_stored_is_ok(cli):
    assert cli("rotation", "check", "--now", NOV23) == \
        (0, "ok: no stored week from 2026-11-23 on has its person away\n", "")
