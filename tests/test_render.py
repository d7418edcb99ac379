"""Rendering: every mail's headers, parts and signature, and ticket data that cannot inject headers.

Mails are decided by the real policy/handoff code at exact moments, composed, then parsed back from
their bytes the way a mail client would (`email.policy.default`).
"""
import email
import email.policy
import re
from dataclasses import replace
from datetime import timedelta


import pytest

import spec10
from builders import (ADA, ALAN, FROM, GRACE, LEDGER, LINUS, LIST, TRIAGE, liso, local, team, ticket)
from maildaemon.handoff import handoff
from maildaemon.model import Due
from maildaemon.policy import due_reminders
from maildaemon.render import (KINDS, TemplateProblem, check_templates, compose, environment, message_id)

TEAM = team()
ENV = environment()
NOW = local(2026, 11, 18, 9, 30)          # Wednesday; Alan on duty


def parse(out):
    return email.message_from_bytes(out.raw, policy=email.policy.default)


def parts(msg):
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    return text, html


def stale(key="goc:1", **kw):
    """An open ticket of Ada's with no team update since Friday 11-13 10:00: 23.5 business hours,
    2 business days, at Wednesday 09:30: owner reminder due."""
    kw.setdefault("title", "Pilot jobs fail")
    kw.setdefault("last_team_update_at", liso(2026, 11, 13, 10))
    return ticket(key, owner=ADA, assignees=(TRIAGE, "Ada Lovelace"), assignment_order=(ADA,),
                  opened_at=liso(2026, 11, 2, 10), owner_changed_at=liso(2026, 11, 2, 10),
                  next_action="Investigate", **kw)


def decide(tickets, now=NOW, kind="owner", t=TEAM):
    found = [d for d in due_reminders(tickets, LEDGER, t, [], now) if d.kind == kind]
    assert len(found) == 1, found
    return found[0]


def render(due, now=NOW, t=TEAM, env=ENV):
    return compose(env, due, t, now)


# --- headers -----------------------------------------------------------------------------------

def test_from_reply_to_auto_submitted_and_recipients():
    out = render(decide([stale()]))
    msg = parse(out)
    [sender] = msg["From"].addresses
    assert sender.display_name == "Alan Turing (Software Team)"
    assert sender.addr_spec == FROM
    [reply] = msg["Reply-To"].addresses
    assert (reply.display_name, reply.addr_spec) == ("Alan Turing", ALAN)
    assert msg["Auto-Submitted"] == "auto-generated"
    assert [a.addr_spec for a in msg["To"].addresses] == [ADA]
    assert [a.addr_spec for a in msg["Cc"].addresses] == [ALAN]
    assert out.recipients == (ADA, ALAN)
    assert out.sender == FROM
    assert msg["Subject"] == "Reminder: goc:1 Pilot jobs fail"
    assert out.subject == "Reminder: goc:1 Pilot jobs fail"


def test_non_ascii_names_survive_the_from_header():
    members = [{"name": "Zoë Ærøskøbing", "email": ADA}, {"name": "Grace Hopper", "email": GRACE},
               {"name": "Alan Turing", "email": ALAN}]
    t = team(members=members, outages=[])
    due = Due(kind="owner", period="2026-11-18", to=(GRACE,), duty=ADA, tickets=("goc:1",),
              data={"ticket": decide([stale()]).data["ticket"], "owner": {"name": "Grace Hopper", "email": GRACE}})
    msg = parse(render(due, t=t))
    assert msg["From"].addresses[0].display_name == "Zoë Ærøskøbing (Software Team)"
    assert msg["Reply-To"].addresses[0].addr_spec == ADA


def test_message_id_is_derived_from_kind_tickets_period_and_stable_across_moments():
    due = decide([stale()])
    first = render(due, now=NOW)
    again = render(due, now=NOW + timedelta(hours=3, minutes=7))
    assert first.message_id == again.message_id
    assert re.fullmatch(r"<maildaemon\.owner\.goc-1-[0-9a-f]{8}\.2026-11-18\.[0-9a-f]{20}@example\.org>", first.message_id)
    assert parse(first)["Message-ID"] == first.message_id
    assert parse(first)["Date"] != parse(again)["Date"]
    # re-deciding at a later moment of the same day gives the same identity
    later = decide([stale()], now=local(2026, 11, 18, 15, 0))
    assert render(later, now=local(2026, 11, 18, 15, 0)).message_id == first.message_id
    # another day, ticket or kind is another mail
    assert render(decide([stale()], now=local(2026, 11, 20, 9, 30))).message_id != first.message_id
    assert render(decide([stale("goc:2")])).message_id != first.message_id


