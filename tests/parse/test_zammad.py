"""Unit tests of the Zammad and old-GGUS parsers' tricky parts; whole mails are in
fixtures/zammad and fixtures/ggus (test_fixtures)."""
from __future__ import annotations

from pathlib import Path

import pytest

from builders import one_part
from maildaemon.config import team_from_dict
from maildaemon.model import RawMail
from maildaemon.parse import Accepted, classify
from maildaemon.parse.base import Unparseable
from maildaemon.parse.ggus import GgusParser, read_fields, subject_title
from maildaemon.parse.mail import read_mail
from maildaemon.parse.zammad import ZammadParser, changes, parse_subject

FIXTURES = Path(__file__).parent / "fixtures"


def make(subject: str, body: str = "", from_: str = '"Ada Lovelace via Helpdesk" <noreply@helpdesk.example.org>',
         html: bool = False, **headers: str):
    return read_mail(one_part(subject, body, from_=from_, date="Tue, 24 Nov 2026 10:00:02 +0100",
                              message_id="<notification.1.2.3@helpdesk.example.org>", html=html, **headers))


def updated(*lines: str, article: str = "", by: str = "Ada Lovelace") -> str:
    text = f'Ticket (Printer) has been updated by "{by}".\n\nChanges:\n' + "\n".join(lines) + "\n\n"
    return text + (f"Information:\n\n{article}\n" if article else "")


# --- Zammad ---------------------------------------------------------------------------------

@pytest.mark.parametrize("subject, template, title", [
    ("Updated Ticket (Printer) [Ticket#1234567]", "updated ticket", "Printer"),
    ("[Ticket#1234567] New Ticket (Printer)", "new ticket", "Printer"),
    ("Updated Ticket (Jobs fail (again) at X) [Ticket#7]", "updated ticket", "Jobs fail (again) at X"),
    ("Ticket reminder reached (Printer) [Ticket#7]", "ticket reminder reached", "Printer"),
    ("[Ticket#7] Re: Printer still broken", "", "Printer still broken"),
])
def test_subject_templates_and_titles(subject, template, title):
    assert parse_subject(subject) == (template, title)


def test_recognised_by_hook_or_number_header_not_by_look_alikes():
    p = ZammadParser()
    assert p.recognises(make("Updated Ticket (Printer) [Ticket#1234567]"))
    assert p.recognises(make("Updated Ticket (Printer) [Case#88]", X_Zammad_Ticket_Number="88"))
    assert p.parse(make("Updated Ticket (Printer) [Case#88]", X_Zammad_Ticket_Number="88")).key == "zammad:88"
    assert not p.recognises(make("[rt.example.org #1234] Printer"))
    assert not p.recognises(make("Re: [#5012] Printer"))            # Freshdesk-style, a team system's
    for name in ("goc/create.eml", "rt/create.eml", "jira/create.eml", "github/create.eml", "ggus/create.eml"):
        assert not p.recognises(read_mail((FIXTURES / name).read_bytes())), name


def test_number_header_without_a_number_is_unparseable():
    mail = make("Printer", X_Zammad_Ticket_Number="unknown")
    assert ZammadParser().recognises(mail)
    with pytest.raises(Unparseable, match="without a ticket number"):
        ZammadParser().parse(mail)


@pytest.mark.parametrize("line, field, new", [
    ("Owner: - -> Ada Lovelace", "owner", "Ada Lovelace"),
    ("Owner: Ada Lovelace -&gt; -", "owner", "-"),
    ("State: open → closed", "state", "closed"),
    ("Title: Printr -> Printer", "title", "Printer"),
    ("Pending till:  -> 11/27/2026 09:00", "pending till", "11/27/2026 09:00"),
])
def test_change_lines(line, field, new):
    assert changes(f"Changes:\n{line}\n")[field] == new


@pytest.mark.parametrize("state, status", [
    ("new", "open"), ("open", "open"), ("pending reminder", "waiting-on-user"),
    ("pending close", "waiting-on-user"), ("closed", "closed"), ("merged", "closed"), ("escalated", "open"),
])
def test_states(state, status):
    c = ZammadParser().parse(make("Updated Ticket (Printer) [Ticket#7]", updated(f"State: open -> {state}")))
    assert (c.status, c.status_raw) == (status, state)


@pytest.mark.parametrize("owner", ["-", "", "Not assigned", "nobody"])
def test_no_owner_words(owner):
    c = ZammadParser().parse(make("Updated Ticket (Printer) [Ticket#7]", updated(f"Owner: Ada Lovelace -> {owner}")))
    assert c.assignees == ()


def test_article_text_is_not_read_as_fields_and_title_changes_are():
    body = updated("Title: Printr -> Printer", article="State: open -> closed, said the user\nOwner: me")
    c = ZammadParser().parse(make("Updated Ticket (Printer) [Ticket#7]", body))
    assert (c.status, c.assignees, c.title) == (None, None, "Printer")
    assert c.summary == "State: open -> closed, said the user" and c.kinds == {"commented"}


def test_reminder_names_no_actor_and_a_state_change_alone_is_no_comment():
    c = ZammadParser().parse(make("Ticket reminder reached (Printer) [Ticket#7]", "The reminder is reached.\n"))
    assert (c.actor, c.kinds, c.title) == (None, frozenset(), "Printer")
    c = ZammadParser().parse(make("Updated Ticket (Printer) [Ticket#7]", updated("State: open -> closed")))
    assert c.kinds == frozenset() and c.summary == "State: closed"


