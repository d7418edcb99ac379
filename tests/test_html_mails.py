"""The HTML mails as a person sees them in a mail reader (issue 10).

Each mail is decided by the real policy and handoff code, composed, parsed back from its bytes as a
mail client would, and its HTML part read with lxml: what is a link, what is in which table column,
how wide a bar is against the others, which text may wrap. Chromium showed what these assertions
stand for: bars whose widths did not follow the counts, a date wrapped as "2026-11-/21", a gap above
the first line.
"""
import email
import email.policy
import re
from datetime import date

import pytest
from lxml import html as lhtml

import spec10
from builders import ADA, ALAN, GRACE, LEDGER, TRIAGE, fold, liso, local, team, ticket
from maildaemon.handoff import handoff
from maildaemon.policy import due_reminders
from maildaemon.render import compose, count, environment

TEAM = team()
FRIDAY = local(2026, 11, 20, 15, 0)        # handoff: Alan hands over to Grace
WEDNESDAY = local(2026, 11, 18, 9, 30)     # reminders and the first digest of the day
OPS = "Alice Operator (GOC)"
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
UNIT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?) ((?:business |calendar )?(?:minute|hour|day|week)(s?))\b")


# --- reading a mail ------------------------------------------------------------------------------

def read(due, now):
    """(text part, HTML document) of `due` composed at `now`, parsed back from the mail's bytes."""
    out = compose(environment(), due, TEAM, now)
    msg = email.message_from_bytes(out.raw, policy=email.policy.default)
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    return text, lhtml.document_fromstring(html)


def style(el) -> dict:
    out = {}
    for decl in (el.get("style") or "").split(";"):
        name, _, value = decl.partition(":")
        if name.strip():
            out[name.strip().lower()] = value.strip().lower()
    return out


def words(el) -> str:
    return " ".join(el.text_content().replace("\xa0", " ").split())


def content_cell(doc):
    """The cell holding the mail's body: the one the signature closes."""
    [sig] = [p for p in doc.iter("p") if "on duty for" in p.text_content()]
    return sig.getparent()


def heading(doc, start):
    found = [h for h in doc.iter("h2", "h3") if words(h).lower().startswith(start.lower())]
    assert len(found) == 1, f"one heading starting {start!r}: {[words(h) for h in doc.iter('h2', 'h3')]}"
    return found[0]


def section(doc, start):
    """The elements after the heading, up to the next heading."""
    out = []
    for el in heading(doc, start).itersiblings():
        if el.tag in ("h2", "h3"):
            break
        out.append(el)
    return out


def margin_top(el) -> str | None:
    s = style(el)
    if "margin-top" in s:
        return s["margin-top"]
    if "margin" in s:
        return s["margin"].split()[0]
    return None


def nowrap(el) -> bool:
    return any(style(a).get("white-space") == "nowrap" or a.get("nowrap") is not None
               for a in [el, *el.iterancestors()])


# --- the mails -----------------------------------------------------------------------------------

def week_tickets():
    """Friday 2026-11-20: weeks with 0, 1, 2 and 3 tickets, an owner a day idle and one a month."""
    t = TEAM
    return [
        # Ada's since October, no team update since Thursday 11-12: stale, over 30 days
        fold(t, "goc:201",
             (local(2026, 10, 1, 10), dict(title="Old and stale", status="open", assignees=(OPS, TRIAGE), actor=OPS)),
             (local(2026, 10, 1, 12), dict(assignees=(OPS, TRIAGE, "Ada Lovelace"), next_action="Investigate",
                                            actor=OPS)),
             (local(2026, 11, 12, 10), dict(actor="Ada Lovelace", summary="still on it"))),
        # Grace's (the triage pseudo-user removed: a warning), updated Thursday morning: one business
        # day idle on Friday afternoon
        fold(t, "goc:202",
             (local(2026, 11, 9, 9), dict(title="Recent one", status="open", assignees=(OPS, TRIAGE), actor=OPS)),
             (local(2026, 11, 9, 11), dict(assignees=("Grace Hopper",), actor=OPS)),
             (local(2026, 11, 19, 10), dict(actor="Grace Hopper", summary="looking"))),
        # no owner yet
        fold(t, "goc:203",
             (local(2026, 11, 17, 10), dict(title="New arrival", status="open", assignees=(OPS, TRIAGE),
                                             next_action="SOFTWARE TRIAGE", actor=OPS))),
        # Ada's, opened last week, closed this week
        fold(t, "goc:204",
             (local(2026, 11, 10, 10), dict(title="Closed this week", status="open", assignees=(TRIAGE,), actor=OPS)),
             (local(2026, 11, 10, 11), dict(assignees=(TRIAGE, "Ada Lovelace"), actor=OPS)),
             (local(2026, 11, 18, 10), dict(status="closed", status_raw="Closed", actor="Ada Lovelace"))),
        # Grace's, opened and closed this week
        fold(t, "goc:205",
             (local(2026, 11, 18, 9), dict(title="Quick one", status="open", assignees=(TRIAGE,), actor=OPS)),
             (local(2026, 11, 18, 12), dict(assignees=(TRIAGE, "Grace Hopper"), actor=OPS)),
             (local(2026, 11, 19, 9), dict(status="closed", status_raw="Closed", actor="Grace Hopper"))),
    ]


