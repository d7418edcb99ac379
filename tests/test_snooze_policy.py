"""Snooze honoured (SPEC 10): a snoozed ticket gets no owner, user, close or work-done mail and is
left out of the unassigned digest until the end of its day (team time); the handoff lists it with
its date and reason. The records are plain data passed to the pure policy (dispatch.plan reads them).

Moments: Alan on duty the week of 2026-11-16 (America/Chicago); snoozes until Wednesday 11-18, so
Wednesday 14:00 is still snoozed and Thursday 09:30 is not.
"""
import email
import email.policy
import json
from dataclasses import replace
from datetime import date

from lxml import html as lhtml

import spec10
from builders import ADA, ALAN, GRACE, LEDGER, TRIAGE, liso, local, ticket
from maildaemon.handoff import handoff
from maildaemon.model import Outage
from maildaemon.render import compose, environment
from maildaemon.store import Store

TEAM = spec10.TEAM
ENV = environment()
STILL = local(2026, 11, 18, 14, 0)          # the last slot of the snooze's last day
AFTER = local(2026, 11, 19, 9, 30)          # the first slot after it
UNTIL = "2026-11-18"


def stale_owned(key="goc:2"):
    """Ada's, no team update since Thursday 11-12 10:00: the owner reminder is due at both moments."""
    return ticket(key, title="Stale one", owner=ADA, assignees=(TRIAGE, ADA), assignment_order=(ADA,),
                  opened_at=liso(2026, 11, 2, 10), owner_changed_at=liso(2026, 11, 2, 10),
                  last_team_update_at=liso(2026, 11, 12, 10), next_action="Investigate")


def text(due, now):
    return compose(ENV, due, TEAM, now).text


def kinds_for(key, mails):
    return sorted(m.kind for m in mails if key in m.tickets)


def test_an_owner_reminder_waits_until_the_day_after_the_snooze():
    held = spec10.snoozed("goc:2", until=UNTIL)
    assert kinds_for("goc:2", spec10.dues([stale_owned()], STILL, snoozes=held)) == []
    mail = spec10.one(spec10.dues([stale_owned()], AFTER, snoozes=held), "owner")
    assert 'goc:2 "Stale one" is yours' in text(mail, AFTER)
    # and without the snooze it was due at the earlier moment too: the snooze is what held it
    assert kinds_for("goc:2", spec10.dues([stale_owned()], STILL)) == ["owner"]


def test_a_snooze_of_another_ticket_holds_nothing():
    held = spec10.snoozed("goc:99", until=UNTIL)
    assert kinds_for("goc:2", spec10.dues([stale_owned()], STILL, snoozes=held)) == ["owner"]


def test_the_owner_away_mail_to_the_person_on_duty_is_held_too():
    away = replace(TEAM, outages=TEAM.outages + (Outage(ADA, date(2026, 11, 16), date(2026, 11, 20)),))
    held = spec10.snoozed("goc:2", until=UNTIL)
    assert kinds_for("goc:2", spec10.dues([stale_owned()], STILL, team=away)) == ["owner-away"]
    assert kinds_for("goc:2", spec10.dues([stale_owned()], STILL, team=away, snoozes=held)) == []
    assert kinds_for("goc:2", spec10.dues([stale_owned()], AFTER, team=away, snoozes=held)) == ["owner-away"]


def test_user_and_close_reminders_are_held():
    # waiting on the user since Monday 11-09 10:00: 7 business days at Wednesday 14:00 (user
    # reminder), and since 10-29: the close suggestion
    user = spec10.waiting("rt:1", since=liso(2026, 11, 9, 10))
    close = spec10.waiting("rt:2", since=liso(2026, 10, 29, 10))
    held = {**spec10.snoozed("rt:1", until=UNTIL), **spec10.snoozed("rt:2", until=UNTIL)}
    assert sorted(m.kind for m in spec10.dues([user, close], STILL) if m.tickets) == ["close", "user"]
    assert [m for m in spec10.dues([user, close], STILL, snoozes=held) if m.tickets] == []
    after = spec10.dues([user, close], AFTER, snoozes=held)
    assert kinds_for("rt:1", after) == ["user"] and kinds_for("rt:2", after) == ["close"]
    assert "We are still here to help" in text(spec10.one(after, "user"), AFTER)


