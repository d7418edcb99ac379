"""Who may change a ticket: the trust rules of SPEC section 7.

A mail is trusted only when its sender matches `trusted_senders` (an exact address or
`*@domain`), and, with `require_authentication`, when an `Authentication-Results` header says
`dkim=pass` or `spf=pass` for the sender's domain. Lists rewrite `From` (DMARC mitigation), so for
mail whose `From` is the list itself the original sender is read from `X-Original-From`, then
`Reply-To`. Everything that fails is quarantined as untrusted, even if it would parse.
"""
from __future__ import annotations

import re

from maildaemon.parse.mail import Mail, addresses


def sender(mail: Mail, list_address: str) -> str:
    """The address that sent the notification, undoing list rewriting of `From`."""
    frm = mail.from_addr
    if frm and frm != list_address.lower():
        return frm
    for name in ("X-Original-From", "Reply-To"):
        found = addresses(mail.header(name) or "")
        if found and found[0][1]:
            return found[0][1]
    return frm


def matches(address: str, patterns: tuple[str, ...]) -> bool:
    """Exact address or `*@domain` (the domain exactly; subdomains need their own pattern)."""
    address = address.lower()
    domain = address.rpartition("@")[2]
    for p in patterns:
        p = p.lower()
        if p == address or (p.startswith("*@") and p[2:] == domain):
            return True
    return False


def authenticated(mail: Mail, address: str) -> bool:
    """dkim=pass or spf=pass for the sender's domain (or a parent domain) in any Authentication-Results."""
    domain = address.rpartition("@")[2].lower()
    if not domain:
        return False
    for header in mail.headers("Authentication-Results"):
        for method, result, props in _results(header):
            if result != "pass" or method not in ("dkim", "spf"):
                continue
            if method == "dkim":
                d = props.get("header.d") or props.get("header.i", "").rpartition("@")[2]
            else:
                d = props.get("smtp.mailfrom", "").rpartition("@")[2] or props.get("smtp.helo", "")
            d = d.lower().strip(".")
            if d and (domain == d or domain.endswith("." + d)):
                return True
    return False


def check(mail: Mail, list_address: str, trusted: tuple[str, ...], require_authentication: bool) -> str | None:
    """None when trusted; otherwise the reason for the quarantine."""
    who = sender(mail, list_address)
    if not who:
        return "untrusted: no sender address"
    if not matches(who, trusted):
        return f"untrusted: sender {who} is not in trusted_senders"
    if require_authentication and not authenticated(mail, who):
        return f"untrusted: no dkim=pass or spf=pass for {who.rpartition('@')[2]} in Authentication-Results"
    return None


def _results(header: str):
    """'mx; dkim=pass header.d=x.org; spf=fail smtp.mailfrom=a@y' -> [(dkim, pass, {...}), ...]."""
    header = re.sub(r"\([^)]*\)", " ", header)       # comments
    for clause in header.split(";")[1:]:
        m = re.match(r"\s*([a-z0-9-]+)\s*=\s*([a-z]+)(.*)$", clause.strip(), re.I | re.S)
        if not m:
            continue
        props = {k.lower(): v.strip('"') for k, v in re.findall(r"([a-z0-9.-]+)\s*=\s*(\S+)", m.group(3), re.I)}
        yield m.group(1).lower(), m.group(2).lower(), props