@pytest.fixture(scope="module")
def week_handoff():
    due = handoff(week_tickets(), LEDGER, TEAM, FRIDAY)
    return due, *read(due, FRIDAY)


@pytest.fixture(scope="module")
def empty_handoff():
    due = handoff([], LEDGER, TEAM, FRIDAY)
    return due, *read(due, FRIDAY)


def owned(key, **kw):
    kw.setdefault("last_team_update_at", liso(2026, 11, 13, 10))      # two business days and more by Wednesday
    return ticket(key, owner=ADA, assignees=(TRIAGE, "Ada Lovelace"), assignment_order=(ADA,),
                  opened_at=liso(2026, 11, 2, 10), owner_changed_at=liso(2026, 11, 2, 10),
                  next_action="Investigate", **kw)


def decide(tickets, kind, now=WEDNESDAY):
    found = [d for d in due_reminders(tickets, LEDGER, TEAM, [], now) if d.kind == kind]
    assert len(found) == 1, found
    return found[0]


def digest():
    unowned = ticket("goc:5", title="Nobody's yet", opened_at=liso(2026, 11, 2, 10), assignees=(TRIAGE,),
                     next_action="SOFTWARE TRIAGE")
    several = ticket("goc:6", title="Too many cooks", owner=ADA, assignees=("Ada Lovelace", "Grace Hopper"),
                     assignment_order=(ADA, GRACE), opened_at=liso(2026, 11, 2, 10), triage_removed=True,
                     last_team_update_at=liso(2026, 11, 18, 9))
    return decide([unowned, several], "unassigned")


def waiting():
    return ticket("rt:1", owner=ALAN, assignees=("Alan Turing",), assignment_order=(ALAN,), status="waiting-on-user",
                  status_raw="Customer", status_since=liso(2026, 11, 5, 10), opened_at=liso(2026, 11, 2, 10),
                  owner_changed_at=liso(2026, 11, 2, 10), submitter="jane@example.edu", title="Cannot install")


def every_mail():
    """kind: (due, moment) of each HTML mail these templates make (user.* is someone else's)."""
    away_moment, close_moment = local(2026, 12, 22, 9, 30), local(2026, 11, 24, 9, 30)
    away = owned("goc:7", last_team_update_at=liso(2026, 12, 16, 10))
    return {
        "handoff": lambda: (handoff(week_tickets(), LEDGER, TEAM, FRIDAY), FRIDAY),
        "unassigned": lambda: (digest(), WEDNESDAY),
        "announcement": lambda: (decide([], "announcement"), WEDNESDAY),
        "owner": lambda: (decide([owned("goc:1")], "owner"), WEDNESDAY),
        "owner-away": lambda: (decide([away], "owner-away", away_moment), away_moment),
        "close": lambda: (decide([waiting()], "close", close_moment), close_moment),
        # SPEC 10
        "work-done": lambda: (spec10.one(spec10.dues(work_items(), WEDNESDAY), "work-done"), WEDNESDAY),
        "silence": lambda: (spec10.one(spec10.dues([], WEDNESDAY, stream_meta=spec10.stream()), "silence"),
                            WEDNESDAY),
        "brief": lambda: (spec10.one(spec10.dues(work_items() + [spec10.unowned(), spec10.stale(), spec10.waiting()],
                                                 spec10.BRIEF_AT, snoozes=spec10.snoozed("rt:1234")), "brief"),
                          spec10.BRIEF_AT),
    }


def work_items():
    return [spec10.support(links=(spec10.JIRA, spec10.GITHUB, spec10.UNCARRIED)), spec10.item("jira:SOFT-12"),
            spec10.item("github:org/repo#7", status="closed", closed=liso(2026, 11, 17, 16, 40))]


MAILS = every_mail()
_read = {}


def mail(kind):
    """(due, text, HTML document) of one kind, decided and composed once."""
    if kind not in _read:
        due, now = MAILS[kind]()
        _read[kind] = (due, *read(due, now))
    return _read[kind]


# --- the handoff's chart -------------------------------------------------------------------------

