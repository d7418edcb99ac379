"""SPEC 9 at the parse stage: every hostile mail gets a verdict, never an exception or a hang.

Each mail of tests/hostile/corpus.py goes through `classify(RawMail(data, origin), team)` (a mail
over the size limit as a source delivers it: header only, `oversize` set) under a hard cap of
HANG_CAP seconds of wall time that turns a hang into a failure; there are no timing asserts
otherwise (bench/hostile_bench.py prints the CPU figures). Then hypothesis mutates the real
notifications of tests/parse/fixtures (byte flips, truncation, duplicated headers, long runs of one
character at a random point, CRLF/LF/CR swaps, random encoded words in From and Subject): classify
never raises, and what it accepts is a change of the fixture's own system whose submitter the
mail's text actually names.
"""
from __future__ import annotations

import base64
import email
import email.header
import json
import re
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:          # `tests.hostile` from the repository root, whatever pytest's rootdir
    sys.path.insert(0, str(ROOT))

from maildaemon.model import RawMail  # noqa: E402
from maildaemon.parse import Accepted, Ignored, Quarantined, classify  # noqa: E402
from tests.hostile.corpus import (FIXTURES, PRECLAIMED, as_delivered, by_name, corpus, legitimate,  # noqa: E402
                                  team, team_toml)

HANG_CAP = 10.0            # seconds of wall time; SPEC 9 allows about one second of CPU per mail
TEAMS = {"plain": team(), "auth": team(auth=True)}
OUTSIDERS = ("outsider.test", "attacker.test")
KIND = {Accepted: "applied", Ignored: "ignored", Quarantined: "quarantined"}


class Hang(BaseException):
    """Raised by the alarm: a BaseException, so the code under test cannot swallow it as an error."""


