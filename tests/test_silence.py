"""Silence is an outage (SPEC 10): `policy.silence_after_hours` business hours without a trusted
notification applied -> one `silence` mail to the person on duty naming the last notification and
when; `status` shows `silent_since`; the next digest after the stream resumes says so in one line.

Moments (America/Chicago, work hours 09:00-17:00): the last notification applied Tuesday 11-17
09:15 is 8 business hours old at Wednesday 09:15, 7.9 at 09:14. Alan is on duty that week.
"""
import json
from datetime import datetime

import spec10
from builders import CST, goc_mail
from builders import LEDGER, liso, local, sent
from maildaemon.config import load_team
from maildaemon.ingest import ingest
from maildaemon.model import RawMail
from maildaemon.render import compose, environment, message_id
from maildaemon.store import Store

TEAM = spec10.TEAM
ENV = environment()
APPLIED = liso(2026, 11, 17, 9, 15)


def silence(now, t=TEAM, stream=None, ledger=LEDGER):
    return spec10.of(spec10.dues([], now, team=t, stream_meta=stream or spec10.stream(), ledger=ledger), "silence")


def test_the_alarm_goes_at_the_threshold_not_a_minute_before():
    assert silence(local(2026, 11, 18, 9, 14)) == []
    [due] = silence(local(2026, 11, 18, 9, 15))
    out = compose(ENV, due, TEAM, local(2026, 11, 18, 9, 15))
    assert out.recipients == ("alan@example.org",)
    assert out.subject == "No ticket notification for 8 business hours: is the support stream down?"
    assert out.text.startswith(
        "Hello Alan Turing,\n\n"
        "No trusted ticket notification has reached maildaemon for 8 business hours,\n"
        "since 2026-11-17 09:15. The support stream may be down:")
    assert ("The last notification seen:\n"
            "  ticket:   goc:41234  Pilot jobs fail at Example site\n"
            "  subject:  ISSUE=41234 PROJ=71 Pilot jobs fail at Example site\n"
            "  dated:    2026-11-17 09:14\n"
            "  applied:  2026-11-17 09:15\n") in out.text
    assert "software-support-stream@example.org" in out.text
    assert all(len(line) <= 78 for line in out.text.splitlines())


def test_nights_and_weekends_are_not_silence():
    """Applied Friday 13:00: 4 business hours that day and 4 on Monday morning."""
    stream = spec10.stream(applied=liso(2026, 11, 20, 13, 0), dated=liso(2026, 11, 20, 12, 59))
    assert silence(local(2026, 11, 21, 13, 0), stream=stream) == []        # Saturday
    assert silence(local(2026, 11, 23, 12, 59), stream=stream) == []
    [due] = silence(local(2026, 11, 23, 13, 0), stream=stream)
    assert "for 8 business hours,\nsince 2026-11-20 13:00" in compose(ENV, due, TEAM, local(2026, 11, 23, 13)).text


def test_the_threshold_is_the_teams_and_zero_turns_the_alarm_off():
    four = spec10.team_with({"silence_after_hours": 4})
    assert silence(local(2026, 11, 17, 13, 14), t=four) == []
    assert len(silence(local(2026, 11, 17, 13, 15), t=four)) == 1
    off = spec10.team_with({"silence_after_hours": 0})
    assert silence(local(2026, 11, 30, 9, 30), t=off) == []


def test_one_mail_per_silence_a_new_silence_is_a_new_mail():
    [first] = silence(local(2026, 11, 18, 9, 15))
    [later] = silence(local(2026, 11, 19, 16, 0))              # the same silence, longer
    assert message_id(first, TEAM) == message_id(later, TEAM)   # the outbox refuses it: once
    [other] = silence(local(2026, 11, 20, 9, 30), stream=spec10.stream(applied=liso(2026, 11, 19, 9, 0)))
    assert message_id(other, TEAM) != message_id(first, TEAM)


def test_nothing_from_a_stream_never_read_live_and_no_alarm_signed_by_nobody():
    assert spec10.of(spec10.dues([], local(2026, 11, 18, 9, 30), stream_meta={}), "silence") == []
    assert silence(local(2026, 11, 18, 9, 30), ledger=[]) == []


# --- the next digest after the stream resumes ------------------------------------------------------

RESUMED = {"at": liso(2026, 11, 18, 13, 0), "silent_since": APPLIED}
ALARM = sent("silence", [], local(2026, 11, 18, 9, 15), period="since-" + APPLIED)


def digest(now, sent_log, tickets=(), resumed=RESUMED):
    stream = spec10.stream(applied=liso(2026, 11, 18, 13, 0), dated=liso(2026, 11, 18, 12, 59), resumed=resumed)
    return spec10.of(spec10.dues(list(tickets), now, sent=sent_log, stream_meta=stream), "unassigned")


def test_the_first_digest_after_the_stream_resumes_says_so_in_one_line():
    now = local(2026, 11, 18, 14, 0)
    [due] = digest(now, [ALARM])
    out = compose(ENV, due, TEAM, now)
    assert out.subject == "Stream back, no ticket waiting for triage (2026-11-18 14:00)"
    assert out.text.startswith("Hello,\n\nStream back since 2026-11-18 13:00, after 11.7 business hours of silence.\n\n"
                               "No open ticket is waiting for an owner.\n")
    # with tickets to list, the same line opens the usual digest
    [due] = digest(now, [ALARM], tickets=[spec10.unowned()])
    text = compose(ENV, due, TEAM, now).text
    assert "Stream back since 2026-11-18 13:00, after 11.7 business hours of silence.\n\n1 open ticket is" in text