def test_digest_and_team_mails_have_slot_and_week_identities():
    unowned = [ticket(k, opened_at=liso(2026, 11, 2, 10), assignees=(TRIAGE,), next_action="SOFTWARE TRIAGE")
               for k in ("goc:5", "goc:6")]
    digest = render(decide(unowned, kind="unassigned"))
    assert digest.tickets == ("goc:5", "goc:6")
    assert digest.message_id.startswith("<maildaemon.unassigned.digest.2026-11-18T0930.")
    announce = render(decide([], kind="announcement"))
    assert announce.message_id.startswith("<maildaemon.announcement.team.week-2026-11-16.")
    assert parse(announce)["In-Reply-To"] is None


def test_one_digest_per_slot_whatever_the_tickets_it_lists():
    a = ticket("goc:5", opened_at=liso(2026, 11, 16, 10), assignees=(TRIAGE,), next_action="SOFTWARE TRIAGE")
    b = ticket("goc:6", opened_at=liso(2026, 11, 17, 14, 30), assignees=(TRIAGE,), next_action="SOFTWARE TRIAGE")
    first = decide([a, b], now=local(2026, 11, 18, 9, 30), kind="unassigned")      # b: 3 business hours
    later = decide([a, b], now=local(2026, 11, 18, 10, 30), kind="unassigned")     # b: 4, same 09:30 slot
    assert (first.tickets, later.tickets) == (("goc:5",), ("goc:5", "goc:6"))
    assert first.period == later.period == "2026-11-18T0930"
    assert message_id(first, TEAM) == message_id(later, TEAM)


def test_in_reply_to_and_references_name_the_tickets_latest_message():
    t = stale(latest_message_id="<ISSUE=41234.PROJ=71.1700000000@ticket.example.org>")
    msg = parse(render(decide([t])))
    assert msg["In-Reply-To"] == "<ISSUE=41234.PROJ=71.1700000000@ticket.example.org>"
    assert msg["References"] == "<ISSUE=41234.PROJ=71.1700000000@ticket.example.org>"


def test_a_malformed_latest_message_id_is_not_threaded():
    t = stale(latest_message_id="<a@b>\r\nBcc: evil@x.org")
    out = render(decide([t]))
    msg = parse(out)
    assert msg["In-Reply-To"] is None and msg["References"] is None and msg["Bcc"] is None
    assert b"evil@x.org" not in out.raw


# --- parts and signature -----------------------------------------------------------------------

def test_text_and_html_parts_with_the_duty_persons_signature():
    msg = parse(render(decide([stale()])))
    assert msg.get_content_type() == "multipart/alternative"
    text, html = parts(msg)
    assert "Hello Ada Lovelace," in text
    assert "has had no update from the team for 2 business days" in " ".join(text.split())
    assert text.rstrip().endswith("-- \nAlan Turing\non duty for Software Team")
    assert "Alan Turing<br>on duty for Software Team" in html
    assert "https://ticket.example.org/1" in html


def test_signature_line_of_the_member_is_added_when_set():
    members = [{"name": "Ada Lovelace", "email": ADA},
               {"name": "Grace Hopper", "email": GRACE},
               {"name": "Alan Turing", "email": ALAN, "signature": "Scientific Software & Support, Example Lab"}]
    t = team(members=members, outages=[])
    msg = parse(render(decide([stale()], t=t), t=t))
    text, html = parts(msg)
    assert "-- \nAlan Turing\nScientific Software & Support, Example Lab\non duty for Software Team" in text
    assert "Alan Turing<br>Scientific Software &amp; Support, Example Lab<br>" in html


def test_html_is_autoescaped_text_is_not_mangled():
    out = render(decide([stale(title="<script>alert(1)</script>")]))
    text, html = parts(parse(out))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
    assert '"<script>alert(1)</script>"' in text


# --- header injection ---------------------------------------------------------------------------

