"""Meeting brief (SPEC 10): a `[[meetings]]` entry with `brief = true` sends the person on duty a
`brief` mail `brief_minutes` (default 30) before the meeting: the meeting, the three lines of the
weekly meeting, then what changed since the previous brief for that meeting (or the last 7 days).

Moments: the Operations meeting is Wednesday 16:00 (America/Chicago); Alan is on duty the week of
2026-11-16, Grace the next. Thanksgiving is Thursday 2026-11-26.
"""
import copy

import spec10
from builders import ADA, ALAN, GRACE, LEDGER, TEAM_DATA, TRIAGE, fold, liso, local, sent, ticket
from maildaemon.brief import period
from maildaemon.config import team_from_dict
from maildaemon.render import compose, environment, message_id

TEAM = spec10.TEAM
ENV = environment()
OPS = "Alice Operator (GOC)"


def briefs(now, tickets=(), t=TEAM, sent_log=(), ledger=LEDGER, snoozes=None):
    return spec10.of(spec10.dues(list(tickets), now, sent=sent_log, team=t, ledger=ledger, snoozes=snoozes), "brief")


def test_from_brief_minutes_before_the_meeting_until_it_starts():
    assert briefs(local(2026, 11, 18, 15, 29)) == []
    [at] = briefs(local(2026, 11, 18, 15, 30))
    [late] = briefs(local(2026, 11, 18, 15, 59))       # a daemon that was down catches up ...
    assert message_id(at, TEAM) == message_id(late, TEAM)     # ... the same mail, sent once
    assert briefs(local(2026, 11, 18, 16, 0)) == []            # ... but not once the meeting began
    assert at.to == (ALAN,) and at.duty == ALAN
    assert at.period == "2026-11-18T1600-operations-meeting"


def test_brief_minutes_is_the_teams():
    hour = spec10.team_with(brief_minutes=60)
    assert briefs(local(2026, 11, 18, 14, 59), t=hour) == []
    [due] = briefs(local(2026, 11, 18, 15, 0), t=hour)
    assert compose(ENV, due, hour, local(2026, 11, 18, 15, 0)).text.startswith(
        "Operations meeting: Wednesday 2026-11-18 16:00, in 60 minutes\n")


def test_only_meetings_marked_brief_on_business_days_while_someone_is_on_duty():
    assert briefs(local(2026, 11, 18, 15, 30), t=spec10.team_with(brief=False)) == []
    assert briefs(local(2026, 11, 16, 10, 30)) == []           # Monday's standup is not briefed
    data = copy.deepcopy(TEAM_DATA)
    data["meetings"].append({"day": "thu", "time": "10:00", "name": "Vendor call", "brief": True})
    thursday = team_from_dict(data)
    assert briefs(local(2026, 11, 26, 9, 30), t=thursday) == []          # Thanksgiving
    assert len(briefs(local(2026, 12, 3, 9, 30), t=thursday)) == 1
    assert briefs(local(2026, 11, 18, 15, 30), ledger=[]) == []          # nobody to sign it


# --- what it says ----------------------------------------------------------------------------------

NOW = local(2026, 11, 18, 15, 30)


def week():
    """What happened between Wednesday 11-11 15:30 and now, and what stands."""
    t = TEAM
    return [
        # opened before the window, assigned to Ada in it
        fold(t, "goc:1",
             (local(2026, 11, 10, 10), dict(title="Assigned in the window", assignees=(OPS, TRIAGE), actor=OPS)),
             (local(2026, 11, 17, 10), dict(assignees=(OPS, TRIAGE, "Ada Lovelace"), next_action="Investigate",
                                            actor=OPS))),
        # opened in the window, nobody's yet
        fold(t, "goc:2",
             (local(2026, 11, 17, 11), dict(title="Nobody's yet", assignees=(OPS, TRIAGE),
                                            next_action="SOFTWARE TRIAGE", actor=OPS))),
        # opened and closed in the window
        fold(t, "goc:3",
             (local(2026, 11, 12, 9), dict(title="Quick one", assignees=(TRIAGE, "Grace Hopper"), actor=OPS)),
             (local(2026, 11, 13, 9), dict(status="closed", status_raw="Closed", actor="Grace Hopper"))),
        spec10.stale("goc:41201"),                                       # Alan's, idle since 11-12
        spec10.waiting("rt:1234"),                                       # waiting on the user since 11-09
        spec10.support(links=(spec10.JIRA,), opened_at=liso(2026, 11, 2, 10),
                       owner_changed_at=liso(2026, 11, 2, 11)),
        spec10.item("jira:SOFT-12", opened_at=liso(2026, 11, 3, 10)),  # resolved Tuesday 15:02
    ]


