"""Work done elsewhere (SPEC 10): when every work item a support ticket links to (a Jira or GitHub
issue the stream also carries) is resolved or closed and the support ticket is still open, its
owner (the person on duty when it has none or the owner is away) gets one `work-done` mail: which
items closed when, and "tell the user and close". Once per ticket and set of closed items.

Moments: Alan on duty the week of 2026-11-16; the Jira issue resolved Tuesday 11-17 15:02, the
GitHub issue closed at 16:40; reminder times 09:30 and 14:00.
"""
from dataclasses import replace
from datetime import date
from pathlib import Path

import spec10
from builders import CST, goc_mail
from builders import ADA, ALAN, liso, local, write_mbox
from maildaemon.model import Outage
from maildaemon.render import compose, environment, message_id

TEAM = spec10.TEAM
ENV = environment()
WEDNESDAY = spec10.WEDNESDAY
JIRA_DONE = spec10.item("jira:SOFT-12")
GITHUB_OPEN = spec10.item("github:org/repo#7", status="open", closed=liso(2026, 11, 16, 12))
GITHUB_DONE = spec10.item("github:org/repo#7", status="closed", closed=liso(2026, 11, 17, 16, 40))


def work_done(tickets, now=WEDNESDAY, t=TEAM, **kw):
    return spec10.of(spec10.dues(tickets, now, team=t, **kw), "work-done")


def test_not_while_one_item_is_open_then_once_all_are_done():
    assert work_done([spec10.support(), JIRA_DONE, GITHUB_OPEN]) == []
    [due] = work_done([spec10.support(), JIRA_DONE, GITHUB_DONE])
    out = compose(ENV, due, TEAM, WEDNESDAY)
    assert out.recipients == (ADA, ALAN)                     # the owner, Cc the person on duty
    assert out.subject == ("Work done elsewhere: tell the user and close goc:41234? "
                           "Pilot jobs fail at Example site")
    assert out.text == (
        "Hello Ada Lovelace,\n\n"
        'The work that goc:41234 "Pilot jobs fail at Example site" waits on is done\n'
        "elsewhere: every work item it links to is resolved or closed.\n\n"
        "  jira:SOFT-12       resolved 2026-11-17 15:02\n"
        "                     Pilot proxy renewal fails after 12 hours\n"
        "                     https://jira.example.org/browse/SOFT-12\n"
        "  github:org/repo#7  closed 2026-11-17 16:40\n"
        "                     Renew the proxy before it expires\n"
        "                     https://github.com/org/repo/issues/7\n\n"
        "The support ticket is still open (Engineering). Please tell the user that the\n"
        "work is done and close the ticket.\n\n"
        "  https://ticket.example.org/41234\n\n"
        "-- \nAlan Turing\non duty for Software Team\n")


def test_due_at_the_reminder_times_of_business_days():
    tickets = [spec10.support(), JIRA_DONE, GITHUB_DONE]
    assert work_done(tickets, now=local(2026, 11, 18, 9, 29)) == []
    assert len(work_done(tickets, now=local(2026, 11, 18, 9, 30))) == 1
    assert work_done(tickets, now=local(2026, 11, 21, 10, 0)) == []          # Saturday


def test_one_item_the_stream_does_not_carry_is_named_and_not_waited_for():
    [due] = work_done([spec10.support(links=(spec10.JIRA, spec10.UNCARRIED)), JIRA_DONE])
    text = compose(ENV, due, TEAM, WEDNESDAY).text
    assert "elsewhere: the work item the stream follows is resolved.\n" in text
    assert "Not followed (the stream does not carry them): jira:OTHER-3.\n" in text
    assert work_done([spec10.support(links=(spec10.UNCARRIED,)), JIRA_DONE]) == []   # nothing known: no news


def test_not_for_a_support_ticket_already_resolved_or_closed():
    for status in ("resolved", "closed"):
        assert work_done([spec10.support(status=status), JIRA_DONE, GITHUB_DONE]) == []
    waiting = spec10.support(status="waiting-on-user", status_raw="Customer", status_since=liso(2026, 11, 17, 10))
    [due] = work_done([waiting, JIRA_DONE, GITHUB_DONE])
    assert "The support ticket is still waiting on the user (Customer)." in compose(ENV, due, TEAM, WEDNESDAY).text