def test_title_with_cr_lf_adds_no_header_and_no_recipient():
    plain = parse(render(decide([stale(title="Title")])))
    out = render(decide([stale(title="Title\r\nBcc: evil@x.org")]))
    msg = parse(out)
    assert msg["Bcc"] is None
    assert sorted(k.lower() for k in msg.keys()) == sorted(k.lower() for k in plain.keys())
    assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
    assert msg["Subject"] == "Reminder: goc:1 Title Bcc: evil@x.org"
    assert out.recipients == (ADA, ALAN)
    for name in ("To", "Cc", "From", "Reply-To"):
        assert all(a.addr_spec != "evil@x.org" for a in msg[name].addresses)


@pytest.mark.parametrize("title", ["Title\nTo: evil@x.org", "Title\rCc: evil@x.org", "Title\x00\x0bX-Evil: 1",
                                   "Title\u2028Bcc: evil@x.org", "Title\r\n\r\nbody"])
def test_other_control_characters_in_titles(title):
    out = render(decide([stale(title=title)]))
    msg = parse(out)
    assert msg["X-Evil"] is None and msg["Bcc"] is None
    assert out.recipients == (ADA, ALAN)
    assert len(msg.get_all("To")) == 1 and len(msg.get_all("Cc")) == 1


@pytest.mark.parametrize("title", ["=?utf-8?q?A=0D=0ABcc:_evil@x.org?=", "=?utf-8?b?QQ0KQmNjOiBldmlsQHgub3Jn?=",
                                   "plain =?us-ascii?q?x=0AX-Evil:_1?= tail"])
def test_encoded_words_in_a_title_add_no_header(title):
    out = render(decide([stale(title=title)]))
    msg = parse(out)
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert sorted(msg.keys()) == sorted(parse(render(decide([stale(title="Title")]))).keys())


def test_encoded_words_in_the_latest_message_id_add_no_header():
    out = render(decide([stale(latest_message_id="<=?utf-8?q?a=0D=0ABcc:_evil@x.org?=>")]))
    msg = parse(out)
    assert msg["Bcc"] is None
    assert b"\nBcc:" not in out.raw.split(b"\n\n", 1)[0].replace(b"\r", b"")


def test_long_titles_make_a_bounded_one_line_subject():
    out = render(decide([stale(title="word " * 200)]))
    assert len(out.subject) <= 200 and out.subject.endswith("…")
    assert "\n" not in parse(out)["Subject"]


# --- user reminder recipients ----------------------------------------------------------------------

def waiting(submitter):
    return ticket("goc:3", owner=ADA, assignees=(ADA,), assignment_order=(ADA,), status="waiting-on-user",
                  status_raw="Customer", status_since=liso(2026, 11, 9, 10), opened_at=liso(2026, 11, 2, 10),
                  owner_changed_at=liso(2026, 11, 2, 10), submitter=submitter, title="Cannot install client")


def test_user_reminder_to_the_submitter_cc_the_list_friendly_wording():
    out = render(decide([waiting("jane@example.edu")], kind="user"))
    msg = parse(out)
    assert out.recipients == ("jane@example.edu", LIST)
    assert [a.addr_spec for a in msg["To"].addresses] == ["jane@example.edu"]
    assert [a.addr_spec for a in msg["Cc"].addresses] == [LIST]
    text, html = parts(msg)
    assert "no hurry" in text and "Cannot install client" in text
    assert "Alan Turing" in text.split("-- ")[-1]


@pytest.mark.parametrize("submitter", ["not-an-address", "jane@example.edu\r\nBcc: evil@x.org",
                                       "Jane <jane@example.edu>", "jane@", "jane@localhost"])
def test_an_invalid_submitter_address_is_never_a_recipient(submitter):
    # the policy does not decide a user reminder nobody could receive ...
    assert [d for d in due_reminders([waiting(submitter)], LEDGER, TEAM, [], NOW) if d.kind == "user"] == []
    # ... and should one be composed anyway, the address is dropped, never pasted into a header
    due = Due(kind="user", period="2026-11-18", to=(submitter,), cc=(LIST,), duty=ALAN, tickets=("rt:1",),
              data={"ticket": {"key": "rt:1", "title": "t", "url": None}})
    out = render(due)
    msg = parse(out)
    assert out.recipients == (LIST,)
    assert msg["Bcc"] is None
    assert b"evil@x.org" not in out.raw


