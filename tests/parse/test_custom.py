"""Team-defined systems (SPEC 7.6): recognition needs sender and key, trust stays per system,
regexes are validated at start. Whole mails are in fixtures/custom (test_fixtures)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from builders import CST, goc_mail, one_part
from maildaemon.config import team_from_dict
from maildaemon.model import RawMail
from maildaemon.parse import Accepted, Quarantined, classify, parsers_for
from maildaemon.parse.base import RegexTimeout, Unparseable
from maildaemon.parse.custom import CustomParser
from maildaemon.parse.mail import read_mail

FIXTURES = Path(__file__).parent / "fixtures"
LIST = "software-support-stream@example.org"
FRESHDESK = {"name": "freshdesk", "trusted_senders": ["support@example.freshdesk.com"],
             "key": r"\[#(?P<id>\d+)\]",
             "fields": {"owner": r"^Agent:[ \t]*(?P<value>.*)$", "status": r"^Status:\s*(?P<value>.+?)\s*$",
                        "assignees": r"^Group members:[ \t]*(?P<value>.*)$", "cc": r"^CC:[ \t]*(?P<value>.*)$",
                        "next_action": r"^Next:[ \t]*(?P<value>.*)$"},
             "status_map": {"Waiting on Customer": "waiting-on-user", "Closed": "closed"}}
TEAM_DICT = {
    "team": {"name": "T", "timezone": "America/Chicago", "list_address": LIST, "from_address": "t@example.org",
             "trusted_senders": ["ticket@example.org", "helpdesk@example.org"]},
    "members": [{"name": "Ada Lovelace", "email": "ada@example.org"}],
    "systems": [FRESHDESK],
}
TEAM = team_from_dict(TEAM_DICT)
SPEC = TEAM.systems[0]


def raw(subject: str, body: str = "Status: Open\n", from_: str = "Example Support <support@example.freshdesk.com>",
        **headers: str) -> bytes:
    return one_part(subject, body, from_=from_, date="Tue, 24 Nov 2026 10:00:02 -0500",
                    message_id="<5012.x@example.freshdesk.com>", **headers)


def parser() -> CustomParser:
    return CustomParser(SPEC, TEAM.trusted_senders, LIST)


def test_recognised_only_with_a_trusted_sender_and_the_key():
    p = parser()
    assert p.system == "freshdesk" and p.trusted_senders == ("support@example.freshdesk.com",)
    assert p.recognises(read_mail(raw("Ticket Updated - [#5012] VPN")))
    assert p.recognises(read_mail(raw("[#5012] VPN", from_="helpdesk@example.org")))          # a team sender
    assert not p.recognises(read_mail(raw("Ticket Updated - VPN")))                           # no key
    assert not p.recognises(read_mail(raw("Re: [#5012] VPN", from_="jane@example.edu")))      # a person
    list_rewritten = raw("[#5012] VPN", from_=LIST, X_Original_From="support@example.freshdesk.com")
    assert p.recognises(read_mail(list_rewritten))


def test_per_system_senders_are_trusted_for_that_systems_mail():
    v = classify(RawMail(raw("Ticket Updated - [#5012] VPN"), "x"), TEAM)
    assert isinstance(v, Accepted) and v.change.key == "freshdesk:5012" and v.change.system == "freshdesk"


def test_a_custom_systems_sender_does_not_make_a_goc_imitation_trusted():
    forged = goc_mail(1, "Title", datetime(2026, 11, 23, 9, tzinfo=CST)).replace(
        b'"GOC Ticket" <ticket@example.org>', b'"GOC Ticket" <support@example.freshdesk.com>')
    v = classify(RawMail(forged, "x"), TEAM)
    assert isinstance(v, Quarantined)
    assert v.reason == "untrusted: sender support@example.freshdesk.com is not in trusted_senders"


def test_a_custom_key_never_takes_another_systems_mail():
    goc = raw("[#12] Pilot jobs fail ISSUE=41234 PROJ=71", from_="GOC Ticket <ticket@example.org>")
    v = classify(RawMail(goc, "x"), TEAM)
    assert isinstance(v, Accepted) and v.change.key == "goc:41234"
    assert [type(p).__name__ for p in parsers_for(TEAM)][-1] == "CustomParser"


def test_an_untrusted_imitation_is_quarantined_and_changes_nothing():
    v = classify(RawMail(raw("[#5012] VPN", from_="support@example.freshdesk.com.evil.net"), "x"), TEAM)
    assert isinstance(v, Quarantined)


@pytest.mark.parametrize("status, mapped", [
    ("Waiting on Customer", "waiting-on-user"), ("waiting  on customer", "waiting-on-user"),
    ("CLOSED", "closed"), ("Pending", "open"),
])
def test_status_map_any_case_unknown_is_open_and_raw_is_kept(status, mapped):
    c = parser().parse(read_mail(raw("[#5012] VPN", f"Status: {status}\n")))
    assert (c.status, c.status_raw) == (mapped, status)


@pytest.mark.parametrize("agent, assignees", [
    ("Ada Lovelace", ("Ada Lovelace",)), ("", ()), ("Unassigned", ()), ("-", ()), ("nobody", ()),
])
def test_owner_field(agent, assignees):
    assert parser().parse(read_mail(raw("[#5012] VPN", f"Agent: {agent}\nStatus: Open\n"))).assignees == assignees


def test_list_fields_and_unknown_fields():
    body = "Group members: Ada Lovelace; Grace Hopper\nCC: Bob <bob@example.edu>, carol\nNext: call user\nColour: red\n"
    c = parser().parse(read_mail(raw("[#5012] VPN", body)))
    assert c.assignees == ("Ada Lovelace", "Grace Hopper")     # `assignees` wins over `owner`
    assert (c.cc, c.next_action, c.status) == (("bob@example.edu", "carol"), "call user", None)


def test_fields_missing_from_the_mail_are_none():
    c = parser().parse(read_mail(raw("Re: Ticket Updated - [#5012] VPN broken", "Thanks!\n")))
    assert (c.status, c.assignees, c.next_action) == (None, None, None)
    assert (c.title, c.summary) == ("Ticket Updated - VPN broken", "Thanks!")


def test_an_empty_id_is_unparseable():
    spec = team_from_dict({**TEAM_DICT, "systems": [{**FRESHDESK, "key": r"\[#(?P<id>\d*)\]"}]}).systems[0]
    p = CustomParser(spec)
    mail = read_mail(raw("[#] VPN"))
    assert p.recognises(mail)
    with pytest.raises(Unparseable, match="ticket id"):
        p.parse(mail)


@pytest.mark.parametrize("system, setting", [
    ({"key": r"\[#(\d+)\]"}, "systems.freshdesk.key"),
    ({"key": r"\[#(?P<id>\d+"}, "systems.freshdesk.key"),
    ({"fields": {"status": r"^Status: (.+)$"}}, "systems.freshdesk.fields.status"),
    ({"fields": {"owner": r"^Agent: (?P<value>.+"}}, "systems.freshdesk.fields.owner"),
])
def test_a_bad_regex_stops_start_up_with_exit_2_naming_system_and_field(cli, system, setting):
    entry = {**FRESHDESK, **system}
    fields = ", ".join(f"{k} = '{v}'" for k, v in entry["fields"].items())
    cli.team_file.write_text(cli.team_file.read_text() + (
        f"\n[[systems]]\nname = \"freshdesk\"\nkey = '{entry['key']}'\nfields = {{ {fields} }}\n"))
    code, out, err = cli("sync")
    assert code == 2 and err.startswith(f"maildaemon: {setting}: ") and "Traceback" not in err


def test_an_unknown_field_name_stops_start_up_naming_it():
    from maildaemon.config import ConfigError
    bad = dict(FRESHDESK, fields={"colour": r"^Colour:\s*(?P<value>.+)$"})
    with pytest.raises(ConfigError, match=r"^systems\.freshdesk\.fields\.colour: is not a field"):
        team_from_dict(dict(TEAM_DICT, systems=[bad]))


# --- headers and body_until: what users write is never the system's field (SPEC 7.6) ---------

BUGZILLA = {"name": "bugzilla", "trusted_senders": ["bugzilla-daemon@example.org"],
            "key": r"\[Bug (?P<id>\d+)\]",
            "headers": {"actor": "X-Bugzilla-Who", "owner": "X-Bugzilla-Assigned-To", "status": "X-Bugzilla-Status"},
            "fields": {"title": r"^\s*Summary:\s*(?P<value>.+?)\s*$", "status": r"^\s*Status:\s*(?P<value>.+?)\s*$",
                       "submitter": r"^\s*Reporter:\s*(?P<value>.+?)\s*$", "url": r"^\s*Link:\s*(?P<value>\S+)"},
            "body_until": r"^-{5,} Comment",
            "status_map": {"RESOLVED": "resolved", "VERIFIED": "closed"}}
BUG_HEADERS = {"X_Bugzilla_Who": "jane@example.edu", "X_Bugzilla_Assigned_To": "ada@example.org",
               "X_Bugzilla_Status": "ASSIGNED"}
BLOCK = ("https://bugzilla.example.org/show_bug.cgi?id=4242\n\n"
         "           Summary: Worker nodes lose CVMFS\n"
         "            Status: NEW\n")
COMMENT = ("\n------- Comment #3 from Jane User <jane@example.edu> -------\n"
           "Still broken. Status: RESOLVED\n"
           "Reporter: victim@outsider.test\n"
           "Link: https://evil.example.net/phish\n"
           "Summary: Click here\n")


def bugzilla_team(**system):
    return team_from_dict({**TEAM_DICT, "systems": [{**BUGZILLA, **system}]})


def bug(body: str, **headers: str) -> RawMail:
    return RawMail(raw("[Bug 4242] Worker nodes lose CVMFS", body, from_="Bugzilla <bugzilla-daemon@example.org>",
                       **headers), "x")


def test_header_fields_win_over_the_body_and_need_no_regex():
    v = classify(bug(BLOCK + "Reporter: jane@example.edu\n" + COMMENT, **BUG_HEADERS), bugzilla_team())
    assert isinstance(v, Accepted), v
    c = v.change
    assert (c.key, c.actor, c.assignees, c.status_raw, c.status) == (
        "bugzilla:4242", "jane@example.edu", ("ada@example.org",), "ASSIGNED", "open")
    assert (c.title, c.submitter, c.url) == ("Worker nodes lose CVMFS", "jane@example.edu", None)


def test_a_field_in_both_uses_its_regex_when_the_mail_lacks_the_header():
    c = classify(bug(BLOCK), bugzilla_team()).change
    assert (c.status_raw, c.assignees, c.actor) == ("NEW", None, None)
    c = classify(bug(BLOCK, X_Bugzilla_Assigned_To="", X_Bugzilla_Status="RESOLVED"), bugzilla_team()).change
    assert (c.status_raw, c.status, c.assignees) == ("RESOLVED", "resolved", ())     # an empty header: nobody


def test_body_until_keeps_a_comment_below_the_block_out_of_the_fields():
    body = BLOCK + COMMENT             # the system's block has no Reporter: and no Link:
    c = classify(bug(body), bugzilla_team()).change
    assert (c.submitter, c.url, c.status_raw, c.title) == (None, None, "NEW", "Worker nodes lose CVMFS")
    # without body_until the comment's words are taken: first match in the whole body
    c = classify(bug(body), bugzilla_team(body_until=None)).change
    assert (c.submitter, c.url) == ("victim@outsider.test", "https://evil.example.net/phish")


def test_a_comment_above_the_block_is_read_first_unless_the_field_comes_from_a_header():
    body = ("Jane User wrote:\nStatus: VERIFIED\nOwner: mallory@outsider.test\n\n"
            "------- Ticket -------\n" + BLOCK)
    team = bugzilla_team(fields={**BUGZILLA["fields"], "owner": r"^\s*Owner:\s*(?P<value>.+?)\s*$"})
    c = classify(bug(body), team).change
    assert (c.status_raw, c.assignees) == ("VERIFIED", ("mallory@outsider.test",))   # first match: the user's
    c = classify(bug(body, **BUG_HEADERS), team).change
    assert (c.status_raw, c.assignees) == ("ASSIGNED", ("ada@example.org",))         # headers: the system's


def test_body_until_that_does_not_match_leaves_the_whole_body():
    c = classify(bug(BLOCK + "Reporter: jane@example.edu\n"), bugzilla_team()).change
    assert c.submitter == "jane@example.edu"


# --- team regexes run under a time limit -----------------------------------------------------

SLOW = r"(?P<value>(a|aa)+)$"         # exponential on 'aaa...ab'
HOSTILE = "a" * 60 + "b"


@pytest.mark.parametrize("system, subject, body, field", [
    ({"key": r"\[#(?P<id>(a|aa)+)\]$"}, f"[#{HOSTILE}]", "Status: Open\n", "key"),
    ({"fields": {"status": r"^Status:\s*(?P<value>.+)$", "owner": r"^Agent:\s*" + SLOW}},
     "[#5012] VPN", f"Status: Open\nAgent: {HOSTILE}\n", "owner"),
    ({"body_until": r"^(a|aa)+$"}, "[#5012] VPN", f"Status: Open\n{HOSTILE}\n", "body_until"),
])
def test_a_team_regex_that_runs_out_of_time_quarantines_the_mail_naming_it(system, subject, body, field):
    team = team_from_dict({**TEAM_DICT, "systems": [{**FRESHDESK, **system}]})
    p = CustomParser(team.systems[0], team.trusted_senders, LIST)
    mail = read_mail(raw(subject, body))
    reason = f"regex timeout: systems.freshdesk.{field}"
    with pytest.raises(RegexTimeout) as e:
        p.parse(mail) if p.recognises(mail) else None
    assert str(e.value) == reason and isinstance(e.value, Unparseable)
    v = classify(RawMail(raw(subject, body), "x"), team)
    assert isinstance(v, Quarantined) and v.reason == reason


def test_the_time_limits_of_one_mails_regexes_add_up_to_well_under_a_second():
    from maildaemon.parse.custom import MAIL_SECONDS, MIN_SECONDS
    many = team_from_dict({**TEAM_DICT, "systems": [{**BUGZILLA, "fields": {
        f: r"^x:(?P<value>.*)$" for f in ("title", "status", "owner", "submitter", "priority", "url", "cc")}}]})
    for team, runs in ((TEAM, 2 + 5), (many, 2 + 1 + 7)):
        p = CustomParser(team.systems[0])
        assert p.timeout == max(MIN_SECONDS, MAIL_SECONDS / runs) and p.timeout * runs <= 0.5
