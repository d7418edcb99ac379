"""Our own mail, recognised by something only this installation can produce.

Everything maildaemon sends goes to people who are on the stream list, so its mail comes back
through the stream. It is recognised by its Message-ID, which ends in a keyed token:
`<maildaemon.KIND.ABOUT.PERIOD.TOKEN@domain>` with TOKEN = HMAC-SHA256(key, the rest)[:20 hex].
The key lives in `STATE_DIR/key` (0600, made on first use by store/key.py), so a stranger who posts a mail whose
Message-ID merely starts with `<maildaemon.` (or guesses the id of a queued announcement) is an
ordinary mail to classify: it can neither hide from the quarantine nor mark a queued mail sent.
The id stays a pure function of what the mail is about (and the key), so a mail re-decided after
a crash has the same id and the outbox refuses it twice.
"""
from __future__ import annotations

import hashlib
import hmac
import re

PREFIX = "maildaemon."
_OURS = re.compile(r"^<maildaemon\.(?P<body>[A-Za-z0-9.-]{1,400})\.(?P<mac>[0-9a-f]{20})@[^<>@\s]{1,255}>$")


def _mac(body: str, key: bytes) -> str:
    return hmac.new(key, body.encode("ascii"), hashlib.sha256).hexdigest()[:20]


def message_id(body: str, domain: str, key: bytes) -> str:
    """`<maildaemon.BODY.TOKEN@domain>`; BODY is `[A-Za-z0-9.-]` only."""
    return f"<{PREFIX}{body}.{_mac(body, key)}@{domain}>"


def is_ours(message_id: str, key: bytes | None) -> bool:
    """True only for a Message-ID this installation made (the token checks out with our key)."""
    if not key:
        return False
    m = _OURS.match(message_id or "")
    return bool(m) and hmac.compare_digest(m.group("mac"), _mac(m.group("body"), key))


def looks_ours(message_id: str) -> bool:
    """Has our prefix, whoever wrote it (older versions had no token)."""
    return (message_id or "").lower().startswith("<" + PREFIX)