# --- every kind renders ------------------------------------------------------------------------

def all_kinds():
    """One Due of every kind, decided by the real policy and handoff code."""
    unowned = ticket("goc:5", opened_at=liso(2026, 11, 2, 10), assignees=(TRIAGE,), next_action="SOFTWARE TRIAGE")
    several = ticket("goc:6", owner=ADA, assignees=("Ada Lovelace", "Grace Hopper"), assignment_order=(ADA, GRACE),
                     opened_at=liso(2026, 11, 2, 10), triage_removed=True, last_team_update_at=liso(2026, 11, 18, 9))
    away = stale("goc:7", last_team_update_at=liso(2026, 12, 16, 10))
    dues = {d.kind: d for d in due_reminders([unowned, several, stale()], LEDGER, TEAM, [], local(2026, 11, 18, 9, 30))}
    dues["owner-away"] = decide([away], now=local(2026, 12, 22, 9, 30), kind="owner-away")
    dues["user"] = decide([waiting("jane@example.edu")], kind="user")
    dues["close"] = decide([waiting("jane@example.edu")], now=local(2026, 11, 24, 14, 0), kind="close")
    dues["handoff"] = handoff([unowned, several, stale(), waiting("jane@example.edu")], LEDGER, TEAM,
                              local(2026, 11, 20, 15, 0))
    # SPEC 10
    work = [spec10.support(), spec10.item("jira:SOFT-12"), spec10.item("github:org/repo#7", status="closed")]
    dues["work-done"] = spec10.one(spec10.dues(work, NOW), "work-done")
    dues["silence"] = spec10.one(spec10.dues([], NOW, stream_meta=spec10.stream()), "silence")
    dues["brief"] = spec10.one(spec10.dues(work + [unowned], spec10.BRIEF_AT), "brief")
    return dues


def test_every_kind_composes_with_both_parts_and_the_common_headers():
    dues = all_kinds()
    assert sorted(dues) == sorted(KINDS)
    for kind, due in dues.items():
        out = render(due)
        msg = parse(out)
        assert msg["X-Maildaemon-Kind"] == kind
        assert msg["Auto-Submitted"] == "auto-generated", kind
        assert msg["From"].addresses[0].addr_spec == FROM
        assert msg["Message-ID"] == out.message_id == message_id(due, TEAM)
        text, html = parts(msg)
        signer = TEAM.member(due.duty).name
        assert signer in text.split("-- \n")[-1], kind
        assert f"{signer}<br>" in html, kind
        assert out.recipients, kind


def test_every_kinds_text_part_stays_within_78_columns():
    for kind, due in all_kinds().items():
        now = local(2026, 11, 20, 15, 0) if kind == "handoff" else NOW
        text = render(due, now=now).text
        assert [line for line in text.splitlines() if len(line) > 78] == [], kind


def test_digest_lists_tickets_flags_and_meetings():
    due = all_kinds()["unassigned"]
    text, html = parts(parse(render(due)))
    assert "goc:5" in text and "no owner" in text
    assert "Also worth a look" in text and "several team members assigned" in text
    assert due.data["meetings"] == [{"time": "16:00", "name": "Operations meeting"}]
    assert "Today's meetings" in text and "16:00  Operations meeting" in text
    assert parse(render(due))["To"].addresses[0].addr_spec == ALAN


def test_owner_away_mail_suggests_reassigning():
    due = all_kinds()["owner-away"]
    out = render(due, now=local(2026, 12, 22, 9, 30))
    text, _ = parts(parse(out))
    assert "away until 2027-01-01" in text and "reassigning" in text
    assert out.recipients == (GRACE,)


def test_announcement_names_both_weeks_and_is_signed():
    out = render(all_kinds()["announcement"])
    msg = parse(out)
    text, html = parts(msg)
    assert msg["Subject"] == "This week's Software Team duty: Alan Turing"
    assert text.startswith("This week: Alan Turing\nNext week: Grace Hopper\n")
    assert "Thanksgiving Day" in text
    assert text.rstrip().endswith("-- \nAlan Turing\non duty for Software Team")
    assert out.recipients == (ADA, GRACE, ALAN, LINUS)


