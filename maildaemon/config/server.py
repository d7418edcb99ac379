"""The IMAP and SMTP endpoints: `MAILDAEMON_IMAP_*` and `MAILDAEMON_SMTP_*` into `ServerSettings`.

Refused at start rather than at the first connection: plain text toward anything but loopback, and
half a login (a user without a password, or the reverse). The password never reaches a repr.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from maildaemon.config.values import whole_number
from maildaemon.errors import ConfigError


@dataclass(frozen=True)
class ServerSettings:
    """An IMAP or SMTP endpoint. The password never appears in repr() or str()."""
    host: str
    port: int
    user: str = ""
    password: str = field(default="", repr=False)
    security: str = "ssl"          # ssl | starttls | plain
    folder: str = "INBOX"          # IMAP only

    def describe(self) -> str:
        who = f"{self.user}@" if self.user else ""
        return f"{who}{self.host}:{self.port} ({self.security})"


def server(env: dict[str, str], kind: str, default_port: int, default_security: str) -> ServerSettings:
    """The endpoint of `MAILDAEMON_<kind>_*` (kind: IMAP or SMTP), whose HOST is set."""
    p = f"MAILDAEMON_{kind}_"
    host = env[p + "HOST"].strip()
    security = (env.get(p + "SECURITY") or default_security).strip().lower()
    if security not in ("ssl", "starttls", "plain"):
        raise ConfigError(p + "SECURITY", f"unknown value {security!r}", "use ssl, starttls or plain")
    if security == "plain" and not is_loopback(host):
        raise ConfigError(p + "SECURITY", f"plain (unencrypted) is refused toward {host}, which is not loopback",
                          "use ssl or starttls, or plain only with 127.0.0.1/localhost")
    port = whole_number(env.get(p + "PORT") or str(default_port), p + "PORT", 1, 65535)
    folder = (env.get(p + "FOLDER") or "INBOX").strip() if kind == "IMAP" else "INBOX"
    return ServerSettings(host=host, port=port, user=(env.get(p + "USER") or "").strip(),
                          password=env.get(p + "PASSWORD") or "", security=security, folder=folder)


def login_pair(env: dict[str, str], kind: str) -> None:
    """A user without a password (or the reverse) is half a login: refused, not tried at send time."""
    user = (env.get(f"MAILDAEMON_{kind}_USER") or "").strip()
    password = env.get(f"MAILDAEMON_{kind}_PASSWORD") or ""
    if user and not password:
        raise ConfigError(f"MAILDAEMON_{kind}_PASSWORD", f"not set while MAILDAEMON_{kind}_USER is",
                          f"set MAILDAEMON_{kind}_PASSWORD too, or unset MAILDAEMON_{kind}_USER "
                          "to send without logging in")
    if password and not user:
        raise ConfigError(f"MAILDAEMON_{kind}_USER", f"not set while MAILDAEMON_{kind}_PASSWORD is",
                          f"set MAILDAEMON_{kind}_USER to the login of that password, "
                          f"or unset MAILDAEMON_{kind}_PASSWORD")


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