@contextmanager
def hang_cap(seconds: float, fired: list):
    def alarm(signum, frame):
        fired.append(True)
        raise Hang(f"classify still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def judge(raw: RawMail, t, cap: float = HANG_CAP):
    """classify under the cap; a hang, an exception or a swallowed alarm is a failure."""
    fired: list = []
    problem = None
    try:
        with hang_cap(cap, fired):
            verdict = classify(raw, t)
    except Hang as e:
        problem = f"hang: {e}"
    except BaseException as e:   # noqa: BLE001 - any raise is the finding
        problem = f"classify raised {type(e).__name__}: {str(e)[:300]}"
    if problem:
        pytest.fail(problem, pytrace=False)
    if fired:
        pytest.fail(f"classify ran over {cap:g} s and swallowed the alarm", pytrace=False)
    assert isinstance(verdict, (Accepted, Ignored, Quarantined)), f"not a verdict: {verdict!r}"
    return verdict


def describe(v) -> str:
    if isinstance(v, Accepted):
        return f"Accepted {v.change.key} (submitter {v.change.submitter!r})"
    return f"{type(v).__name__}: {v.reason}"


def names_an_outsider(change) -> list[str]:
    values = [change.submitter, change.url, change.actor, *(change.cc or ()), *(change.assignees or ()),
              *change.assignees_added]
    return [v for v in values if v and any(d in v.lower() for d in OUTSIDERS)]


# --- the corpus ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [c.name for c in corpus()])
def test_hostile_mail_gets_its_verdict(name):
    case = by_name(name)
    v = judge(as_delivered(case, f"hostile:{name}"), TEAMS[case.team])
    assert KIND[type(v)] in case.outcomes, f"{name}: expected {case.expect}, got {describe(v)}"
    if case.spoof:
        assert not isinstance(v, Accepted), f"{name}: a spoofed sender was accepted: {describe(v)}"
    if isinstance(v, Quarantined):
        assert v.reason and v.reason.strip(), f"{name}: a quarantine without a reason"
        if case.reason:
            assert v.reason.startswith(case.reason), f"{name}: reason {v.reason!r}, expected {case.reason!r}…"
    if isinstance(v, Accepted):
        c = v.change
        assert c.key == f"{c.system}:{c.id}"
        if case.key:
            assert c.key == case.key, f"{name}: changed {c.key}, expected {case.key}"
        for attr, value in case.fields:
            assert getattr(c, attr) == value, f"{name}: {attr} = {getattr(c, attr)!r}, expected {value!r}"
        assert not names_an_outsider(c), f"{name}: the change names {names_an_outsider(c)}"


def test_the_corpus_covers_what_spec_9_names():
    reasons = {c.reason for c in corpus() if c.reason}
    assert {"too large", "untrusted", "regex timeout: systems.slowkey.key"} <= reasons
    assert {c.team for c in corpus()} == {"plain", "auth"}
    assert sum(c.spoof for c in corpus()) >= 25
    assert {"applied", "ignored", "quarantined"} <= {o for c in corpus() for o in c.outcomes}


def test_an_11_mb_mail_read_whole_still_gets_a_verdict():
    """Without the source's cut (`oversize`), the whole 11 MB mail must still not raise or hang."""
    case = by_name("too_large_11mb")
    judge(RawMail(case.data, "hostile:whole"), TEAMS["plain"], cap=60)


def test_the_real_owner_of_a_preclaimed_message_id_is_accepted():
    legit = {lg.name: lg for lg in legitimate()}
    for hostile, path in PRECLAIMED.items():
        h = by_name(hostile)
        assert h.message_id == legit[path].message_id
        assert not isinstance(judge(as_delivered(h), TEAMS["plain"]), Accepted)
        v = judge(RawMail(legit[path].data, path), TEAMS["plain"])
        assert isinstance(v, Accepted) and v.change.key == legit[path].key, describe(v)


def test_a_preclaimed_message_id_does_not_keep_the_real_notification_out(cli, tmp_path):
    """Through `sync` from a Maildir: only an applied notification claims its Message-ID (SPEC 9)."""
    cli.team_file.write_text(team_toml())
    box = tmp_path / "maildir"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    legit = {lg.name: lg for lg in legitimate()}
    mails = []
    for hostile, path in PRECLAIMED.items():
        mails += [by_name(hostile).data, legit[path].data]         # the imitation arrives first
    for i, raw in enumerate(mails):
        (box / "new" / f"{1795900000 + i}.M{i}P1.test").write_bytes(raw)
    code, out, err = cli("sync", MAILDAEMON_MAILDIR=str(box))
    assert code == 0, err
    code, out, err = cli("tickets", "--json", "--all", MAILDAEMON_MAILDIR=str(box))
    assert code == 0, err
    keys = {t["key"] for t in json.loads(out)}
    assert {legit[p].key for p in PRECLAIMED.values()} <= keys, keys


# --- hypothesis: the real fixtures, mutated --------------------------------------------------

FIXTURE_FILES = sorted(FIXTURES.glob("*/*.eml"))
HYP_TEAM = TEAMS["plain"]
SETTINGS = settings(max_examples=100, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])
RUN_CHARS = b" :[]<>()=;,#-\t\r\n\"'a0=\\\x00\xff"
CHARSETS = ["utf-8", "iso-8859-1", "x-no-such-charset", "utf-7", "", "utf-16", "gb2312", "us-ascii", "utf-8*en"]


def system_of(path: Path) -> str:
    return "freshdesk" if path.parent.name == "custom" else path.parent.name


def _header_end(data: bytes) -> int:
    ends = [i for i in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if i >= 0]
    return min(ends) if ends else len(data)


def _flip(draw, data: bytearray) -> bytearray:
    for _ in range(draw(st.integers(1, 8))):
        if data:
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= draw(st.integers(1, 255))
    return data


def _truncate(draw, data: bytearray) -> bytearray:
    return data[:draw(st.integers(0, len(data)))]


def _duplicate_header(draw, data: bytearray) -> bytearray:
    head = bytes(data[:_header_end(bytes(data))])
    lines = head.split(b"\n")
    if not lines:
        return data
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines)))
    copies = [lines[i]] * draw(st.integers(1, 3))
    lines[j:j] = copies
    return bytearray(b"\n".join(lines) + bytes(data[len(head):]))


def _insert_run(draw, data: bytearray) -> bytearray:
    i = draw(st.integers(0, len(data)))
    c = draw(st.sampled_from(list(RUN_CHARS)))
    n = draw(st.sampled_from([100, 1000, 5000, 20000, 50000]))
    return data[:i] + bytes([c]) * n + data[i:]


def _line_endings(draw, data: bytearray) -> bytearray:
    mode = draw(st.sampled_from(["lf", "crlf", "cr", "mixed"]))
    text = bytes(data).replace(b"\r\n", b"\n")
    if mode == "lf":
        return bytearray(text)
    if mode == "crlf":
        return bytearray(text.replace(b"\n", b"\r\n"))
    if mode == "cr":
        return bytearray(text.replace(b"\n", b"\r"))
    lines = text.split(b"\n")
    ends = draw(st.lists(st.sampled_from([b"\n", b"\r\n", b"\r"]), min_size=len(lines), max_size=len(lines)))
    return bytearray(b"".join(line + end for line, end in zip(lines, ends)))