def test_the_brief_reads_as_the_duty_person_sees_it():
    [due] = briefs(NOW, week(), snoozes=spec10.snoozed("rt:1234", until="2026-11-30"))
    out = compose(ENV, due, TEAM, NOW)
    assert out.recipients == (ALAN,)
    assert out.subject == "Brief for Operations meeting at 16:00: 2 opened, 1 closed, 1 unassigned"
    assert out.text == """\
Operations meeting: Wednesday 2026-11-18 16:00, in 30 minutes

This week: Alan Turing
Next week: Grace Hopper
5 (+0) open tickets

Over the last 7 days (since Wednesday 2026-11-11 15:30):

Opened (2):
  goc:2      Nobody's yet (open)
  goc:3      Quick one (closed)

Closed (1):
  goc:3      Quick one

Newly assigned (2):
  goc:1      Assigned in the window
      to Ada Lovelace
  goc:3      Quick one
      to Grace Hopper

Still unassigned (1):
  goc:2      Nobody's yet
      opened 2026-11-17 11:00; no owner

Stale (1):
  goc:41201  Old and stale
      Alan Turing; no team update for 4 business days

Waiting on users (1):
  rt:1234    Cannot install client
      waiting on the user for 6 business days; snoozed until 2026-11-30

Work done elsewhere (1):
  goc:41234  Pilot jobs fail at Example site
      jira:SOFT-12 resolved 2026-11-17 15:02
      tell the user and close (Ada Lovelace)

-- 
Alan Turing
on duty for Software Team
"""


def test_the_window_starts_at_the_previous_brief_for_that_meeting():
    earlier = sent("brief", [], local(2026, 11, 4, 15, 30), period="2026-11-04T1600-operations-meeting")
    other = sent("brief", [], local(2026, 11, 16, 10, 30), period="2026-11-16T1100-team-standup")
    tickets = [fold(TEAM, "goc:9", (local(2026, 11, 6, 10), dict(title="Opened on the 6th", assignees=(TRIAGE,))))]
    [without] = briefs(NOW, tickets, sent_log=[other])
    assert without.data["opened"] == [] and not without.data["since_previous"]
    [due] = briefs(NOW, tickets, sent_log=[earlier, other])
    text = compose(ENV, due, TEAM, NOW).text
    assert "Since the previous brief (Wednesday 2026-11-04 15:30):\n\nOpened (1):\n  goc:9" in text
    # a brief of the same meeting sent today (this very one) does not start its own window
    today = sent("brief", [], local(2026, 11, 18, 15, 30), period=due.period)
    [again] = briefs(local(2026, 11, 18, 15, 45), tickets, sent_log=[earlier, today])
    assert again.data["since"] == "2026-11-04 15:30"


def test_the_period_names_the_day_time_and_meeting():
    from datetime import time

    from maildaemon.model import Meeting
    assert period(local(2026, 11, 18, 16, 0), Meeting("wed", time(16), "Ops / GOC sync!")) == \
        "2026-11-18T1600-ops-goc-sync"


# --- the team file and the command line -------------------------------------------------------------

MEETING = '\n[[meetings]]\nday = "wed"\ntime = "16:00"\nname = "Operations meeting"\n'


def test_a_briefed_meeting_in_the_team_file_shows_in_remind_dry_run(cli):
    cli.team_file.write_text(cli.team_file.read_text() + MEETING + "brief = true\nbrief_minutes = 45\n")
    (cli.root / "rotation.txt").write_text("2026-11-16  alan@example.org  Alan Turing\n")
    assert cli("rotation", "load", str(cli.root / "rotation.txt"))[0] == 0
    _, out, _ = cli("remind", "--dry-run", "--now", "2026-11-18T15:14")
    assert "would send brief" not in out
    code, out, err = cli("remind", "--dry-run", "--now", "2026-11-18T15:15")
    assert code == 0, err
    assert ("would send brief       to alan@example.org: Brief for Operations meeting at 16:00: 0 opened, 0 closed, "
            "0 unassigned") in out
    assert "    Operations meeting: Wednesday 2026-11-18 16:00, in 45 minutes\n" in out


def test_brief_keys_are_checked(cli):
    cli.team_file.write_text(cli.team_file.read_text() + MEETING + 'brief = "yes"\n')
    code, _, err = cli("tickets")
    assert code == 2 and err.startswith("maildaemon: meetings[0].brief: 'yes' is not true or false")
    cli.team_file.write_text(cli.team_file.read_text().replace('brief = "yes"', "brief = true\nbrief_minutes = 0"))
    code, _, err = cli("tickets")
    assert code == 2 and err.startswith("maildaemon: meetings[0].brief_minutes: 0 is not a number of minutes")