def test_only_once_and_only_after_an_alarm():
    now = local(2026, 11, 19, 9, 30)
    after = sent("unassigned", ["goc:41250"], local(2026, 11, 18, 14, 0))
    assert digest(now, [ALARM, after]) == []                    # said at 14:00: no digest for nothing
    [due] = digest(now, [ALARM, after], tickets=[spec10.unowned()])
    assert "Stream back" not in compose(ENV, due, TEAM, now).text
    before = sent("unassigned", ["goc:41250"], local(2026, 11, 18, 9, 30))       # a digest during the silence
    assert len(digest(now, [ALARM, before])) == 1
    assert digest(now, []) == []                                 # no alarm went out: nothing to take back


# --- through the state: ingest keeps the meta, remind and status read it ------------------------------

class Feed:
    """A live stream of the given mails (all of them, every pass)."""
    id = "test-feed"

    def __init__(self, mails):
        self.mails = mails

    def batches(self, position):
        start = (position or {}).get("next", 0)
        if start < len(self.mails):
            yield [RawMail(m, f"feed:{i}") for i, m in enumerate(self.mails[start:], start)], {"next": len(self.mails)}


def mail(n, hour, minute=0, day=17, title="Pilot jobs fail"):
    at = datetime(2026, 11, day, hour, minute, tzinfo=CST)
    return goc_mail(41234 + n, title, at, n=n, entries=[(at, "Jane User", "It fails.")])


def test_silence_end_to_end_alarm_status_and_the_digest_after(cli):
    team = load_team(cli.team_file)
    store = Store(cli.root / "state")
    feed = [mail(0, 9, 14)]
    ingest(Feed(feed), store, team, local(2026, 11, 17, 9, 15))
    meta = store.view().meta()
    assert meta["last_applied"] == {"key": "goc:41234", "title": "Pilot jobs fail",
                                    "subject": "Pilot jobs fail ISSUE=41234 PROJ=71", "date": liso(2026, 11, 17, 9, 14)}
    (cli.root / "rotation.txt").write_text("2026-11-16  alan@example.org  Alan Turing\n")
    assert cli("rotation", "load", str(cli.root / "rotation.txt"))[0] == 0

    _, out, _ = cli("status", "--now", "2026-11-18T09:14")
    assert "silent since:    not silent (last notification applied 2026-11-17T09:15:00-06:00)" in out
    assert json.loads(cli("status", "--json", "--now", "2026-11-18T09:14")[1])["silent_since"] is None
    _, out, _ = cli("status", "--now", "2026-11-18T09:15")
    assert ('silent since:    2026-11-17T09:15:00-06:00, 8 business hours without a trusted notification '
            '(last: goc:41234 "Pilot jobs fail ISSUE=41234 PROJ=71")') in out
    data = json.loads(cli("status", "--json", "--now", "2026-11-18T09:15")[1])
    assert data["silent_since"] == "2026-11-17T09:15:00-06:00"
    assert data["last_notification"]["key"] == "goc:41234"

    code, out, err = cli("remind", "--now", "2026-11-18T09:15")
    assert code == 0, err
    kinds = [line.split()[0] for line in out.splitlines() if " to " in line and not line[0].isdigit()]
    assert "silence" in kinds
    _, out, _ = cli("remind", "--now", "2026-11-18T12:00")      # the digest of 09:30; the alarm not again
    assert [line.split()[0] for line in out.splitlines() if " to " in line and not line[0].isdigit()] == ["unassigned"]

    # a pass within the threshold is no resumption; one after it is
    ingest(Feed(feed + [mail(1, 13, 0, day=18)]), store, team, local(2026, 11, 18, 13, 0))
    assert store.view().meta()["stream_resumed"] == {"at": liso(2026, 11, 18, 13, 0), "silent_since": APPLIED,
                                                    "last": meta["last_applied"]}
    _, out, _ = cli("status", "--now", "2026-11-18T14:00")
    assert "silent since:    not silent (last notification applied 2026-11-18T13:00:00-06:00)" in out
    _, out, _ = cli("remind", "--dry-run", "--now", "2026-11-18T14:00")
    assert "    Stream back since 2026-11-18 13:00, after 11.7 business hours of silence.\n" in out
    assert cli("remind", "--now", "2026-11-18T14:00")[0] == 0
    _, out, _ = cli("remind", "--dry-run", "--now", "2026-11-19T09:30")
    assert "would send unassigned" in out and "Stream back" not in out


def test_a_pass_within_the_threshold_is_not_a_resumption(tmp_path):
    team = spec10.TEAM
    store = Store(tmp_path / "state")
    feed = [mail(0, 9, 14)]
    ingest(Feed(feed), store, team, local(2026, 11, 17, 9, 15))
    ingest(Feed(feed + [mail(1, 9, 0, day=18)]), store, team, local(2026, 11, 18, 9, 14))     # 7.9 hours
    meta = store.view().meta()
    assert "stream_resumed" not in meta or meta["stream_resumed"] is None
    assert meta["last_applied_at"] == liso(2026, 11, 18, 9, 14)
    ingest(Feed(feed + [mail(1, 9, 0, day=18), mail(2, 9, 0, day=19)]), store, team, local(2026, 11, 19, 9, 14))
    assert store.view().meta()["stream_resumed"]["silent_since"] == liso(2026, 11, 18, 9, 14)