def test_the_digest_leaves_a_snoozed_ticket_out_and_none_goes_when_all_are():
    a = spec10.unowned("goc:41250", title="Cannot submit to the CE")
    b = spec10.unowned("goc:41251", title="Proxy expired")
    held = spec10.snoozed("goc:41251", until=UNTIL, reason="the user is away")
    digest = spec10.one(spec10.dues([a, b], STILL, snoozes=held), "unassigned")
    shown = text(digest, STILL)
    assert "1 open ticket is waiting for an owner" in shown
    assert "goc:41250" in shown and "goc:41251" not in shown
    assert digest.tickets == ("goc:41250",)
    both = {**held, **spec10.snoozed("goc:41250", until=UNTIL)}
    assert spec10.of(spec10.dues([a, b], STILL, snoozes=both), "unassigned") == []
    later = text(spec10.one(spec10.dues([a, b], AFTER, snoozes=both), "unassigned"), AFTER)
    assert "2 open tickets are waiting for an owner" in later and "goc:41251" in later


def test_a_snooze_ends_when_the_ticket_is_resolved_even_if_reopened():
    """The snooze record holds no more once the ticket was closed after it was set (snooze.holds)."""
    from builders import fold
    t = fold(TEAM, "goc:7",
             (local(2026, 11, 2, 10), dict(title="Reopened", status="open", assignees=(TRIAGE, "Ada Lovelace"))),
             (local(2026, 11, 16, 10), dict(status="closed", status_raw="Closed", kinds=frozenset({"closed"}))),
             (local(2026, 11, 16, 11), dict(status="open", status_raw="Engineering", kinds=frozenset({"reopened"}))))
    held = spec10.snoozed("goc:7", until=UNTIL, at=liso(2026, 11, 16, 9))
    assert kinds_for("goc:7", spec10.dues([t], STILL, snoozes=held)) == ["owner"]


# --- the handoff ---------------------------------------------------------------------------------

FRIDAY = local(2026, 11, 20, 15, 0)


def test_the_handoff_lists_snoozed_tickets_with_their_date_and_reason_text_and_html():
    tickets = [stale_owned("goc:2"), spec10.waiting("rt:1234")]
    held = {**spec10.snoozed("rt:1234", until="2026-11-30", reason="waiting for the vendor's release"),
            **spec10.snoozed("goc:2", until="2026-11-19", reason="expired yesterday")}
    due = handoff(tickets, LEDGER, TEAM, FRIDAY, snoozes=held)
    out = compose(ENV, due, TEAM, FRIDAY)
    assert ("Snoozed tickets (1):\n"
            "  rt:1234  Cannot install client\n"
            "      until 2026-11-30; waiting for the vendor's release\n") in out.text
    msg = email.message_from_bytes(out.raw, policy=email.policy.default)
    doc = lhtml.document_fromstring(msg.get_body(preferencelist=("html",)).get_content())
    [h] = [h for h in doc.iter("h3") if h.text_content().startswith("Snoozed tickets")]
    assert h.text_content() == "Snoozed tickets (1)"
    table = next(el for el in h.itersiblings() if el.tag == "table")
    rows = [[" ".join(td.text_content().split()) for td in tr] for tr in table.iter("tr")]
    assert rows == [["Ticket", "Title", "Until", "Reason"],
                    ["rt:1234", "Cannot install client", "2026-11-30", "waiting for the vendor's release"]]


def test_the_handoff_says_none_without_snoozes():
    due = handoff([stale_owned()], LEDGER, TEAM, FRIDAY)
    assert "Snoozed tickets (0):\n  none\n" in compose(ENV, due, TEAM, FRIDAY).text


# --- through the state: dispatch.plan reads the snooze records -----------------------------------------

def test_remind_dry_run_honours_a_snooze_stored_by_the_snooze_command(cli):
    store = Store(cli.root / "state")
    store.ensure()
    with store.transaction() as txn:
        txn.put_ticket(stale_owned("goc:2"))
        txn.commit()
    (cli.root / "rotation.txt").write_text("2026-11-16  alan@example.org  Alan Turing\n")
    assert cli("rotation", "load", str(cli.root / "rotation.txt"))[0] == 0
    _, before, _ = cli("remind", "--dry-run", "--now", "2026-11-18T09:30")
    assert "would send owner" in before and "to ada@example.org, alan@example.org: Reminder: goc:2 Stale one" in before
    code, out, err = cli("snooze", "goc:2", "--until", "2026-11-18", "--reason", "vendor", "--now", "2026-11-18T09:00")
    assert code == 0, err
    _, during, _ = cli("remind", "--dry-run", "--now", "2026-11-18T09:30")
    assert "goc:2" not in during
    _, after, _ = cli("remind", "--dry-run", "--now", "2026-11-19T09:30")
    assert "Reminder: goc:2 Stale one" in after
    assert "snoozes" in json.loads((cli.root / "state" / "maildaemon.json").read_bytes())   # the stored name
