"""A configuration that catches every mistake (SPEC 3 "read strictly", issue 11).

Each mistake runs the real command line and expects exit 2 and exactly one line on stderr: the
setting, what is wrong, the fix. `check_team_file` names every problem of a file in one run.
"""
import re
import tomllib
from pathlib import Path

import pytest

from maildaemon.config import KNOWN_KEYS, SINGLE_TABLES, ConfigError, check_team_file, load_team, team_from_dict

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-24T10:00"


def refused(cli, *args, **env) -> str:
    code, out, err = cli(*(args or ("tickets", "--now", NOW)), **env)
    assert (code, out) == (2, ""), (code, out, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def edit(cli, old: str, new: str, count: int = 1) -> None:
    text = cli.team_file.read_text()
    assert old in text
    cli.team_file.write_text(text.replace(old, new, count))


def append(cli, text: str) -> None:
    cli.team_file.write_text(cli.team_file.read_text() + text)


# --- unknown keys and tables ---------------------------------------------------------------------

UNKNOWN = {       # a mistake (old text -> new text; old None: appended) and the one line it gets
    "a misspelt team key names the nearest known one": (
        'timezone = "America/Chicago"', 'timezon = "America/Chicago"',
        "team.timezon: unknown key in [team]; did you mean timezone?"),
    "a misspelt policy key names the nearest known one": (
        None, "\n[policy]\nstale_days = 3\n",
        "policy.stale_days: unknown key in [policy]; did you mean stale_after_days?"),
    "an unknown table is refused with the tables there are": (
        None, "\n[extra]\nanswer = 42\n",
        "extra: unknown table [extra]; remove it; the tables are [team], [policy], [[members]], [[outages]], "
        "[[meetings]], [[systems]]"),
    "a misspelt member key is one line, not also a missing email": (
        'email = "alan@example.org"', 'emial = "alan@example.org"',
        "members[2].emial: unknown key in [[members]]; did you mean email?"),
    "an unknown meeting key lists the keys there are": (
        None, '\n[[meetings]]\nday = "wed"\ntime = "16:00"\nname = "Operations meeting"\nroom = "B12"\n',
        "meetings[0].room: unknown key in [[meetings]]; remove it; the keys of [[meetings]] are day, time, name, "
        "brief, brief_minutes"),
    "misspelt members are refused, not read as a team of nobody": (
        "[[members]]", "[[membres]]", "membres: unknown table [[membres]]; did you mean [[members]]?"),
    "a key in the wrong table says where it belongs": (
        "[team]\n", "[team]\nstale_after_days = 3\n",
        "team.stale_after_days: unknown key in [team]; stale_after_days belongs in [policy]: move it there"),
}


@pytest.mark.parametrize("old, new, line", UNKNOWN.values(), ids=UNKNOWN.keys())
def test_an_unknown_key_or_table_is_one_line_naming_the_fix(cli, old, new, line):
    if old is None:
        append(cli, new)
    else:
        edit(cli, old, new, count=3 if old == "[[members]]" else 1)
    assert refused(cli) == f"maildaemon: {line}\n"


def test_a_key_above_every_table_says_which_table_it_belongs_in():
    msg = _problems({"duty_start": "mon", **_team()})
    assert msg == ["duty_start: unknown key at the top of the file, outside any table; "
                   "duty_start belongs in [team]: move it below that table's header"]


def test_unknown_fields_of_a_system_name_the_nearest_field():
    data = _team()
    data["systems"] = [{"name": "freshdesk", "key": r"\[#(?P<id>\d+)\]", "fields": {"staus": "^S: (?P<value>.+)$"}}]
    [msg] = _problems(data)
    assert msg.startswith("systems.freshdesk.fields.staus: is not a field maildaemon knows; did you mean status? ")


# --- contradictions ------------------------------------------------------------------------------

def test_closing_before_the_user_is_reminded_is_refused_naming_both_settings(cli):
    append(cli, "\n[policy]\nuser_wait_days = 5\nuser_close_days = 3\n")
    assert refused(cli) == ("maildaemon: policy.user_close_days: 3 is not above policy.user_wait_days (5), so the "
                            "owner would be told to close before the user is reminded; set user_close_days above "
                            "user_wait_days (e.g. 10) or lower user_wait_days\n")


def test_equal_close_and_wait_days_are_refused_too():
    [msg] = _problems({**_team(), "policy": {"user_wait_days": 7, "user_close_days": 7}})
    assert msg.startswith("policy.user_close_days: 7 is not above policy.user_wait_days (7)")


def test_a_handoff_on_a_day_without_duty_is_refused(cli):
    append(cli, '\n[policy]\nhandoff_time = "sat 15:00"\n')
    assert refused(cli) == ("maildaemon: policy.handoff_time: 'sat 15:00' is not on a duty day (duty days are Monday "
                            "to Friday, whatever team.duty_start is); hand over on a weekday, "
                            'e.g. handoff_time = "fri 15:00"\n')


def test_a_handoff_on_the_last_duty_day_of_a_tuesday_week_is_fine():
    team = team_from_dict({**_team(duty_start="tue"), "policy": {"handoff_time": "mon 15:00"}})
    assert team.policy.handoff_time[0] == "mon"


# --- holidays at load time -----------------------------------------------------------------------

def test_an_unknown_holiday_country_stops_every_command_not_only_remind(cli):
    edit(cli, "[team]\n", '[team]\nholidays = "XX"\n')
    assert refused(cli) == ("maildaemon: team.holidays: 'XX' is not supported by the holidays package (Country XX "
                            'not available); use a supported ISO 3166 code such as "US", "US-CA" or "DE", '
                            "or leave it out\n")


def test_an_unknown_subdivision_is_refused_and_known_ones_pass():
    [msg] = _problems(_team(holidays="US-ZZ"))
    assert msg.startswith("team.holidays: 'US-ZZ' is not supported by the holidays package")
    for code in ("US", "us", "US-CA", "DE-BY", "GB", "CN"):
        assert team_from_dict(_team(holidays=code)).holidays == code


# --- every problem in one run --------------------------------------------------------------------

SEVERAL = '''
[team]
name = "T"
timezon = "Europe/Zurich"
list_address = "list@example.org"
from_address = "duty@example.org"
holidays = "XX"

[policy]
stale_days = 3
user_wait_days = 5
user_close_days = 3
handoff_time = "sat 15:00"

[extra]
x = 1

[[members]]
name = "Ada"
emial = "ada@example.org"

[[meetings]]
day = "wed"
time = "16:00"
name = "Ops"
room = "B12"
'''


def test_check_team_file_names_every_problem_and_commands_name_the_first(tmp_path):
    path = tmp_path / "team.toml"
    path.write_text(SEVERAL)
    problems = check_team_file(path)
    assert [p.split(":")[0] for p in problems] == [
        "team.timezon", "policy.stale_days", "extra", "members[0].emial", "meetings[0].room", "team.holidays",
        "policy.user_close_days", "policy.handoff_time"]
    assert all("\n" not in p for p in problems)
    with pytest.raises(ConfigError) as e:
        load_team(path)
    assert str(e.value) == ("team.timezon: unknown key in [team]; did you mean timezone? "
                            "(7 more problems in the team file: `maildaemon check` lists them all)")
    assert e.value.setting == "team.timezon"


def test_check_team_file_on_a_good_a_missing_and_a_broken_file(tmp_path):
    assert check_team_file(ROOT / "maildaemon" / "demo" / "team.toml") == []
    assert check_team_file(tmp_path / "nope.toml") == [
        f"MAILDAEMON_TEAM_FILE: {tmp_path / 'nope.toml'} not found; create the team file (see README, 'Team file') "
        "or point MAILDAEMON_TEAM_FILE at it"]
    (tmp_path / "bad.toml").write_text("[team\n")
    [msg] = check_team_file(tmp_path / "bad.toml")
    assert msg.startswith("MAILDAEMON_TEAM_FILE:") and "is not valid TOML" in msg
    assert check_team_file(tmp_path) == [f"MAILDAEMON_TEAM_FILE: {tmp_path} is a folder, not a team file; "
                                         "point MAILDAEMON_TEAM_FILE at the team's TOML file"]


# --- every key maildaemon knows is accepted, and documented ---------------------------------------

EVERY_KEY = '''
[team]
name = "Software Team"
timezone = "America/Chicago"
list_address = "stream@example.org"
from_address = "triage@example.org"
triage_user = "Software Support (Triage)"
triage_next_action = "SOFTWARE TRIAGE"
trusted_senders = ["ticket@example.org", "*@rt.example.org"]
holidays = "US"
duty_start = "mon"
work_hours = "09:00-17:00"
require_authentication = true
authserv_id = "mx.example.org"

[policy]
unassigned_after_hours = 4
stale_after_days = 2
user_wait_days = 5
user_close_days = 10
repeat_after_days = 2
reminder_times = ["09:30", "14:00"]
announce_time = "mon 09:00"
handoff_time = "fri 15:00"
silence_after_hours = 8

[[members]]
name = "Ada Lovelace"
email = "ada@example.org"
aliases = ["alovelace"]
rotation = true
signature = "Ada"
suggest = true

[[outages]]
member = "ada@example.org"
start = 2026-12-21
end = 2027-01-01
reason = "holidays"

[[meetings]]
day = "wed"
time = "16:00"
name = "Operations meeting"
brief = true
brief_minutes = 30

[[systems]]
name = "freshdesk"
trusted_senders = ["support@example.freshdesk.com"]
key = '\\[#(?P<id>\\d+)\\]'
fields = { status = '^Status:\\s*(?P<value>.+)$' }
status_map = { "Closed" = "closed" }
headers = { owner = "X-Agent" }
body_until = '^-{5,}'
'''


def test_a_team_file_with_every_known_key_loads(tmp_path):
    data = tomllib.loads(EVERY_KEY)
    used = {(s, k) for s, v in data.items() for entry in ([v] if s in SINGLE_TABLES else v) for k in entry}
    assert used == {(s, k) for s, keys in KNOWN_KEYS.items() for k in keys}      # the file uses them all
    path = tmp_path / "team.toml"
    path.write_text(EVERY_KEY)
    assert check_team_file(path) == []
    team = load_team(path)
    assert team.members[0].signature == "Ada" and team.outages[0].reason == "holidays"
    assert team.systems[0].body_until == "^-{5,}" and team.authserv_id == "mx.example.org"


def _readme_team_file_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("### Team file")
    end = re.search(r"^##", text[start + 3:], re.M)
    return text[start:start + 3 + end.start()] if end else text[start:]


def test_the_readme_reference_lists_every_key_the_checks_know_and_no_other():
    rows = [line for line in _readme_team_file_section().splitlines() if line.startswith("| `")]
    missing = []
    for section, keys in KNOWN_KEYS.items():
        for key in keys:
            dotted = f"`{section}.{key}`"
            table = f"[{section}]" if section in SINGLE_TABLES else f"[[{section}]]"
            if not any(dotted in row or (table in row and f"`{key}`" in row.split("|")[1]) for row in rows):
                missing.append(f"{section}.{key}")
    assert missing == []
    for section, key in re.findall(r"`(team|policy)\.(\w+)`", _readme_team_file_section()):
        assert key in KNOWN_KEYS[section], f"README documents {section}.{key}, which maildaemon does not know"


def _example_team_files() -> list[Path]:
    found = [ROOT / "maildaemon" / "demo" / "team.toml"]
    for folder in ("docs", "examples"):
        found += sorted((ROOT / folder).glob("**/*.toml")) if (ROOT / folder).is_dir() else []
    return found


@pytest.mark.parametrize("path", _example_team_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_bundled_example_team_files_pass(path):
    assert check_team_file(path) == []


def test_team_file_snippets_in_the_docs_use_only_known_keys():
    """A ```toml block of README.md or docs/*.md that parses is at least free of unknown keys."""
    from maildaemon.config import unknown_keys
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for block in re.findall(r"```toml\n(.*?)```", doc.read_text(encoding="utf-8"), re.S):
            try:
                data = tomllib.loads(block)
            except tomllib.TOMLDecodeError:
                continue
            assert [str(e) for e in unknown_keys(data)] == [], doc.name


# --- the environment -------------------------------------------------------------------------------

def test_an_smtp_user_without_a_password_is_refused(cli):
    assert refused(cli, MAILDAEMON_SMTP_HOST="smtp.example.org", MAILDAEMON_SMTP_USER="triage") == (
        "maildaemon: MAILDAEMON_SMTP_PASSWORD: not set while MAILDAEMON_SMTP_USER is; set MAILDAEMON_SMTP_PASSWORD "
        "too, or unset MAILDAEMON_SMTP_USER to send without logging in\n")


def test_an_smtp_password_without_a_user_is_refused_and_not_shown(cli):
    err = refused(cli, MAILDAEMON_SMTP_HOST="smtp.example.org", MAILDAEMON_SMTP_PASSWORD="hunter2")
    assert err == ("maildaemon: MAILDAEMON_SMTP_USER: not set while MAILDAEMON_SMTP_PASSWORD is; set "
                   "MAILDAEMON_SMTP_USER to the login of that password, or unset MAILDAEMON_SMTP_PASSWORD\n")


def test_an_env_file_that_is_a_folder_says_so(cli):
    (cli.root / "conf").mkdir()
    assert refused(cli, "tickets", "--env-file", "conf") == (
        "maildaemon: --env-file: conf is a folder, not an env file; "
        "pass the path of the env file itself (KEY=value lines)\n")


def test_a_malformed_env_file_line_names_the_file_and_line_and_not_its_text(cli):
    (cli.root / "maildaemon.env").write_text("MAILDAEMON_LOG_LEVEL=INFO\n# a comment\nhunter2 is my password\n")
    err = refused(cli, "tickets", "--env-file", "maildaemon.env", "--now", NOW)
    assert err == ("maildaemon: maildaemon.env line 3: not a KEY=value line; write KEY=value (double quotes around "
                   "a value with spaces, # or quotes), or begin a comment with #\n")


def test_a_malformed_line_in_the_default_env_file_is_refused_too(cli):
    (cli.root / ".env").write_text('MAILDAEMON_SMTP_PASSWORD="unterminated\n')
    assert refused(cli).startswith("maildaemon: .env line 1: not a KEY=value line;")


def test_a_well_formed_env_file_still_reads_quotes_dollars_and_export(cli):
    (cli.root / "maildaemon.env").write_text(
        '# comment\n\nexport MAILDAEMON_LOG_LEVEL=warning\nMAILDAEMON_NOW="2026-11-24T10:00"  # inline\n'
        "MAILDAEMON_IMAP_PASSWORD='pa$$ word'\n")
    code, out, err = cli("tickets", "--env-file", "maildaemon.env")
    assert (code, err) == (0, "")


def test_a_bad_maildaemon_now_is_named_as_such(cli):
    assert refused(cli, "tickets", MAILDAEMON_NOW="tomorrow") == (
        "maildaemon: MAILDAEMON_NOW: 'tomorrow' is not an ISO 8601 date or date-time; write e.g. 2026-11-24 or "
        "2026-11-24T09:30 or 2026-11-24T09:30:00-06:00, or unset it to use the clock\n")


def test_a_bad_now_option_is_still_named_now(cli):
    assert refused(cli, "status", "--now", "tomorrow").startswith("maildaemon: --now: 'tomorrow' is not an ISO 8601")


# --- helpers -------------------------------------------------------------------------------------

def _team(**team_keys) -> dict:
    return {"team": {"name": "T", "timezone": "Europe/Zurich", "list_address": "list@example.org",
                     "from_address": "duty@example.org", **team_keys},
            "members": [{"name": "Ada", "email": "ada@example.org"}]}


def _problems(data: dict) -> list[str]:
    from maildaemon.config import validate_team
    return [str(e) for e in validate_team(data)[1]]


def test_check_configuration_lists_the_environment_and_team_file_problems_in_one_run(tmp_path, monkeypatch):
    from maildaemon.config import check_configuration
    monkeypatch.chdir(tmp_path)
    (tmp_path / "team.toml").write_text(SEVERAL)
    env = {"MAILDAEMON_TEAM_FILE": str(tmp_path / "team.toml"), "MAILDAEMON_SMTP_USER": "triage",
           "MAILDAEMON_LOG_LEVEL": "loud", "MAILDAEMON_POLL_SECONDS": "often", "MAILDAEMON_NOW": "tomorrow"}
    problems = check_configuration(None, env)
    assert [p.split(":")[0] for p in problems] == [
        "MAILDAEMON_SMTP_PASSWORD", "MAILDAEMON_LOG_LEVEL", "MAILDAEMON_POLL_SECONDS", "MAILDAEMON_NOW",
        "team.timezon", "policy.stale_days", "extra", "members[0].emial", "meetings[0].room", "team.holidays",
        "policy.user_close_days", "policy.handoff_time"]
    (tmp_path / ".env").write_text("not a line\n")
    assert check_configuration(None, env) == [
        ".env line 1: not a KEY=value line; write KEY=value (double quotes around a value with spaces, # or "
        "quotes), or begin a comment with #"]
    (tmp_path / ".env").unlink()
    (tmp_path / "team.toml").write_text((ROOT / "maildaemon" / "demo" / "team.toml").read_text())
    assert check_configuration(None, {"MAILDAEMON_TEAM_FILE": str(tmp_path / "team.toml")}) == []
