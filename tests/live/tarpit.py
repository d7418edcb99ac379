"""SMTP servers that stall, for the live tests: real sockets on 127.0.0.1, one thread each.

    "data"     greets and answers like a server until DATA, then never answers the final "."
    "trickle"  sends a `220-` continuation line every half second, for ever (a per-recv timeout
               never fires: only a deadline ends it)
    "silent"   accepts the connection and never greets
`stalled` is set once a client is stuck; `heard` holds the commands received.
"""
from __future__ import annotations

import socket
import threading


class Tarpit:
    def __init__(self, mode: str):
        assert mode in ("data", "trickle", "silent")
        self.mode = mode
        self.heard: list[str] = []
        self.stalled = threading.Event()
        self.closed = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.mode == "silent":
                self.stalled.set()
            elif self.mode == "trickle":
                while not self.closed.is_set():
                    conn.sendall(b"220-tarpit: please hold the line\r\n")
                    self.stalled.set()
                    self.closed.wait(0.5)
            else:
                self._converse(conn)
            self.closed.wait()
        except OSError:
            pass                                   # the client hung up (or shut us down)
        finally:
            conn.close()

    def _converse(self, conn: socket.socket) -> None:
        conn.sendall(b"220 tarpit ESMTP\r\n")
        lines = conn.makefile("rb")
        for line in lines:
            cmd = line.decode("utf-8", "replace").strip()
            self.heard.append(cmd)
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                conn.sendall(b"250-tarpit\r\n250 8BITMIME\r\n")
            elif verb == "DATA":
                conn.sendall(b"354 go ahead\r\n")
                for body in lines:
                    if body in (b".\r\n", b".\n"):
                        break
                self.heard.append(".")
                self.stalled.set()                 # and never a word again
                return
            elif verb == "QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 ok\r\n")

    def close(self) -> None:
        self.closed.set()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)         # wakes the accept() on Linux
        except OSError:
            pass
        self.listener.close()
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