def test_handoff_mail_to_incoming_cc_team():
    out = render(all_kinds()["handoff"], now=local(2026, 11, 20, 15, 0))
    msg = parse(out)
    assert [a.addr_spec for a in msg["To"].addresses] == [GRACE]
    assert [a.addr_spec for a in msg["Cc"].addresses] == [ADA, ALAN, LINUS]
    text, html = parts(msg)
    assert "This week: Alan Turing\nNext week: Grace Hopper\n" in text
    assert "This week: <b>Alan Turing</b><br>Next week: <b>Grace Hopper</b>" in html


def test_different_tickets_never_share_a_message_id():
    a = Due(kind="owner", period="2026-11-18", to=(ADA,), duty=ALAN, tickets=("github:org/a.b#1",))
    b = Due(kind="owner", period="2026-11-18", to=(ADA,), duty=ALAN, tickets=("github:org/a-b#1",))
    assert message_id(a, TEAM) != message_id(b, TEAM)


# --- templates ---------------------------------------------------------------------------------

def test_every_bundled_template_compiles():
    check_templates(environment())                     # no override: nothing to check up front
    names = set(ENV.list_templates(extensions=["j2"]))
    for name in names:
        environment().get_template(name)              # so the bundled set is compiled here
    for kind in KINDS:
        assert {f"{kind}.subject.j2", f"{kind}.txt.j2", f"{kind}.html.j2"} <= names


def test_a_broken_override_raises_template_problem_naming_file_and_line(tmp_path):
    (tmp_path / "owner.txt.j2").write_text("Hello {{ owner.name }},\n\n{% if ticket.overdue %}\nlate\n")
    with pytest.raises(TemplateProblem) as e:
        check_templates(environment(tmp_path))
    assert "owner.txt.j2" in str(e.value)
    assert str(e.value).startswith("owner.txt.j2 line 4: ")
    (tmp_path / "owner.txt.j2").unlink()
    (tmp_path / "user.html.j2").write_text("<p>ok</p>\n<p>{{ ticket.title }</p>\n")
    with pytest.raises(TemplateProblem) as e:
        check_templates(environment(tmp_path))
    assert str(e.value).startswith("user.html.j2 line 2: ")


def test_a_valid_override_replaces_the_bundled_template(tmp_path):
    (tmp_path / "owner.subject.j2").write_text("Please look at {{ ticket.key }}\n")
    env = environment(tmp_path)
    check_templates(env)
    out = compose(env, decide([stale()]), TEAM, NOW)
    assert out.subject == "Please look at goc:1"
    text, _ = parts(parse(out))
    assert "Hello Ada Lovelace," in text                  # other templates stay bundled


def test_unknown_variables_in_an_override_are_errors_not_blanks(tmp_path):
    (tmp_path / "owner.subject.j2").write_text("{{ ticket.no_such_field }}\n")
    with pytest.raises(Exception) as e:
        compose(environment(tmp_path), decide([stale()]), TEAM, NOW)
    assert "no_such_field" in str(e.value)


def test_due_without_duty_is_signed_by_the_team():
    due = replace(decide([stale()]), duty=None, cc=())
    out = render(due)
    msg = parse(out)
    assert msg["From"].addresses[0].addr_spec == FROM
    assert "Software Team" in msg["From"].addresses[0].display_name
    assert msg["Reply-To"] is None
    text, _ = parts(msg)
    assert text.rstrip().endswith("-- \nSoftware Team\non duty for Software Team")


def test_compiled_templates_are_kept_and_an_edited_override_is_compiled_anew(tmp_path):
    overrides, cache = tmp_path / "overrides", tmp_path / "state" / "templates.cache"
    overrides.mkdir()
    (tmp_path / "state").mkdir(mode=0o700)
    (overrides / "owner.subject.j2").write_text("First {{ ticket.key }}\n")
    assert compose(environment(overrides, cache), decide([stale()]), TEAM, NOW).subject == "First goc:1"
    assert list(cache.iterdir())                                   # kept for the next command
    (overrides / "owner.subject.j2").write_text("Second {{ ticket.key }}\n")
    assert compose(environment(overrides, cache), decide([stale()]), TEAM, NOW).subject == "Second goc:1"
    for f in cache.iterdir():                                      # a damaged entry is no cache, no error
        f.write_bytes(b"\x00garbage")
    assert compose(environment(overrides, cache), decide([stale()]), TEAM, NOW).subject == "Second goc:1"
