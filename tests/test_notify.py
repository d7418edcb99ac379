"""The systemd notify datagrams, received on a real AF_UNIX socket."""
import socket

from maildaemon.notify import Notifier


def test_long_work_extends_the_start_timeout_before_ready_and_feeds_the_watchdog_after(tmp_path):
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        sock.settimeout(2)
        n = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"})
        n.alive()
        assert sock.recv(512).decode().startswith("EXTEND_TIMEOUT_USEC=60000000")
        n.ready("ok")
        assert sock.recv(512).decode().startswith("READY=1")
        n.alive()
        assert sock.recv(512).decode() == "WATCHDOG=1"