def chart(doc):
    """[(week, label, count, bar width in percent or None, the cell the bar is measured in)]."""
    [head] = [h for h in doc.iter("h3") if "last eight weeks" in words(h)]
    table = next(el for el in head.itersiblings() if el.tag == "table")
    rows, week = [], None
    for tr in table.iter("tr"):
        cells = [c for c in tr if c.tag in ("td", "th")]
        if cells and DATE.fullmatch(words(cells[0])):
            week = words(cells[0])
        labels = [c for c in cells if re.fullmatch(r"\d+ (open|new|closed)", words(c))]
        if not labels:
            continue
        [label] = labels
        n, what = words(label).split()
        bars = [el for el in tr.iter() if el is not tr and "background" in " ".join(style(el))
                and label not in [el, *el.iterancestors()]]
        width, box = None, None
        if bars:
            [bar] = bars
            sized = next(el for el in [bar, *bar.iterancestors()]
                         if "%" in (style(el).get("width") or el.get("width") or ""))
            width = float((style(sized).get("width") or sized.get("width")).rstrip("%"))
            # a td's percentage is of its table, a table's of the cell around it
            box = next(sized.iterancestors("table")) if sized.tag == "td" else sized.getparent()
        rows.append((week, what, int(n), width, box))
    return rows


def test_chart_shows_open_new_and_closed_for_each_of_the_eight_weeks(week_handoff):
    due, _, doc = week_handoff
    rows = chart(doc)
    for w in due.data["weekly"]:
        shown = {what: n for week, what, n, _, _ in rows if week == w["week"]}
        assert shown == {"open": w["open"], "new": w["new"], "closed": w["closed"]}, w["week"]
    assert sum(n for _, what, n, _, _ in rows if what == "closed") == 2


def test_chart_bars_are_proportional_to_the_counts_and_a_zero_draws_nothing(week_handoff):
    _, _, doc = week_handoff
    rows = chart(doc)
    assert {n for _, _, n, _, _ in rows} >= {0, 1, 2, 3}
    top = max(n for _, _, n, _, _ in rows)
    for week, what, n, width, box in rows:
        if n == 0:
            assert width is None, (week, what)
            continue
        assert width == pytest.approx(100 * n / top, abs=0.5), (week, what, n)
        # the bar is measured against a cell that holds nothing else: no label eats into it
        assert words(box) == "", (week, what, words(box))
    # every bar is measured against the same column, so their widths compare
    columns = {(b.getparent().index(b) if b.tag == "td" else b.getparent().getparent().index(b.getparent()))
               for _, _, n, _, b in rows if n}
    assert len(columns) == 1 and len({b.tag for _, _, n, _, b in rows if n}) == 1
    widths = {(what, n): width for _, what, n, width, _ in rows if n}
    assert widths[("new", 2)] == pytest.approx(2 * widths[("open", 1)], abs=0.5)   # twice the tickets, twice as wide


# --- the handoff's tables ------------------------------------------------------------------------

def columns_of(tr):
    return sum(int(c.get("colspan", "1")) for c in tr if c.tag in ("td", "th"))


def test_open_tickets_by_owner_is_one_table_with_a_header_and_aligned_columns(week_handoff):
    due, _, doc = week_handoff
    tables = [el for el in section(doc, "Open tickets by owner") if el.tag == "table"]
    assert len(tables) == 1
    [table] = tables
    rows = list(table.iter("tr"))
    header = rows[0]
    assert [c.tag for c in header] == ["th"] * len(header) and len(header) >= 3
    assert all(words(c) for c in header)
    assert {columns_of(tr) for tr in rows} == {len(header)}
    for owner, items in due.data["by_owner"].items():
        assert any(owner in words(tr) for tr in rows), owner
        for t in items:
            [row] = [tr for tr in rows if t["key"] in words(tr)]
            assert len([c for c in row if c.tag == "td"]) == len(header), t["key"]


def test_empty_sections_are_shown_saying_none(empty_handoff):
    _, text, doc = empty_handoff
    empty = re.findall(r"^(\S[^\n(]*?)(?: \(\d+\))?:\n  none$", text, re.M)
    assert len(empty) >= 8, empty
    for name in empty:
        shown = " ".join(words(el) for el in section(doc, name))
        assert shown == "none", (name, shown)


def test_filled_sections_list_their_tickets(week_handoff):
    due, _, doc = week_handoff
    for name, key in [("Unassigned", "unassigned"), ("Opened this week", "opened"), ("Closed this week", "closed"),
                      ("Open for over 30 days", "over_30_days"), ("Warnings", "warnings")]:
        shown = " ".join(words(el) for el in section(doc, name))
        assert due.data[key], key
        for t in due.data[key]:
            assert t["key"] in shown and t["title"] in shown, (name, t["key"])


