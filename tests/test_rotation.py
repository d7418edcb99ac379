"""The rotation's rules: fair generation from the ledger, outages, the text format, overrides."""
from datetime import date, timedelta

from hypothesis import given, settings, strategies as st

from maildaemon import rotation
from maildaemon.config import team_from_dict
from maildaemon.model import Member, Outage, Team
from maildaemon.rotation import Assignment, UNASSIGNED

MON = date(2026, 11, 23)
W = timedelta(weeks=1)


def team(members=("Ada Lovelace", "Grace Hopper", "Alan Turing"), outages=(), **extra):
    data = {"team": {"name": "Software Team", "timezone": "America/Chicago", "list_address": "list@example.org",
                     "from_address": "duty@example.org", **extra},
            "members": [m if isinstance(m, dict) else {"name": m, "email": m.split()[0].lower() + "@example.org"}
                        for m in members],
            "outages": [{"member": e, "start": s, "end": x} for e, s, x in outages]}
    return team_from_dict(data)


def emails(plan):
    return [a.email.split("@")[0] if a.email else None for a in plan]


def ledger(*pairs):
    """`ledger((week, "ada"), ...)` as stored assignments."""
    return [Assignment(w, f"{who}@example.org", who.title()) for w, who in pairs]


# --- generate: examples ----------------------------------------------------------------------

def test_from_nothing_it_goes_round_in_team_file_order_and_skips_an_outage():
    t = team(outages=[("grace@example.org", date(2026, 11, 30), date(2026, 12, 4))])
    plan = rotation.generate(t, [], MON, 6)
    assert [a.week for a in plan] == [MON + i * W for i in range(6)]
    assert emails(plan) == ["ada", "alan", "grace", "ada", "alan", "grace"]
    assert plan[0].line() == "2026-11-23  ada@example.org  Ada Lovelace"


def test_it_continues_from_the_ledger_fewest_weeks_first():
    past = ledger((MON - 6 * W, "ada"), (MON - 5 * W, "alan"), (MON - 4 * W, "ada"),
                  (MON - 3 * W, "alan"), (MON - 2 * W, "grace"), (MON - W, "ada"))
    # counts: ada 3, alan 2, grace 1 -> grace, then alan (2 < 3), then by count/recency
    assert emails(rotation.generate(team(), past, MON, 4)) == ["grace", "alan", "grace", "ada"]


def test_equal_counts_go_to_the_longest_since_their_last_week():
    past = ledger((MON - 3 * W, "grace"), (MON - 2 * W, "ada"), (MON - W, "alan"))
    assert emails(rotation.generate(team(), past, MON, 3)) == ["grace", "ada", "alan"]


def test_someone_back_from_an_outage_catches_up():
    t = team(outages=[("grace@example.org", MON, MON + 3 * W - timedelta(days=1))])
    plan = rotation.generate(t, [], MON, 8)
    assert emails(plan)[:3] == ["ada", "alan", "ada"]
    # back with the fewest weeks: first, and again as soon as the back-to-back rule allows
    assert emails(plan)[3:] == ["grace", "alan", "grace", "ada", "alan"]


def test_a_newcomer_goes_first_and_catches_up_within_the_window():
    past = ledger(*[(MON - (9 - i) * W, ("ada", "grace", "alan")[i % 3]) for i in range(9)])
    t = team(members=("Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra"))
    plan = emails(rotation.generate(t, past, MON, 8))
    # 3 weeks each before; Edsger takes every other week (never two running) until level
    assert plan == ["edsger", "ada", "edsger", "grace", "edsger", "alan", "edsger", "ada"]


def test_back_to_back_only_when_nobody_else_is_free():
    t = team(members=("Ada Lovelace", "Grace Hopper"),
             outages=[("grace@example.org", MON + W, MON + 2 * W)])
    assert emails(rotation.generate(t, [], MON, 4)) == ["ada", "ada", "ada", "grace"]
    # the ledger's last week counts as the previous week
    assert emails(rotation.generate(team(), ledger((MON - W, "ada")), MON, 1)) == ["grace"]


def test_a_week_nobody_can_take_is_unassigned():
    t = team(members=("Ada Lovelace",), outages=[("ada@example.org", MON + W, MON + W)])
    plan = rotation.generate(t, [], MON, 3)
    assert emails(plan) == ["ada", None, "ada"]
    assert plan[1].line() == "2026-11-30  UNASSIGNED  # everyone on the rotation is away"
    off = team(members=[{"name": "Ada Lovelace", "email": "ada@example.org", "rotation": False}])
    assert rotation.generate(off, [], MON, 1)[0].note == "no member has rotation = true"


