"""A tiny real IMAP server on 127.0.0.1 that misbehaves on purpose (for test_imap_hostile.py).

Dovecot cannot be made to trickle a reply, so this speaks just enough IMAP4rev1 for ImapSource:
greeting, CAPABILITY, LOGIN, AUTHENTICATE PLAIN, EXAMINE/SELECT (with UIDVALIDITY), UID SEARCH,
UID FETCH (RFC822.SIZE, BODY.PEEK[], BODY.PEEK[HEADER]<0.n>), NOOP, LOGOUT. Real sockets, one
thread per connection, so the client under test runs its real code paths.

Modes (what happens to a message whose UID is in `slow`, or to every connection):
- "trickle": the FETCH of its body (or header) announces a literal `{N}` and then sends one byte
  every `pace` seconds, forever: each recv() gets data, so no read timeout ever fires;
- "drop": the connection is closed halfway through that literal;
- "silent": TCP is accepted, no greeting is ever sent;
- "slow-greeting": the greeting itself trickles, one byte every `pace` seconds.
"""
from __future__ import annotations

import base64
import re
import socket
import threading

CAPABILITIES = "IMAP4rev1 AUTH=PLAIN IDLE"
UIDVALIDITY = 42
_FETCH = re.compile(r"^UID FETCH (\S+) \((.*)\)", re.IGNORECASE)


class HostileImap:
    def __init__(self, mode: str, messages: dict[int, bytes], slow: set[int] = frozenset(),
                 sizes: dict[int, int] | None = None, user: str = "stream", password: str = "pw-Secr3t",
                 pace: float = 0.3):
        self.mode, self.messages, self.slow, self.pace = mode, dict(messages), set(slow), pace
        self.sizes = {u: len(m) for u, m in self.messages.items()}
        self.sizes.update(sizes or {})
        self.user, self.password = user, password
        self.host = "127.0.0.1"
        self.listener = socket.create_server((self.host, 0))
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.connections: list[socket.socket] = []
        self.commands: list[str] = []          # every command line received (for assertions)
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True, name="hostile-imap").start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        self.listener.close()
        with self.lock:
            for c in self.connections:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()

    # --- the server -----------------------------------------------------------------------

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True, name="hostile-conn").start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self._session(conn, conn.makefile("rb"))
        except OSError:
            pass                                # the client went away (or we were stopped)
        finally:
            conn.close()

    def _trickle(self, conn: socket.socket, data: bytes) -> None:
        """`data` one byte every `pace` seconds, then spaces (never a line end) the same way,
        until the client or the test gives up: the reply never completes."""
        i = 0
        while not self.stopping.wait(self.pace):
            conn.sendall(data[i:i + 1] or b" ")
            i += 1

    def _session(self, conn: socket.socket, reader) -> None:
        send = lambda text: conn.sendall(text.encode() if isinstance(text, str) else text)  # noqa: E731
        if self.mode == "silent":
            self.stopping.wait()
            return
        if self.mode == "slow-greeting":
            self._trickle(conn, b"* OK hostile server warming up")
            return
        send(f"* OK [CAPABILITY {CAPABILITIES}] hostile server ready\r\n")
        uids = sorted(self.messages)
        while not self.stopping.is_set():
            line = reader.readline()
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            with self.lock:
                self.commands.append(text)
            tag, _, rest = text.partition(" ")
            verb = rest.split(" ", 1)[0].upper()
            if verb == "CAPABILITY":
                send(f"* CAPABILITY {CAPABILITIES}\r\n{tag} OK done\r\n")
            elif verb == "LOGIN":
                user, password = _login_args(rest[len("LOGIN "):])
                send(self._auth_result(tag, user, password))
            elif verb == "AUTHENTICATE":
                send("+ \r\n")
                try:
                    _, user, password = base64.b64decode(reader.readline().strip()).decode("utf-8").split("\0")
                except ValueError:
                    user = password = ""
                send(self._auth_result(tag, user, password))
            elif verb in ("EXAMINE", "SELECT"):
                send(f"* {len(uids)} EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY {UIDVALIDITY}] UIDs valid\r\n"
                     f"* OK [UIDNEXT {max(uids, default=0) + 1}] next\r\n{tag} OK [READ-ONLY] done\r\n")
            elif verb == "NOOP":
                send(f"{tag} OK done\r\n")
            elif verb == "LOGOUT":
                send(f"* BYE bye\r\n{tag} OK done\r\n")
                return
            elif verb == "UID" and rest.upper().startswith("UID SEARCH"):
                send(f"* SEARCH {' '.join(map(str, uids))}\r\n{tag} OK done\r\n")
            elif verb == "UID" and _FETCH.match(rest):
                wanted, items = _FETCH.match(rest).groups()
                if not self._fetch(conn, send, uids, _uid_set(wanted), items.upper()):
                    return
                send(f"{tag} OK done\r\n")
            else:
                send(f"{tag} BAD unknown command\r\n")

    def _auth_result(self, tag: str, user: str, password: str) -> str:
        if (user, password) == (self.user, self.password):
            return f"{tag} OK Logged in\r\n"
        return f"{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"

    def _fetch(self, conn, send, uids: list[int], wanted: set[int], items: str) -> bool:
        """Answer one UID FETCH; False when the connection was dropped on purpose."""
        for seq, uid in enumerate(uids, start=1):
            if uid not in wanted:
                continue
            if "BODY" not in items:
                send(f"* {seq} FETCH (UID {uid} RFC822.SIZE {self.sizes[uid]})\r\n")
                continue
            key = "BODY[HEADER]<0>" if "HEADER" in items else "BODY[]"
            data = self.messages[uid]
            if "HEADER" in items:
                data = data.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
            if uid in self.slow:
                send(f"* {seq} FETCH (UID {uid} {key} {{{len(data)}}}\r\n")
                if self.mode == "drop":
                    send(data[:len(data) // 2])
                    conn.shutdown(socket.SHUT_RDWR)
                    return False
                self._trickle(conn, data)
                return False
            send(f"* {seq} FETCH (UID {uid} {key} {{{len(data)}}}\r\n".encode() + data + b")\r\n")
        return True


def _uid_set(text: str) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        lo, _, hi = part.partition(":")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def _login_args(text: str) -> tuple[str, str]:
    """LOGIN's two arguments, atoms or quoted strings (imaplib quotes when needed)."""
    args = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', text)
    values = [re.sub(r"\\(.)", r"\1", q) if q else a for q, a in args]
    return (values + ["", ""])[0], (values + ["", ""])[1]
