"""SMTP servers for the live tests, on 127.0.0.1.

`SmtpServer`: a real aiosmtpd, recording what it accepts (`messages`) and every answer it gave
to RCPT and at the end of DATA (`sink.answers`). It can refuse with a chosen reply, so the outbox's
permanent/temporary handling is tested against real protocol replies:
- `sink.refuse`: the reply to every RCPT (e.g. "550 5.1.1 no such user", "451 4.3.0 try later");
- `sink.rcpt`: a function of the address giving its RCPT reply, None to accept;
- `sink.data`: a function of the message giving the reply after its final ".", None to accept.
tests/live/test_send.py and test_send_retries.py use them (a 550 and a 451 at RCPT, a 451 and a
554 after DATA). aiosmtpd's Controller cannot use port 0 (its readiness probe connects to the
configured port), so a free port is picked first. Keyword arguments go to aiosmtpd's SMTP
(`enable_SMTPUTF8=True`, `authenticator=...`).

`Scripted`: a small SMTP server on a plain socket for what aiosmtpd cannot be made to do: answer
the DATA command itself (not the final ".") with a 4xx, answer in several lines, or say 421 and
hang up in the middle of a session.
"""
from __future__ import annotations

import socket
import threading
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
        self.answers: list[tuple[str, str, str]] = []      # (stage, address or Message-ID, reply)
        self.refuse: str | None = None
        self.rcpt = lambda address: None
        self.data = lambda message: None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.refuse or self.rcpt(address) or "250 OK"
        self.answers.append(("RCPT", address, reply))
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=default)
        reply = self.data(message) or "250 OK"
        self.answers.append(("DATA", message["Message-ID"], reply))
        if reply.startswith("250"):
            self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                  "message": message, "raw": envelope.content})
        return reply

    def tried(self, message_id: str) -> int:
        """How many times a mail reached the end of DATA (accepted or not)."""
        return sum(1 for stage, what, _ in self.answers if stage == "DATA" and what == message_id)


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


class Scripted:
    """An SMTP server that answers from a script, one thread per connection.

    `replies` maps a verb (`MAIL`, `RCPT`, `DATA`, and `.` for the end of the data) to the replies
    it gets in turn, the last one repeating; a reply may hold several lines ("554-...\\r\\n554 ...").
    Other verbs get 250 (EHLO: the extensions of a plain server), DATA 354 unless scripted. Like
    Postfix, it refuses a MAIL while a transaction is open: only the reply to the final "." or an
    RSET ends one (a refused DATA command does not). After a reply starting with 421 the server
    hangs up, as RFC 5321 says. `heard` holds every command
    line received, `delivered` the data of each mail answered 250 at its final ".".
    """

    def __init__(self, replies: dict[str, list[str]]):
        self.replies = {verb: list(r) for verb, r in replies.items()}
        self.heard: list[str] = []
        self.delivered: list[bytes] = []
        self.connections = 0
        self._lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _reply(self, verb: str, default: str) -> str:
        with self._lock:
            queue = self.replies.get(verb)
            if not queue:
                return default
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as lines:
            conn.sendall(b"220 scripted ESMTP\r\n")
            mail = False                           # a transaction is open (MAIL taken, no end yet)
            for line in lines:
                command = line.decode("utf-8", "replace").strip()
                self.heard.append(command)
                verb = command.split(" ", 1)[0].upper()
                if verb == "EHLO":
                    reply = "250-scripted\r\n250 8BITMIME"
                elif verb == "QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                elif verb == "RSET":
                    mail, reply = False, "250 ok"
                elif verb == "MAIL" and mail:          # as Postfix: a failed DATA leaves the transaction open
                    reply = "503 5.5.1 Error: nested MAIL command"
                else:
                    reply = self._reply(verb, "354 go ahead" if verb == "DATA" else "250 ok")
                    mail = mail or (verb == "MAIL" and reply.startswith("250"))
                if verb == "DATA" and reply.startswith("354"):
                    conn.sendall(reply.encode() + b"\r\n")
                    data = bytearray()
                    for body in lines:
                        if body == b".\r\n":
                            break
                        data += body
                    self.heard.append(".")
                    reply, mail = self._reply(".", "250 queued"), False
                    if reply.startswith("250"):
                        self.delivered.append(bytes(data))
                conn.sendall(reply.encode() + b"\r\n")
                if reply.startswith("421"):
                    return

    def close(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