def test_bold_actor_in_text_rendering():
    body = updated("State: new -> open", by="*Grace Hopper*")
    c = ZammadParser().parse(make("Updated Ticket (Printer) [Ticket#7]", body))
    assert c.actor == "Grace Hopper"


# --- old GGUS -------------------------------------------------------------------------------

@pytest.mark.parametrize("subject, key, title", [
    ('GGUS-Ticket-ID: #165432 TEAM ticket for site "EXAMPLE-CE" "Pilot jobs held"', "ggus:165432", "Pilot jobs held"),
    ('GGUS-Ticket-ID: #165432 Ticket for site "EXAMPLE-CE" "cms" "Pilot jobs held"', "ggus:165432", "Pilot jobs held"),
    ("GGUS-Ticket-ID: #00165432 TEAM TICKET SUBMITTED - Pilot jobs held", "ggus:165432", "Pilot jobs held"),
    (" NOTIFICATION of GGUS-Ticket-ID: #40637    Test Ticket", "ggus:40637", "Test Ticket"),
    ("Re: [software-support-stream] AW: GGUS-Ticket-ID: #7 x", "ggus:7", "x"),
])
def test_ggus_subjects(subject, key, title):
    mail = make(subject, from_="GGUS <helpdesk@ggus.eu>")
    assert GgusParser().recognises(mail)
    c = GgusParser().parse(mail)
    assert (c.key, subject_title(mail.clean_subject)) == (key, title)
    assert c.url == f"https://ggus.eu/index.php?mode=ticket_info&ticket_id={c.id}"


def test_ggus_defers_to_a_goc_token():
    """The GOC's notification of a ticket it mirrors from GGUS is the GOC's."""
    mail = make("GGUS-Ticket-ID: #165432 Pilot jobs held ISSUE=41234 PROJ=71", from_="ticket@example.org")
    assert not GgusParser().recognises(mail)


def test_ggus_fields_are_upper_case_unquoted_and_above_the_diary():
    text = ("Status: prose in mixed case\n> STATUS: solved\nSTATUS: in progress\nRESPONSIBLE UNIT: OSG(Prod)\n"
            "PUBLIC DIARY:\n----\nfirst line of the diary\nSTATUS: closed (quoted in the diary)\n")
    fields, section = read_fields(text)
    assert fields == {"status": "in progress", "unit": "OSG(Prod)"}
    assert section.strip().startswith("first line of the diary")


@pytest.mark.parametrize("status, mapped", [
    ("new", "open"), ("assigned", "open"), ("in progress", "open"), ("on hold", "open"), ("reopened", "open"),
    ("waiting for reply", "waiting-on-user"), ("solved", "resolved"), ("unsolved", "closed"),
    ("verified", "closed"), ("closed", "closed"), ("something new", "open"),
])
def test_ggus_statuses(status, mapped):
    c = GgusParser().parse(make("GGUS-Ticket-ID: #7 x", f"STATUS: {status}\n", from_="helpdesk@ggus.eu"))
    assert (c.status, c.status_raw) == (mapped, status)


# --- through classify: precedence and trust ---------------------------------------------------

TEAM = team_from_dict({
    "team": {"name": "T", "timezone": "UTC", "list_address": "software-support-stream@example.org",
             "from_address": "t@example.org",
             "trusted_senders": ["noreply@helpdesk.example.org", "helpdesk@ggus.eu", "ticket@example.org"]},
})


def test_zammad_and_ggus_through_classify():
    for name, key in (("zammad/create.eml", "zammad:31007"), ("zammad/ggus_helpdesk.eml", "zammad:2026112410000042"),
                      ("ggus/create.eml", "ggus:165432")):
        v = classify(RawMail((FIXTURES / name).read_bytes(), name), TEAM)
        assert isinstance(v, Accepted) and v.change.key == key, (name, v)


def test_a_zammad_imitation_from_an_untrusted_sender_is_quarantined():
    raw = (FIXTURES / "zammad" / "assignment.eml").read_bytes().replace(
        b"noreply@helpdesk.example.org", b"noreply@helpdesk.example.org.evil.net")
    v = classify(RawMail(raw, "x"), TEAM)
    assert v.reason == "untrusted: sender noreply@helpdesk.example.org.evil.net is not in trusted_senders"


def test_a_title_imitating_the_update_line_does_not_name_the_actor():
    title = 'x" has been updated by "Ada Lovelace'
    body = (f'Hi Software Support,\n\nTicket ({title}) has been updated by "Jane User".\n\nChanges:\n'
            "State: open -> closed\n\nInformation:\nOwner: - -> Mallory\n")
    c = ZammadParser().parse(make(f"Updated Ticket ({title}) [Ticket#31007]", body))
    assert (c.actor, c.status_raw, c.assignees) == ("Jane User", "closed", None)


@pytest.mark.parametrize("subject", [
    "Updated Ticket ([Ticket#31007] please close) [Ticket#31098]",
    "[Ticket#31098] Updated Ticket (please close [Ticket#31007])",
])
def test_a_hook_inside_the_title_is_the_users_not_the_key(subject):
    body = 'Ticket (x) has been updated by "Eve User".\n\nChanges:\nState: open -> closed\n'
    assert ZammadParser().parse(make(subject, body)).key == "zammad:31098"
