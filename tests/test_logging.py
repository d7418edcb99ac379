"""What the log shows: maildaemon's own DEBUG, never a library's wire dump; timestamps for the daemon."""
import io
import logging
import mailbox
import re
from datetime import datetime

from builders import CST, goc_mail
from maildaemon.cli import logs


def test_debug_shows_our_steps_and_never_a_mail_body(cli):
    box = mailbox.Maildir(cli.root / "maildir")
    box.add(goc_mail(41234, "Pilot jobs fail", datetime(2026, 11, 23, 9, tzinfo=CST), n=1,
                     entries=[(datetime(2026, 11, 23, 9, tzinfo=CST), "Jane User", "my password is hunter2")]))
    code, out, err = cli("sync", MAILDAEMON_MAILDIR=str(cli.root / "maildir"), MAILDAEMON_LOG_LEVEL="DEBUG")
    assert code == 0, err
    assert "applied goc:41234" in err                       # DEBUG is on for maildaemon
    assert "hunter2" not in err


def test_debug_leaves_libraries_at_warning():
    stream = io.StringIO()
    before = logging.getLogger().handlers[:], logging.getLogger().level, logging.getLogger("maildaemon").level
    with logs.restored() as handlers:
        handlers.append(logs.setup("DEBUG", stream))
        logging.getLogger("imapclient.imaplib").debug("> 3 LOGIN ada secret")
        logging.getLogger("maildaemon.ingest").debug("our step")
    assert (logging.getLogger().handlers, logging.getLogger().level, logging.getLogger("maildaemon").level) == before
    assert "our step" in stream.getvalue()
    assert "LOGIN" not in stream.getvalue()


def test_the_daemon_outside_journald_stamps_each_line(monkeypatch):
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    for daemon, pattern in ((True, r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d{4} maildaemon: INFO started$"),
                            (False, r"^maildaemon: INFO started$")):
        stream = io.StringIO()
        with logs.restored() as handlers:
            handlers.append(logs.setup("INFO", stream, daemon=daemon))
            logging.getLogger("maildaemon").info("started")
        assert re.match(pattern, stream.getvalue().strip()), stream.getvalue()