def test_members_off_the_rotation_are_never_chosen():
    t = team(members=[{"name": "Ada Lovelace", "email": "ada@example.org", "rotation": False},
                      "Grace Hopper", "Alan Turing"])
    assert "ada" not in emails(rotation.generate(t, [], MON, 6))


def test_an_outage_on_a_weekend_or_holiday_does_not_block_the_week():
    t = team(holidays="US-CA", outages=[("ada@example.org", date(2026, 11, 26), date(2026, 11, 29))])
    assert emails(rotation.generate(t, [], MON, 1)) == ["ada"]                 # Thanksgiving to Sunday
    t = team(holidays="US", outages=[("ada@example.org", date(2026, 11, 26), date(2026, 11, 29))])
    assert emails(rotation.generate(t, [], MON, 1)) == ["grace"]               # Friday is a duty day


def test_a_week_of_holidays_still_has_an_owner_and_says_so():
    t = team(holidays="CN", duty_start="thu", timezone="Asia/Shanghai",
             outages=[("ada@example.org", date(2026, 10, 2), date(2026, 10, 2))])   # away on a holiday
    plan = rotation.generate(t, [], date(2026, 10, 1), 2)
    assert emails(plan) == ["grace", "ada"]        # the holiday week still needs someone around
    assert plan[0].note.startswith("no duty days: 2026-10-01 National Day")
    assert plan[0].line().startswith("2026-10-01  grace@example.org  Grace Hopper  # no duty days: ")
    assert plan[1].note == ""


def test_weeks_stored_from_the_start_on_are_planned_again_not_counted():
    stored = ledger((MON - W, "alan"), (MON, "ada"), (MON + W, "ada"), (MON + 2 * W, "ada"))
    assert emails(rotation.generate(team(), stored, MON, 2)) == ["ada", "grace"]


def test_the_window_is_52_weeks():
    old = ledger(*[(MON - (60 - i) * W, "ada") for i in range(5)])            # more than 52 weeks ago
    assert emails(rotation.generate(team(), old + ledger((MON - W, "grace"), (MON - 2 * W, "alan")), MON, 1)) \
        == ["ada"]


# --- generate: properties --------------------------------------------------------------------

@st.composite
def rosters(draw, with_outages=True):
    n = draw(st.integers(1, 6))
    members = tuple(Member(name=f"Member {i}", email=f"m{i}@example.org",
                           rotation=draw(st.booleans()) if with_outages else True) for i in range(n))
    outages = ()
    if with_outages:
        outages = tuple(Outage(member=f"m{draw(st.integers(0, n - 1))}@example.org",
                               start=MON + timedelta(days=s), end=MON + timedelta(days=s + length))
                        for s, length in draw(st.lists(st.tuples(st.integers(-30, 200), st.integers(0, 40)),
                                                       max_size=8)))
    day = draw(st.sampled_from(["mon", "tue", "wed", "sun"]))
    return Team(name="T", timezone="America/Chicago", list_address="l@example.org",
                from_address="d@example.org", duty_start=day, members=members, outages=outages)


@st.composite
def ledgers(draw, t, start):
    picks = draw(st.lists(st.one_of(st.none(), st.integers(0, len(t.members) - 1)), max_size=20))
    out = []
    for i, p in enumerate(picks):
        if p is not None:
            m = t.members[p]
            out.append(Assignment(start - (len(picks) - i) * W, m.email, m.name))
    return out


def _first_week(t):
    from maildaemon.workdays import week_start
    return week_start(MON, t)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), weeks=st.integers(1, 30))
def test_invariants_over_random_rosters_and_outages(data, weeks):
    t = data.draw(rosters())
    start = _first_week(t)
    past = data.draw(ledgers(t, start))
    plan = rotation.generate(t, past, start, weeks)
    assert [a.week for a in plan] == [start + i * W for i in range(weeks)]
    previous = {a.week: a.email for a in past}
    for a in plan:
        free = {m.email for m in rotation.free_members(a.week, t)}
        if a.email is None:
            assert not free                                         # UNASSIGNED only when nobody can
            assert a.line().startswith(f"{a.week.isoformat()}  {UNASSIGNED}")
        else:
            assert a.email in free                                  # a rotation member, not away
            assert t.member(a.email).rotation
            assert not rotation.away_in_week(a.email, a.week, t)
            if previous.get(a.week - W) == a.email:
                assert free == {a.email}                            # twice running only if alone
            pool = (free - {previous.get(a.week - W)}) or free
            count = lambda e: sum(1 for w, x in previous.items() if x == e and a.week - 52 * W <= w < a.week)
            assert all(count(a.email) <= count(e) for e in pool)     # nobody free had fewer weeks
        previous[a.week] = a.email
    assert rotation.generate(t, past, start, weeks) == plan                 # deterministic
    assert rotation.generate(t, list(reversed(past)), start, weeks) == plan  # whatever the stored order


