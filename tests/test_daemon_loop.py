"""The daemon's loop only orders its steps: it asks the stream to wait, reads it when told to, and
reports a stream it cannot reach (the stream's own backoff says when it tries again). A reload
replaces the configuration and the stream whole, or keeps the running ones. In process, with a
stand-in stream; tests/live/test_daemon.py drives a real process against real servers."""
import logging
from datetime import datetime

import pytest

from builders import CST
from maildaemon.daemon import Daemon, _Wake
from maildaemon.notify import Notifier
from maildaemon.source import SourceError, Unavailable


class Stream:
    """A LiveSource that answers `wait` from a script (True, False or an exception to raise)."""
    id = "test:stream"

    def __init__(self, *answers):
        self.answers, self.waits, self.passes, self.closed = list(answers), [], 0, 0

    def wait(self, seconds, wake=None):
        self.waits.append((seconds, wake))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def batches(self, position):
        self.passes += 1
        return iter(())

    def close(self):
        self.closed += 1


class Heard(Notifier):
    """What systemd would hear."""

    def __init__(self):
        super().__init__({})
        self.heard = []

    def send(self, *fields):
        self.heard.append(fields)


@pytest.fixture
def daemon(cli, caplog):
    box = cli.root / "stream"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    caplog.set_level(logging.INFO, logger="maildaemon")
    d = Daemon(None, dict(cli.env, MAILDAEMON_MAILDIR=str(box)), lambda: datetime(2026, 11, 24, 9, 31, tzinfo=CST),
               notifier=Heard())
    d.wake = _Wake()
    return d


def said(caplog):
    return [r.getMessage() for r in caplog.records]


def test_the_stream_is_read_when_its_wait_says_so_and_only_then(daemon):
    daemon.source = stream = Stream(False, True)
    daemon.read_stream(wait=7)
    assert stream.waits == [(7, daemon.wake.r)] and stream.passes == 0
    daemon.read_stream(wait=7)
    assert stream.passes == 1


def test_a_stream_out_of_reach_is_reported_with_its_retry_and_the_loop_goes_on(daemon, caplog):
    daemon.source = stream = Stream(Unavailable("IMAP mail.example.org:993: connection lost: EOFError: gone", 2.2),
                                    True)
    daemon.read_stream(wait=5)
    assert said(caplog)[-1] == "IMAP mail.example.org:993: connection lost: EOFError: gone; reconnecting in 2s"
    assert ("STATUS=stream unavailable: IMAP mail.example.org:993: connection lost: EOFError: gone",) \
        in daemon.notify.heard
    daemon.read_stream(wait=5)                               # the stream's backoff has passed
    assert stream.passes == 1


def test_a_failing_pass_is_logged_in_one_line_and_the_loop_goes_on(daemon, caplog):
    daemon.source = stream = Stream(True, True)
    stream.batches = lambda position: (_ for _ in ()).throw(SourceError("/x is not a Maildir"))
    daemon.read_stream(wait=5)
    assert said(caplog)[-1] == "_ingest failed: /x is not a Maildir"
    daemon.read_stream(wait=5)                               # no exception left the loop
    assert len(stream.waits) == 2


def test_a_reload_swaps_the_stream_or_keeps_everything(daemon, cli, caplog):
    daemon.source = stream = Stream()
    team, settings = daemon.team, daemon.settings
    good = cli.team_file.read_text()
    cli.team_file.write_text(good.replace("[team]", "[team]\ntimezon = 'UTC'"))
    daemon.reload_requested = True
    daemon._reload()
    assert [m for m in said(caplog) if "reload" in m] == [
        "reload refused, keeping the running configuration: team.timezon: unknown key in [team]; "
        "did you mean timezone?"]
    assert daemon.source is stream and stream.closed == 0          # the running stream is kept
    assert daemon.team is team and daemon.settings is settings and not daemon.reload_requested
    assert daemon.notify.heard[-1][0] == "READY=1"                 # ready again, on the old configuration
    cli.team_file.write_text(good)
    daemon._reload()
    assert said(caplog)[-1] == "configuration reloaded"
    assert daemon.source is not stream and stream.closed == 1      # the new stream connects at its wait
    assert daemon.source.wait(0, daemon.wake.r) is True            # and reads at once