# --- the digest ----------------------------------------------------------------------------------

def test_every_digest_item_links_to_its_ticket():
    due, _, doc = mail("unassigned")
    assert due.data["flagged"] and due.data["tickets"]
    links = {a.get("href"): words(a) for a in doc.iter("a")}
    for t in due.data["tickets"] + due.data["flagged"]:
        assert links.get(t["url"]) == t["key"], t["key"]
    worth = " ".join(lhtml.tostring(el, encoding="unicode") for el in section(doc, "Also worth a look"))
    assert 'href="https://ticket.example.org/6"' in worth


def test_the_digest_greets_before_anything_else():
    _, text, doc = mail("unassigned")
    first = words(content_cell(doc))
    assert first.startswith("Hello,"), first[:60]
    assert text.startswith("Hello,")


# --- the page itself -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(MAILS))
def test_no_empty_gap_above_the_first_line(kind):
    _, _, doc = mail(kind)
    cell = content_cell(doc)
    assert not (cell.text or "").strip()
    first = cell[0]
    assert words(first), kind
    if first.tag in ("p", "h1", "h2", "h3", "ul", "ol"):       # blocks with a default top margin
        assert margin_top(first) in ("0", "0px"), (kind, first.tag, first.get("style"))


@pytest.mark.parametrize("kind", sorted(MAILS))
def test_dates_never_break(kind):
    _, _, doc = mail(kind)
    seen = 0
    for el in content_cell(doc).iter():
        for owner, piece in ((el, el.text), (el.getparent(), el.tail)):
            for m in DATE.finditer(piece or ""):
                seen += 1
                assert nowrap(owner), (kind, m.group(), words(owner)[:80])
    assert seen or kind == "close", kind


@pytest.mark.parametrize("kind", sorted(MAILS))
def test_links_are_styled_and_nothing_is_fetched_or_run(kind):
    _, _, doc = mail(kind)
    for a in doc.iter("a"):
        assert style(a).get("color"), (kind, lhtml.tostring(a))       # not the reader's default blue
    assert not list(doc.iter("script", "img", "link", "iframe", "object", "embed"))
    assert not any(k.startswith("on") for el in doc.iter() for k in el.attrib)


def test_the_announcement_names_the_people_on_duty_with_styled_links():
    due, _, doc = mail("announcement")
    cell = content_cell(doc)
    for w in (due.data["this_week"], due.data["next_week"]):
        [a] = [a for a in cell.iter("a") if a.get("href") == f"mailto:{w['email']}"]
        assert style(a).get("color") and style(a)["color"] not in ("blue", "#0000ee")
        assert any(b.tag == "b" and words(b) == w["name"] for b in cell.iter("b")), w["name"]


# --- units ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(MAILS))
def test_every_duration_names_its_unit_in_words_and_agrees_in_number(kind):
    _, _, doc = mail(kind)
    shown = words(content_cell(doc))
    assert not re.search(r"(?<![\w.:-])\d+(?:\.\d+)? ?(?:h|hrs?|d|bd|wk)\b", shown), shown
    units = UNIT.findall(shown)
    for n, unit, plural in units:
        assert (float(n) == 1) == (plural == ""), f"{n} {unit} in {kind}"


def test_handoff_rows_count_days_in_words(week_handoff):
    due, _, doc = week_handoff
    [table] = [el for el in section(doc, "Open tickets by owner") if el.tag == "table"]
    idle = []
    for items in due.data["by_owner"].values():
        for t in items:
            [row] = [tr for tr in table.iter("tr") if t["key"] in words(tr)]
            assert count(t["age_days"], "day") in words(row)
            assert count(t["idle_days"], "business day") in words(row)
            idle.append(t["idle_days"])
    assert 1 in idle and any(i > 1 for i in idle)          # both "1 business day" and "N business days"
    shown = " ".join(words(el) for el in section(doc, "Open for over 30 days"))
    for t in due.data["over_30_days"]:
        assert count(t["age_days"], "day") in shown


def test_reminders_count_business_days_and_hours_in_words():
    due, _, doc = mail("unassigned")
    shown = words(content_cell(doc))
    for t in due.data["tickets"]:
        assert count(t["hours"], "business hour") + " ago" in shown
    due, _, doc = mail("owner")
    shown = words(content_cell(doc))
    assert count(due.data["ticket"]["idle_days"], "business day") in shown
    assert count(due.data["ticket"]["age_days"], "day") + " ago" in shown
    due, _, doc = mail("close")
    assert count(due.data["ticket"]["waiting_days"], "business day") in words(content_cell(doc))
