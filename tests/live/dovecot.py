"""A real Dovecot on 127.0.0.1 for the live tests (recipe: dependencies.md §7.1).

Why a real server and not a mock: the bugs that matter (IMAPClient 4.1's sequence-set crash, the
`UID N:*` quirk, \\Seen on BODY[], UIDVALIDITY resets) are server/client interplay a mock would
only echo back. One Dovecot per test session (start-up ~50 ms, stop ~1 s); every test gets a
fresh user (its own passwd-file, see `add_user`), so tests share nothing.

The base dir is a short /tmp path because unix-socket paths over ~107 bytes fail ("File name too
long") under pytest's long tmp_path; readiness waits for the `* OK` greeting because the master
accepts TCP before imap-login works. Two additions to the recipe keep the wrong-password test fast:
`auth_failure_delay = 0` and no anvil auth penalty (otherwise every failed login from 127.0.0.1
makes the next one wait 2-15 s).
"""
from __future__ import annotations

import grp
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from imapclient import IMAPClient

from maildaemon.config import ServerSettings

DOVECOT = "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"

_COMMON = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{tls}
disable_plaintext_auth = no
auth_mechanisms = plain
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%u
mail_fsync = never
{identity}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service anvil {{
{anvil}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
"""

_ROOTLESS_IDENTITY = """\
default_login_user = {me}
default_internal_user = {me}
default_internal_group = {group}
first_valid_uid = {uid_number}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    """One Dovecot process; `stop()`/`start()` keep the same port, config and mail."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="dc-", dir="/tmp"))
        self.port = _free_port()
        self.conf = self.root / "dovecot.conf"
        self.users = self.root / "users"
        self.proc: subprocess.Popen | None = None
        os.chmod(self.root, 0o755)
        (self.root / "mail").mkdir()
        self.users.mkdir()
        if os.geteuid() == 0:
            identity, uid, gid, anvil = "first_valid_uid = 8", "mail", "mail", ""
            shutil.chown(self.root / "mail", "mail", "mail")
        else:
            me = pwd.getpwuid(os.geteuid()).pw_name
            group = grp.getgrgid(os.getegid()).gr_name
            identity = _ROOTLESS_IDENTITY.format(me=me, group=group, uid_number=os.geteuid())
            uid, gid, anvil = me, group, "  chroot =\n"
        self.tls_port, self.ca_file, tls = self._make_certificate()
        self.conf.write_text(_COMMON.format(root=self.root, port=self.port, identity=identity, uid=uid,
                                            gid=gid, anvil=anvil, tls=tls, tls_port=self.tls_port or 0))

    def _make_certificate(self) -> tuple[int | None, Path | None, str]:
        """A self-signed certificate for 127.0.0.1, so ssl and starttls are tested for real:
        refused by the default (verifying) context, accepted with `ca_file` trusted.
        Without the openssl tool: no TLS (`tls_port` None; the TLS tests skip)."""
        openssl = shutil.which("openssl")
        if openssl is None:
            return None, None, "ssl = no"
        cert, key = self.root / "cert.pem", self.root / "key.pem"
        subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                        "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                       check=True, capture_output=True, timeout=30)
        return _free_port(), cert, f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}"

    def start(self, timeout: float = 10.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        with (self.root / "stderr.log").open("ab") as err:    # a file, not a pipe nobody drains
            self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf)],
                                         stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code, self.proc = self.proc.returncode, None
                raise RuntimeError(f"dovecot exited with {code}\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.makefile("rb").readline().startswith(b"* OK"):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"dovecot gave no '* OK' greeting within {timeout}s\n{self.log()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def add_user(self, user: str, password: str) -> None:
        """One passwd-file per user (the passdb path is `users/%u`): with one shared file, a user
        appended right after another test's login was refused (AUTHENTICATIONFAILED, measured);
        Dovecot does not re-read a changed passwd-file on every lookup. Written in UTF-8, the
        encoding AUTHENTICATE PLAIN sends, so non-ASCII passwords work (":" and newlines cannot)."""
        (self.users / user).write_text(f"{user}:{{PLAIN}}{password}\n", encoding="utf-8")

    def doveadm(self, *args: str) -> str:
        done = subprocess.run([DOVEADM, "-c", str(self.conf), *args],
                              capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def log(self) -> str:
        """dovecot.log, plus what the master printed before its log was open (config errors)."""
        paths = [self.root / "stderr.log", self.root / "dovecot.log"]
        return "".join(p.read_text(errors="replace") for p in paths if p.exists())


class Mailbox:
    """What a test sees: one fresh user on the shared Dovecot, plus ways to poke the server."""

    def __init__(self, server: Dovecot, user: str, password: str) -> None:
        self.server, self.host, self.port = server, "127.0.0.1", server.port
        self.user, self.password = user, password
        self.tls_port, self.ca_file = server.tls_port, server.ca_file   # None without openssl

    def settings(self, **changes) -> ServerSettings:
        values = dict(host=self.host, port=self.port, user=self.user, password=self.password,
                      security="plain", folder="INBOX")
        values.update(changes)
        return ServerSettings(**values)

    def client(self) -> IMAPClient:
        """A logged-in IMAPClient of our own (not the code under test); close with logout()."""
        c = IMAPClient(self.host, self.port, ssl=False, timeout=30)
        if self.password.isascii():
            c.login(self.user, self.password)
        else:                                   # LOGIN cannot carry it (imaplib sends ASCII)
            c.plain_login(self.user, self.password)
        return c

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        c = self.client()
        try:
            if folder != "INBOX" and not c.folder_exists(folder):
                c.create_folder(folder)
            c.append(folder, raw)
        finally:
            c.logout()

    def flags(self, folder: str = "INBOX") -> dict[int, tuple]:
        """UID -> flags, read with EXAMINE so looking does not change anything."""
        c = self.client()
        try:
            c.select_folder(folder, readonly=True)
            uids = c.search(["ALL"])
            return {u: d[b"FLAGS"] for u, d in c.fetch(uids, ["FLAGS"]).items()} if uids else {}
        finally:
            c.logout()

    def delete(self, uid: int, folder: str = "INBOX") -> None:
        """Expunge one message from another session (a message vanishing under the reader)."""
        c = self.client()
        try:
            c.select_folder(folder)
            c.delete_messages([uid])
            c.expunge()
        finally:
            c.logout()

    def set_uidvalidity(self, n: int, folder: str = "INBOX") -> None:
        self.server.doveadm("mailbox", "update", "-u", self.user, "--uid-validity", str(n), folder)

    def uidvalidity(self, folder: str = "INBOX") -> int:
        out = self.server.doveadm("-f", "flow", "mailbox", "status", "-u", self.user, "uidvalidity", folder)
        return int(out.strip().split("=", 1)[1])

    def kick(self) -> None:
        self.server.doveadm("kick", self.user)

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()

    def log(self) -> str:
        return self.server.log()
