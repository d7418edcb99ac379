"""people.py: how a ticket system names a person, mapped to a team member (SPEC 7: "Map the ticket
system's people to members through their email, name and `aliases`"), and what the team file says
about a person. The team is tests/builders.py's (Ada has the aliases "Ada L." and "alovelace")."""
from __future__ import annotations

from datetime import date

import pytest

from builders import ADA, ALAN, GRACE, team
from maildaemon.people import is_triage_user, member_for, member_name, outage_on, outages_between

TEAM = team()


@pytest.mark.parametrize("who", [
    "ada@example.org", "ADA@Example.ORG", "Ada Lovelace <ada@example.org>", '"Lovelace, A." <ada@example.org>',
    "Ada Lovelace", "  ada   LOVELACE ", "Ada Lovelace (Software)", "Ada L.", "alovelace",
    "ada", "Ada",                                              # RT's user name: her address's local part
])
def test_every_way_a_ticket_system_names_ada_is_ada(who):
    assert member_for(TEAM, who).email == ADA


def test_a_github_login_is_an_alias_written_with_its_at_sign():
    t = team(members=[{"name": "Ada Lovelace", "email": ADA, "aliases": ["@alovelace"]}])
    assert member_for(t, "@alovelace").email == ADA and member_for(t, "alovelace").email == ADA


@pytest.mark.parametrize("who", [
    "Software Support (Triage)", "software-support-stream@example.org", "osg-software-support-stream",
    "Software Support (Triage) <software-support-stream@example.org>",
])
def test_the_triage_pseudo_user_is_never_a_member(who):
    assert is_triage_user(TEAM, who) and member_for(TEAM, who) is None


@pytest.mark.parametrize("who", ["", None, "Jane User", "jane@example.edu", "Lovelace", "@alovelace", "ada@example.org.evil.test",
                                 "Alice Operator (GOC)"])
def test_anyone_else_is_nobody(who):
    assert member_for(TEAM, who) is None


def test_a_local_part_two_members_share_names_neither():
    twins = team(members=[{"name": "Ada Lovelace", "email": ADA}, {"name": "Ada Byron", "email": "ada@other.example.org"},
                          {"name": "Grace Hopper", "email": GRACE}])
    assert member_for(twins, "ada") is None
    assert member_for(twins, "grace").email == GRACE
    assert member_for(twins, "Ada Byron").email == "ada@other.example.org"


def test_a_name_is_the_team_files_and_an_address_of_no_member_is_shown_as_it_is():
    assert member_name(TEAM, "ADA@example.org") == "Ada Lovelace"
    assert member_name(TEAM, "jane@example.edu") == "jane@example.edu"
    assert member_name(TEAM, None) is None


def test_outages_compare_addresses_in_any_case_and_count_both_ends():
    t = team(outages=[{"member": "Ada@Example.ORG", "start": date(2026, 12, 21), "end": date(2027, 1, 1)}])
    assert outage_on(t, ADA, [date(2026, 12, 21)]).end == date(2027, 1, 1)
    assert outage_on(t, ADA.upper(), [date(2026, 12, 18), date(2027, 1, 1)]) is not None
    assert outage_on(t, ADA, [date(2026, 12, 20), date(2027, 1, 2)]) is None
    assert outage_on(t, ALAN, [date(2026, 12, 24)]) is None
    assert outages_between(t, date(2027, 1, 1), date(2027, 1, 7)) == list(t.outages)
    assert outages_between(t, date(2027, 1, 2), date(2027, 1, 7)) == []
