"""Links from tickets to the work items their updates mention (SPEC 6 `links`)."""
from __future__ import annotations

from datetime import datetime

import pytest

from builders import CST, goc_mail, rt_mail
from maildaemon.apply import apply
from maildaemon.config import team_from_dict
from maildaemon.model import RawMail
from maildaemon.parse import Accepted, classify
from maildaemon.parse.links import find_links


def keys(text: str, **kw) -> list[str]:
    return [x["key"] for x in find_links(text, **kw)]


def test_jira_keys_and_urls():
    links = find_links("Tracked in SOFTWARE-1234, see https://jira.example.org/browse/SOFTWARE-1234?focusedId=9.")
    assert links == ({"key": "jira:SOFTWARE-1234", "system": "jira", "id": "SOFTWARE-1234",
                      "url": "https://jira.example.org/browse/SOFTWARE-1234"},)
    assert find_links("Tracked in OPS_2-7.")[0]["url"] is None          # no host known for a bare key
    assert keys("https://issues.example.org/jira/browse/HTCONDOR-1503") == ["jira:HTCONDOR-1503"]


def test_github_refs_and_urls():
    links = find_links("Fix in example-org/client#46; also https://github.com/htcondor/htcondor/pull/2101/files.")
    assert links == (
        {"key": "github:example-org/client#46", "system": "github", "id": "example-org/client#46",
         "url": "https://github.com/example-org/client/issues/46"},
        {"key": "github:htcondor/htcondor#2101", "system": "github", "id": "htcondor/htcondor#2101",
         "url": "https://github.com/htcondor/htcondor/pull/2101"},
    )
    # a URL written for the same item gives its url, wherever it is
    later = find_links("See org/repo#3. (https://github.com/org/repo/pull/3)")
    assert [(x["key"], x["url"]) for x in later] == [("github:org/repo#3", "https://github.com/org/repo/pull/3")]
    assert keys("git clone https://github.com/org/repo.git; org/repo.git#4") == ["github:org/repo#4"]


@pytest.mark.parametrize("text", [
    "charset=UTF-8", "UTF-8 and UTF-16", "ISO-8859-1", "SHA-256 checksum", "RFC-822 headers", "fixes CVE-2026-1234",
    "CWE-79", "at 14:03 CST (GMT-0600)", "RHEL-9 and EL-9 hosts", "x86: X86-64", "version OSG-23.1.4",
    "path /opt/KEY-12/bin", "mail KEY-12@example.org", "Message-ID <JIRA.590899.1460652284000@Atlassian.JIRA>",
    "EXAMPLE-CE1", "ticket #12", "Utf-8 in prose", "TLS-1.3", "zone UTC-5", "rt-5.0.5",
])
def test_look_alikes_are_not_links(text):
    assert find_links(text) == ()


def test_never_a_link_to_itself_and_each_item_once_in_order():
    text = "SOFTWARE-1 blocks SOFTWARE-2; SOFTWARE-2 again; org/repo#5 and ORG/REPO#5"
    assert keys(text, self_key="jira:SOFTWARE-1") == ["jira:SOFTWARE-2", "github:org/repo#5"]
    assert keys("Closed #12 via #13. See org/repo#12.", self_key="github:Org/Repo#12", github_repo="org/repo") == \
        ["github:org/repo#13"]
    assert keys("Closed #12 via #13.") == []                           # a bare #N only in GitHub mail


# --- the classify hook, and apply keeping them ----------------------------------------------

TEAM = team_from_dict({
    "team": {"name": "T", "timezone": "America/Chicago", "list_address": "software-support-stream@example.org",
             "from_address": "t@example.org", "trusted_senders": ["ticket@example.org", "*@rt.example.org"]},
    "members": [{"name": "Ada Lovelace", "email": "ada@example.org"}],
})
AT = datetime(2026, 11, 23, 9, tzinfo=CST)


def accepted(raw: bytes):
    v = classify(RawMail(raw, "x"), TEAM)
    assert isinstance(v, Accepted), v
    return v.change


def test_updates_record_the_work_items_they_mention_and_apply_merges_them_by_key():
    first = accepted(goc_mail(41234, "Pilots fail", AT, entries=[
        (AT, "Ada Lovelace", "Opened SOFTWARE-1234 for the packaging fix.")]))
    assert [x["key"] for x in first.links] == ["jira:SOFTWARE-1234"]
    second = accepted(rt_mail(1234, "Cannot install", AT, transaction="Correspondence added by ada", actor="Ada",
                              actor_email="ada@example.org", content="Same cause as SOFTWARE-1234, PR: "
                              "https://github.com/example-org/client/pull/46"))
    assert [x["key"] for x in second.links] == ["jira:SOFTWARE-1234", "github:example-org/client#46"]
    later = accepted(goc_mail(41234, "Pilots fail", AT.replace(hour=10), n=1, entries=[
        (AT.replace(hour=10), "Ada Lovelace", "See https://jira.example.org/browse/SOFTWARE-1234 and SOFTWARE-1240.")]))
    ticket, _ = apply(None, first, TEAM)
    ticket, _ = apply(ticket, later, TEAM)
    assert [x["key"] for x in ticket.links] == ["jira:SOFTWARE-1234", "jira:SOFTWARE-1240"]


def test_the_subject_counts():
    change = accepted(goc_mail(7, "Follow-up of SOFTWARE-99", AT))
    assert [x["key"] for x in change.links] == ["jira:SOFTWARE-99"]


# the quick scans before the patterns (`_MAY_REF`, `_MAY_KEY`) only skip work: texts built from the
# characters the patterns care about give the same links with the scans made to always say "maybe"
from hypothesis import given, settings, strategies as st  # noqa: E402

_PIECES = st.sampled_from(["#", "#1", "#0", "/", "-", "-1", "-0", "A", "AB", "Z9_", "x", "1", " ", ".", "@",
                           "org/repo", "SOFTWARE-12", "https://github.com/o/r/pull/3", "https://j.x/browse/AB-2",
                           "UTF-8", "\n", "(", ")"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join), st.sampled_from([None, "o/r"]))
def test_the_quick_scans_never_hide_a_link(text, repo):
    import re

    import maildaemon.parse.links as links
    fast = find_links(text, github_repo=repo)
    saved = links._MAY_REF, links._MAY_KEY
    links._MAY_REF = links._MAY_KEY = re.compile("")
    try:
        assert find_links(text, github_repo=repo) == fast
    finally:
        links._MAY_REF, links._MAY_KEY = saved