@st.composite
def encoded_word(draw) -> bytes:
    charset = draw(st.sampled_from(CHARSETS))
    enc = draw(st.sampled_from("QqBbX"))
    payload = draw(st.binary(max_size=40))
    if enc in "Bb":
        text = base64.b64encode(payload)
        if draw(st.booleans()):
            text = text.rstrip(b"=") + draw(st.sampled_from([b"", b"!", b"=", b"===", b"@"]))
    else:
        text = b"".join(bytes([b]) if 0x21 <= b < 0x7f and b not in b"?=_" else b"=%02X" % b for b in payload)
        if draw(st.booleans()):
            text += draw(st.sampled_from([b"=", b"=Z", b"?", b" ", b"\r\n "]))
    return b"=?" + charset.encode() + b"?" + enc.encode() + b"?" + text + b"?="


def _encoded_words(draw, data: bytearray) -> bytearray:
    name = draw(st.sampled_from([b"From", b"Subject"]))
    m = re.search(rb"(?im)^" + name + rb":[ \t]*", bytes(data[:_header_end(bytes(data))]))
    words = b" ".join(draw(st.lists(encoded_word(), min_size=1, max_size=4)))
    if not m:
        return bytearray(name + b": " + words + b"\r\n") + data
    where = draw(st.sampled_from(["start", "replace-name", "inside"]))
    at = m.end()
    if where == "start":
        return data[:at] + words + b" " + data[at:]
    line_end = data.find(b"\n", at)
    line_end = len(data) if line_end < 0 else line_end
    if where == "replace-name":
        line = bytes(data[at:line_end])
        lt = line.rfind(b"<")
        rest = line[lt:] if lt >= 0 else b"<" + line.strip() + b">"
        return data[:at] + words + b" " + rest + data[line_end:]
    i = draw(st.integers(at, line_end))
    return data[:i] + words + data[i:]


OPS = [_flip, _truncate, _duplicate_header, _insert_run, _line_endings, _encoded_words]


@st.composite
def mutated_fixture(draw, ops=tuple(OPS), most=3):
    path = draw(st.sampled_from(FIXTURE_FILES))
    data = bytearray(path.read_bytes())
    for _ in range(draw(st.integers(1, most))):
        data = draw(st.sampled_from(list(ops)))(draw, data)
    return path, bytes(data)


def _text_of(data: bytes, v) -> str:
    """Everything the mail says, as bytes and as decoded: where a submitter may come from."""
    parts = [data.decode("latin-1"), data.decode("utf-8", "replace"), v.mail.text, v.mail.html, v.mail.subject]
    try:
        msg = email.message_from_bytes(data)
        for _, value in msg.items():
            try:
                parts.append(str(email.header.make_header(email.header.decode_header(str(value)))))
            except Exception:   # noqa: BLE001 - a broken header is still raw text above
                parts.append(str(value))
    except Exception:   # noqa: BLE001
        pass
    return "\n".join(parts).lower()


def check_mutation(path: Path, data: bytes):
    v = judge(RawMail(data, f"mutated:{path.parent.name}/{path.name}"), HYP_TEAM)
    if isinstance(v, Accepted):
        c = v.change
        assert c.key == f"{c.system}:{c.id}", c.key
        assert c.system == system_of(path), f"{path.parent.name}/{path.name} became {c.key}"
        if c.submitter:
            assert c.submitter.lower() in _text_of(data, v), f"submitter {c.submitter!r} is not in the mail"
        assert not names_an_outsider(c)


@SETTINGS
@given(mutated_fixture())
def test_mutated_fixtures_never_raise(sample):
    check_mutation(*sample)


@SETTINGS
@given(mutated_fixture(ops=(_insert_run,), most=2))
def test_long_runs_at_random_points_never_raise(sample):
    check_mutation(*sample)


@SETTINGS
@given(mutated_fixture(ops=(_encoded_words, _duplicate_header, _line_endings), most=3))
def test_encoded_words_duplicate_headers_and_line_endings_never_raise(sample):
    check_mutation(*sample)


@SETTINGS
@given(mutated_fixture(ops=(_flip, _truncate), most=2))
def test_flipped_and_truncated_fixtures_never_raise(sample):
    check_mutation(*sample)