@settings(max_examples=100, deadline=None)
@given(t=rosters(with_outages=False), weeks=st.integers(1, 40))
def test_counts_stay_within_one_when_nobody_is_away(t, weeks):
    plan = rotation.generate(t, [], _first_week(t), weeks)
    for k in range(1, weeks + 1):
        counts = [sum(1 for a in plan[:k] if a.email == m.email) for m in t.members]
        assert max(counts) - min(counts) <= 1


@settings(max_examples=100, deadline=None)
@given(data=st.data(), weeks=st.integers(1, 20))
def test_what_generate_prints_load_reads_back(data, weeks):
    t = data.draw(rosters())
    start = _first_week(t)
    plan = rotation.generate(t, [], start, weeks)
    parsed = rotation.parse("\n".join(a.line() for a in plan), t)
    assert parsed.errors == []
    assert [(a.week, a.email) for a in parsed.assignments] == [(a.week, a.email) for a in plan]


# --- the text format -------------------------------------------------------------------------

def test_parse_reads_both_formats_comments_and_blank_lines():
    text = """# edited by hand
2026-11-23  ada@example.org  Ada Lovelace

2026-11-30  Grace Hopper
2026-12-7: alovelace
2026-12-14: Alan Turing
2026-12-21  UNASSIGNED  # nobody
2026-12-28  ALAN@example.org  # name omitted
"""
    t = team(members=[{"name": "Ada Lovelace", "email": "ada@example.org", "aliases": ["alovelace"]},
                      "Grace Hopper", "Alan Turing"])
    p = rotation.parse(text, t)
    assert p.errors == []
    assert [(a.week.isoformat(), a.email) for a in p.assignments] == [
        ("2026-11-23", "ada@example.org"), ("2026-11-30", "grace@example.org"), ("2026-12-07", "ada@example.org"),
        ("2026-12-14", "alan@example.org"), ("2026-12-21", None), ("2026-12-28", "alan@example.org")]
    assert p.warnings == ["line 7: warning: 2026-12-21 is UNASSIGNED: any stored owner is removed"]


def test_parse_reports_every_bad_line_with_its_number():
    text = """2026-11-23  bob@example.org  Bob
2026-11-24  ada@example.org  Ada Lovelace
2026-11-30  grace@example.org
2026-11-30  alan@example.org
2026-02-30: Ada Lovelace
2026-12-07: Nobody Known
Ada Lovelace 2026-12-14
2026-12-21
"""
    p = rotation.parse(text, team())
    assert p.errors == [
        "line 1: unknown member 'bob@example.org'; use the email of a [[members]] entry in the team file",
        "line 2: 2026-11-24 is a Tuesday, not a week start; weeks start on Monday (that week starts 2026-11-23)",
        "line 4: week 2026-11-30 is already on line 3",
        "line 5: 2026-02-30 is not a date",
        "line 6: unknown member 'Nobody Known'; use a member's email, name or alias from the team file",
        "line 7: cannot read 'Ada Lovelace 2026-12-14'; write 'YYYY-MM-DD  EMAIL  NAME' or 'YYYY-MM-DD: NAME'",
        "line 8: week 2026-12-21 names nobody; add an email, or UNASSIGNED",
    ]


def test_parse_checks_week_starts_against_the_teams_duty_start():
    tue = team(duty_start="tue")
    assert rotation.parse("2026-12-01: Ada Lovelace", tue).errors == []
    assert rotation.parse("2026-11-30: Ada Lovelace", tue).errors == [
        "line 1: 2026-11-30 is a Monday, not a week start; weeks start on Tuesday (that week starts 2026-11-24)"]


def test_parse_warns_about_outages_a_name_that_is_not_the_email_and_members_off_the_rotation():
    t = team(members=["Ada Lovelace", "Grace Hopper", {"name": "Alan Turing", "email": "alan@example.org",
                                                        "rotation": False}],
             outages=[("grace@example.org", date(2026, 11, 30), date(2026, 12, 4))])
    p = rotation.parse("2026-11-30  grace@example.org  Grace Hopper\n2026-12-07  ada@example.org  Grace Hopper\n"
                       "2026-12-14: Alan Turing\n", t)
    assert p.errors == []
    assert p.warnings == [
        "line 1: warning: Grace Hopper is away 2026-11-30..2026-12-04, during the week of 2026-11-30",
        "line 2: warning: ada@example.org is Ada Lovelace, not 'Grace Hopper'; the email counts",
        "line 3: warning: Alan Turing is not on the rotation (rotation = false)"]
    assert [a.email for a in p.assignments] == ["grace@example.org", "ada@example.org", "alan@example.org"]