def test_to_the_person_on_duty_when_the_ticket_has_no_owner_or_the_owner_is_away():
    [due] = work_done([spec10.support(owner=None), JIRA_DONE, GITHUB_DONE])
    out = compose(ENV, due, TEAM, WEDNESDAY)
    assert out.recipients == (ALAN,)
    assert out.text.startswith('Hello,\n\ngoc:41234 "Pilot jobs fail at Example site" has no owner, and the work')
    away = replace(TEAM, outages=TEAM.outages + (Outage(ADA, date(2026, 11, 16), date(2026, 11, 27)),))
    [due] = work_done([spec10.support(), JIRA_DONE, GITHUB_DONE], t=away)
    out = compose(ENV, due, away, WEDNESDAY)
    assert out.recipients == (ALAN,)
    assert "belongs to Ada Lovelace, who is away until 2026-11-27, and the work" in " ".join(out.text.split())


def test_once_per_ticket_and_set_of_closed_items():
    tickets = [spec10.support(), JIRA_DONE, GITHUB_DONE]
    [first] = work_done(tickets)
    [next_day] = work_done(tickets, now=local(2026, 11, 19, 14, 0))
    assert message_id(first, TEAM) == message_id(next_day, TEAM)       # the outbox refuses the second
    # reopened and closed again: the same set, no new mail
    [again] = work_done([spec10.support(), JIRA_DONE,
                         replace(GITHUB_DONE, status_since=liso(2026, 11, 19, 10))], now=local(2026, 11, 19, 14, 0))
    assert message_id(again, TEAM) == message_id(first, TEAM)
    # a new work item, done too: a new set, a new mail
    third = spec10.item("jira:SOFT-13", closed=liso(2026, 11, 19, 11))
    link = {"key": "jira:SOFT-13", "system": "jira", "id": "SOFT-13", "url": None}
    [more] = work_done([spec10.support(links=(spec10.JIRA, spec10.GITHUB, link)), JIRA_DONE, GITHUB_DONE, third],
                       now=local(2026, 11, 19, 14, 0))
    assert message_id(more, TEAM) != message_id(first, TEAM)


def test_work_finished_long_ago_is_no_news_and_a_snooze_holds_it():
    old = spec10.item("jira:SOFT-12", closed=liso(2026, 9, 1, 10))
    assert work_done([spec10.support(links=(spec10.JIRA,)), old]) == []
    held = spec10.snoozed("goc:41234", until="2026-11-18")
    assert work_done([spec10.support(), JIRA_DONE, GITHUB_DONE], snoozes=held) == []
    assert len(work_done([spec10.support(), JIRA_DONE, GITHUB_DONE], now=local(2026, 11, 19, 9, 30),
                         snoozes=held)) == 1


# --- from the stream: a GOC ticket mentions a Jira issue whose own notifications say it is resolved ---

JIRA_RESOLVED = Path(__file__).parent / "parse" / "fixtures" / "jira" / "resolved.eml"


def test_from_the_stream_to_the_owners_mail(cli):
    cli.team_file.write_text(cli.team_file.read_text().replace(
        'trusted_senders = ["ticket@example.org", "*@rt.example.org"]',
        'trusted_senders = ["ticket@example.org", "*@rt.example.org", "jira@example.org"]'))
    at = lambda d, h, m=0: local(2026, 11, d, h, m).astimezone(CST)  # noqa: E731
    mbox = write_mbox(cli.root / "stream.mbox", [
        goc_mail(41300, "Client does not build on EL9", at(23, 10), n=1,
                 assignees=("Software Support (Triage)", "Ada Lovelace"), next_action="Investigate",
                 entries=[(at(23, 10), "Ada Lovelace", "A bug in the client: tracked in SOFTWARE-1234.")]),
        JIRA_RESOLVED.read_bytes(),                                 # Wed 11-25 14:02 CST: Resolved
    ])
    code, out, err = cli("import", mbox)
    assert code == 0, err
    (cli.root / "rotation.txt").write_text("2026-11-23  grace@example.org  Grace Hopper\n")
    assert cli("rotation", "load", str(cli.root / "rotation.txt"))[0] == 0
    _, out, _ = cli("remind", "--dry-run", "--now", "2026-11-25T14:01")
    assert "work-done" not in out                                 # the issue is not resolved yet
    _, out, _ = cli("remind", "--dry-run", "--now", "2026-11-25T14:05")
    assert ("would send work-done   to ada@example.org, grace@example.org: Work done elsewhere: tell the user and "
            "close goc:41300? Client does not build on EL9") in out
    assert "    jira:SOFTWARE-1234  resolved 2026-11-25 14:02\n" in out
    assert cli("remind", "--now", "2026-11-25T14:05")[0] == 0
    _, out, _ = cli("remind", "--dry-run", "--now", "2026-11-26T09:30")
    assert "work-done" not in out                                 # once
