"""A real SMTP server for the live tests: aiosmtpd on 127.0.0.1, recording what it accepts.

`refuse` makes it answer RCPT with a chosen reply (e.g. "550 5.1.1 no such user", or
"451 4.3.0 try later") so the outbox's permanent/temporary handling is tested against real
protocol replies. aiosmtpd's Controller cannot use port 0 (its readiness probe connects to the
configured port), so a free port is picked first. Keyword arguments go to aiosmtpd's SMTP
(`enable_SMTPUTF8=True`, `authenticator=...`).
"""
from __future__ import annotations

import socket
from email import message_from_bytes
from email.policy import default

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    def __init__(self):
        self.messages: list[dict] = []
        self.refuse: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                              "message": message_from_bytes(envelope.content, policy=default),
                              "raw": envelope.content})
        return "250 OK"


class SmtpServer:
    def __init__(self, **smtp_parameters):
        self.sink = Sink()
        self.port = free_port()
        self.controller = None
        self.parameters = smtp_parameters

    def start(self):
        """(Re)start on the same port; a stopped Controller cannot be started again."""
        if self.controller is None:
            self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port, **self.parameters)
            self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        return self.sink.messages