# --- the ledger --------------------------------------------------------------------------------

def test_swap_exchanges_two_stored_weeks():
    stored = ledger((MON, "ada"), (MON + W, "grace"))
    assert rotation.swap(stored, MON, MON + W) == [Assignment(MON, "grace@example.org", "Grace"),
                                                   Assignment(MON + W, "ada@example.org", "Ada")]
    try:
        rotation.swap(stored, MON, MON + 2 * W)
    except KeyError as e:
        assert e.args[0] == MON + 2 * W
    else:
        raise AssertionError("a missing week must be refused")


def test_who_owns_the_weekend_and_a_changed_duty_start():
    stored = ledger((MON, "ada"), (MON + W, "grace"))
    assert rotation.who_on(stored, date(2026, 11, 29)).email == "ada@example.org"      # Sunday
    assert rotation.who_on(stored, date(2026, 11, 30)).email == "grace@example.org"
    assert rotation.who_on(stored, date(2026, 11, 22)) is None
    assert rotation.who_on(stored, date(2026, 12, 7)) is None


def test_fairness_counts_the_last_52_weeks_and_shows_last_and_next():
    stored = ledger((MON - 60 * W, "ada"), (MON - 51 * W, "ada"), (MON - W, "grace"), (MON, "ada"),
                    (MON + W, "grace"), (MON - 2 * W, "edsger"))
    rows = rotation.fairness(team(), stored, MON)
    assert [r.line() for r in rows] == [
        "# Ada Lovelace <ada@example.org>: 2 weeks, last 2026-11-23, next none stored",
        "# Grace Hopper <grace@example.org>: 1 week, last 2026-11-16, next 2026-11-30",
        "# Alan Turing <alan@example.org>: 0 weeks, last never, next none stored",
        "# Edsger <edsger@example.org> (not on the rotation): 1 week, last 2026-11-09, next none stored",
    ]


def test_week_notes_flag_conflicts_and_people_no_longer_in_the_team():
    t = team(outages=[("grace@example.org", date(2026, 11, 30), date(2026, 12, 4))])
    assert rotation.week_notes(Assignment(MON + W, "grace@example.org", "Grace Hopper"), t) == \
        "conflict: Grace Hopper is away 2026-11-30..2026-12-04"
    assert rotation.week_notes(Assignment(MON, "bob@example.org", "Bob"), t) == "not in the team file"
    assert rotation.week_notes(Assignment(MON, "ada@example.org", "Ada Lovelace"), t) == ""


def test_announcement_data_this_week_and_next():
    t = team(holidays="US", outages=[("grace@example.org", date(2026, 11, 30), date(2026, 12, 4))])
    data = rotation.announcement(t, ledger((MON, "ada")), date(2026, 11, 25))
    assert data["this_week"]["name"] == "Ada" and data["this_week"]["email"] == "ada@example.org"
    assert data["next_week"]["name"] == UNASSIGNED and data["next_week"]["email"] is None
    assert data["this_week"]["holidays"] == [{"date": "2026-11-26", "day": "Thursday", "name": "Thanksgiving Day"}]
    assert data["next_week"]["away"] == [{"name": "Grace Hopper", "start": "2026-11-30", "end": "2026-12-04"}]
    assert data["date"] == "2026-11-25" and data["this_week"]["start"] == "2026-11-23"


# --- rotation check: outages that hit a stored week (SPEC 10, issue 12) ---------------------------

def four(outages=()):
    return team(members=("Ada Lovelace", "Grace Hopper", "Alan Turing", "Linus Torvalds"), outages=outages)


def test_a_conflict_line_names_the_week_the_outage_and_the_fairest_stored_swap():
    t = team(outages=[("ada@example.org", MON + 3 * W, MON + 3 * W + timedelta(days=2))])
    stored = ledger((MON, "ada"), (MON + W, "grace"), (MON + 2 * W, "alan"), (MON + 3 * W, "ada"),
                    (MON + 4 * W, "grace"), (MON + 5 * W, "alan"))
    # with Alan (12-28) he would serve 12-07 and 12-14 back to back; with Grace nobody does
    assert rotation.conflict_lines(stored, t, MON) == [
        "conflict 2026-12-14 ada@example.org away 2026-12-14..2026-12-16: swap with 2026-12-21 grace@example.org"]
    [c] = rotation.conflicts(stored, t, MON)
    assert (c.week, c.email, c.outage.end, c.swap) == (MON + 3 * W, "ada@example.org", MON + 3 * W + timedelta(days=2),
                                                        rotation.Swap(MON + 4 * W, "grace@example.org", False))


