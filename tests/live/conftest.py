"""Live-test fixtures: one real Dovecot per session (see dovecot.py), a fresh user per test."""
from __future__ import annotations

import itertools
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from dovecot import DOVECOT, Dovecot, Mailbox  # noqa: E402


@pytest.fixture(scope="session")
def dovecot_server():
    if not os.path.exists(DOVECOT):
        pytest.skip(f"{DOVECOT} is missing: install dovecot-imapd to run the live IMAP tests")
    server = Dovecot()
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


_users = itertools.count(1)


@pytest.fixture
def dovecot(dovecot_server, request):
    """A fresh user on the running Dovecot; the server is restarted afterwards if a test stopped it."""
    user = f"u{next(_users)}"
    box = Mailbox(dovecot_server, user, f"pw-{user}-Secr3t")
    dovecot_server.add_user(box.user, box.password)
    yield box
    dovecot_server.start()
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        print("--- dovecot.log (last 40 lines) ---\n" + "\n".join(dovecot_server.log().splitlines()[-40:]))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the item, so the fixture can show dovecot.log on failure."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture
def smtp_server():
    """A fresh aiosmtpd on a free port of 127.0.0.1 for one test."""
    from smtp import SmtpServer
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
