"""`snooze` / `snoozes` (SPEC 10) as the person on duty uses them."""
import json

from test_cli import week


def test_snooze_lists_until_the_end_of_the_day_then_ends(cli):
    assert cli("import", week(cli.root))[0] == 0
    code, out, err = cli("snooze", "rt:1234", "--until", "2026-11-27", "--reason", "waiting for the vendor",
                         "--now", "2026-11-24T10:00")
    assert code == 0, err
    assert out.strip() == ("rt:1234 snoozed until the end of 2026-11-27 (America/Chicago): "
                           "waiting for the vendor")
    code, out, _ = cli("snoozes", "--json", "--now", "2026-11-27T23:59")
    rows = json.loads(out)
    assert [(r["key"], r["until"], r["reason"]) for r in rows] == [("rt:1234", "2026-11-27", "waiting for the vendor")]
    _, out, _ = cli("snoozes", "--now", "2026-11-28T00:00")          # the next day, team time
    assert out.strip() == "no tickets snoozed"


def test_snooze_off_and_the_bare_id(cli):
    cli("import", week(cli.root))
    assert cli("snooze", "41234", "--until", "2026-12-01", "--now", "2026-11-24T10:00")[0] == 0
    _, out, _ = cli("snoozes", "--now", "2026-11-24T10:00")
    assert out.startswith("goc:41234  until 2026-12-01")
    code, out, _ = cli("snooze", "goc:41234", "--off", "--now", "2026-11-24T11:00")
    assert (code, out.strip()) == (0, "goc:41234: snooze ended")
    _, out, _ = cli("snoozes", "--now", "2026-11-24T11:00")
    assert out.strip() == "no tickets snoozed"


def test_an_unknown_ticket_or_a_past_date_is_exit_2(cli):
    cli("import", week(cli.root))
    code, out, err = cli("snooze", "rt:9999", "--until", "2026-12-01", "--now", "2026-11-24T10:00")
    assert code == 2 and err.strip() == "maildaemon snooze: no ticket rt:9999 (see `maildaemon tickets --all`)"
    code, out, err = cli("snooze", "rt:1234", "--until", "2026-11-23", "--now", "2026-11-24T10:00")
    assert code == 2 and "--until" in err and "2026-11-23 is in the past" in err and len(err.strip().splitlines()) == 1
    code, out, err = cli("snooze", "rt:1234", "--now", "2026-11-24T10:00")
    assert code == 2                                     # neither --until nor --off


def test_a_closed_ticket_ends_its_snooze(cli):
    """Snoozed, then resolved: the snooze is over, even if the ticket is reopened later."""
    from datetime import datetime

    from builders import CST, rt_mail
    from builders import write_mbox
    cli("import", week(cli.root))
    assert cli("snooze", "rt:1234", "--until", "2026-12-31", "--now", "2026-11-24T12:00")[0] == 0
    t = lambda d, h: datetime(2026, 11, d, h, 0, tzinfo=CST)  # noqa: E731
    more = write_mbox(cli.root / "more.mbox", [
        rt_mail(1234, "Cannot install client", t(25, 10), transaction="Status changed from 'open' to 'resolved'",
                actor="Grace Hopper", actor_email="grace@example.org", owner="grace", status="resolved", n=10),
        rt_mail(1234, "Cannot install client", t(26, 10), transaction="Status changed from 'resolved' to 'open'",
                actor="Jane User", actor_email="jane@example.edu", owner="grace", status="open", n=11),
    ])
    assert cli("import", more)[0] == 0
    _, out, _ = cli("snoozes", "--now", "2026-11-26T12:00")
    assert out.strip() == "no tickets snoozed"