def test_the_swap_that_keeps_the_counts_most_even_wins_over_the_nearest():
    # Grace and Alan served twice in the last weeks, Linus never: Linus takes Ada's week, though later
    t = four(outages=[("ada@example.org", MON, MON + timedelta(days=4))])
    stored = ledger((MON - 4 * W, "grace"), (MON - 3 * W, "alan"), (MON - 2 * W, "grace"), (MON - W, "alan"),
                    (MON, "ada"), (MON + W, "grace"), (MON + 2 * W, "alan"), (MON + 3 * W, "linus"))
    assert rotation.conflicts(stored, t, MON)[0].swap == rotation.Swap(MON + 3 * W, "linus@example.org")
    # with counts equal, the nearest week
    even = ledger((MON - 4 * W, "linus"), (MON - 3 * W, "alan"), (MON - 2 * W, "grace"), (MON - W, "alan"),
                  (MON, "ada"), (MON + W, "grace"), (MON + 2 * W, "linus"), (MON + 3 * W, "linus"))
    assert rotation.conflicts(even, t, MON)[0].swap.week == MON + W


def test_no_swap_that_puts_someone_on_duty_two_weeks_running_while_another_would_do():
    # Grace (1 week) taking Ada's week would even the counts best, but she served the week before
    t = team(outages=[("ada@example.org", MON, MON)])
    stored = ledger((MON - 5 * W, "alan"), (MON - 4 * W, "ada"), (MON - 3 * W, "alan"), (MON - 2 * W, "ada"),
                    (MON - W, "grace"), (MON, "ada"), (MON + W, "alan"), (MON + 2 * W, "grace"))
    assert rotation.conflicts(stored, t, MON)[0].swap == rotation.Swap(MON + W, "alan@example.org")


def test_a_swap_never_breaks_an_outage():
    # Ada is away two weeks: Grace's week (the next) would put Ada in her outage; Alan is away in Ada's week
    t = four(outages=[("ada@example.org", MON, MON + W + timedelta(days=4)),
                      ("alan@example.org", MON + timedelta(days=2), MON + timedelta(days=2))])
    stored = ledger((MON, "ada"), (MON + W, "grace"), (MON + 2 * W, "alan"), (MON + 3 * W, "linus"))
    [c] = rotation.conflicts(stored, t, MON)
    assert c.swap == rotation.Swap(MON + 3 * W, "linus@example.org")


def test_weeks_after_the_stored_ones_are_planned_by_generate_and_said_so():
    t = team(outages=[("ada@example.org", MON + W, MON + W + timedelta(days=1))])
    stored = ledger((MON, "grace"), (MON + W, "ada"))
    # generate continues with Alan (never served) on 12-07
    assert rotation.conflict_lines(stored, t, MON) == [
        "conflict 2026-11-30 ada@example.org away 2026-11-30..2026-12-01: swap with 2026-12-07 alan@example.org"
        " (generated)"]


def test_no_swap_when_nobody_can_exchange_and_past_weeks_are_not_listed():
    t = team(members=("Ada Lovelace", "Grace Hopper"),
             outages=[("ada@example.org", MON + W, MON + W), ("grace@example.org", MON + W, MON + W),
                      ("ada@example.org", MON - W, MON - W)])
    stored = ledger((MON - W, "ada"), (MON, "grace"), (MON + W, "ada"), (MON + 2 * W, "grace"))
    assert rotation.conflict_lines(stored, t, MON + timedelta(days=3)) == [
        "conflict 2026-11-30 ada@example.org away 2026-11-30..2026-11-30: no swap within the next 8 weeks; "
        "give the week to someone free by hand"]
    # the current week is still listed; an outage on a holiday or a weekend is no conflict
    assert [c.week for c in rotation.conflicts(stored, t, MON + W + timedelta(days=6))] == [MON + W]
    assert rotation.conflicts(stored, t, MON + 2 * W) == []
    weekend = team(outages=[("ada@example.org", MON + timedelta(days=5), MON + timedelta(days=6))])
    assert rotation.conflicts(ledger((MON, "ada")), weekend, MON) == []
