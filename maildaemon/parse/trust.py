"""Who may change a ticket: the trust rules of SPEC sections 7 and 9.

The sender is the address of the `From` header parsed as an address (RFC 5322) from its raw,
undecoded text: an encoded word is only ever a display name, so
`=?utf-8?q?ticket=40example=2Eorg?= <mallory@attacker.test>` is mallory. A `From` that is not
exactly one plain address (a list, a group, a parse defect such as the unquoted
`ticket@example.org <evil@x>`) or that shows another address anywhere in its text (display name,
comment) is untrusted: a person reading it could take it for someone else.

Lists rewrite `From` (DMARC mitigation): for mail whose `From` is the list itself, the original
sender is the topmost `X-Original-From`, else `Reply-To`, read by the same rules.

With `require_authentication`, an `Authentication-Results` header (RFC 8601) must show
`dkim=pass` for the sender's domain or a parent (`header.d`), or `spf=pass` with `smtp.mailfrom`
in it. Only headers whose authserv-id is the team's `authserv_id` count, and only those in the
topmost block of trace headers: the receiving server adds its results above everything that
came before, so a header further down (below a `Received` line after ours) is one a sender or a
relay wrote, and is ignored. For list-rewritten mail the list's own domain passing counts: the
list vouches for the sender it names.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from email.headerregistry import HeaderRegistry

from maildaemon.model import valid_address
from maildaemon.parse.mail import Mail, decode_header_text

FROM_LIMIT = 2000                  # characters; a longer From is not a notification's
_ADDRESS_LIKE = re.compile(r"[^\s<>()\[\]\"',;:@]{1,256}@[A-Za-z0-9.-]{1,256}")
_REGISTRY = HeaderRegistry()
# a local part that says "do not answer here": noreply, no-reply, no_reply, donotreply, do-not-reply,
# alone or as a word of it (`jira-noreply`, `noreply+x`); literal alternatives, linear
_NO_REPLY = re.compile(r"(?:^|[._+-])(?:no[._-]?reply|do[._-]?not[._-]?reply)(?:$|[._+-])", re.I)


@dataclass(frozen=True)
class Sender:
    address: str                   # lower-case; "" when there is no trustworthy one
    problem: str | None = None     # why the address cannot be trusted, for the quarantine


@functools.lru_cache(maxsize=4096)
def parse_address(raw_value: str, header: str = "From") -> Sender:
    """The one address of an address header's raw text, or the problem that makes it untrustworthy.
    Cached: a stream repeats a few senders, and the stdlib's RFC 5322 parser was a fifth of the
    time of reading a mail (issue 14); the result is immutable."""
    raw_value = (raw_value or "").strip()
    if not raw_value:
        return Sender("", f"no {header} address")
    if len(raw_value) > FROM_LIMIT:
        return Sender("", f"{header} header too long")
    try:
        parsed = _REGISTRY("From", raw_value)           # address rules, whatever the header
        addresses, groups, defects = parsed.addresses, parsed.groups, parsed.defects
    except Exception:                                  # the stdlib parser's own failures
        return Sender("", f"{header} header cannot be parsed")
    if defects:
        return Sender("", f"{header} header is malformed ({type(defects[0]).__name__})")
    if len(addresses) != 1 or any(g.display_name is not None for g in groups):
        return Sender("", f"{header} header does not hold exactly one address")
    address = addresses[0]
    if not address.username or not address.domain:
        return Sender("", f"{header} header has no complete address")
    real = address.addr_spec.lower()
    for shown in _ADDRESS_LIKE.findall(decode_header_text(raw_value)):
        if shown.lower() != real:
            return Sender("", f"{header} shows {shown.lower()} but its address is {real}")
    return Sender(real)


def read_sender(mail: Mail, list_address: str) -> Sender:
    """The sender of a notification, undoing list rewriting of `From`."""
    froms = mail.raw_headers("From")
    if len(froms) != 1:
        return Sender("", "no From header" if not froms else "more than one From header")
    sent = parse_address(froms[0])
    if sent.problem or sent.address != list_address.lower():
        return sent
    for name in ("X-Original-From", "Reply-To"):
        values = mail.raw_headers(name)
        if values:
            return parse_address(values[0], name)
    return sent


def sender(mail: Mail, list_address: str) -> str:
    """The trustworthy sender address, or "" (for recognisers and the quarantine's listing)."""
    return read_sender(mail, list_address).address


def reply_address(mail: Mail, list_address: str, trusted: tuple[str, ...], avoid: tuple[str, ...] = ()) -> str | None:
    """Where an answer to this (trusted) notification reaches the ticket system (SPEC 8, user
    reminder): its `Reply-To`, else its sender (`From`, list rewriting undone), and only an
    address that is itself in `trusted`: a list that sets `Reply-To` to itself, a system that
    puts the commenter's address there, or a header a user could influence never routes a user's
    answer. `Reply-To` counts only as exactly one header holding exactly one address, read by the
    rules `From` is read by. Never the list or an address in `avoid` (our own From): that would
    send the answer back to the stream instead of the ticket; never a `noreply@`-style address
    (`no-reply`, `donotreply`...), which says the system takes no answer there. None when no
    address qualifies."""
    skip = {list_address.lower(), *(a.lower() for a in avoid)}

    def fit(who: Sender) -> bool:
        return not who.problem and valid_address(who.address) and who.address not in skip \
            and not _NO_REPLY.search(who.address.rpartition("@")[0]) and matches(who.address, trusted)

    replies = mail.raw_headers("Reply-To")
    if len(replies) == 1:
        reply = parse_address(replies[0], "Reply-To")
        if fit(reply):
            return reply.address
    who = read_sender(mail, list_address)
    return who.address if fit(who) else None


def matches(address: str, patterns: tuple[str, ...]) -> bool:
    """Exact address or `*@domain` (the domain exactly; subdomains need their own pattern)."""
    address = address.lower()
    domain = address.rpartition("@")[2]
    for p in patterns:
        p = p.lower()
        if p == address or (p.startswith("*@") and p[2:] == domain):
            return True
    return False


def authenticated(mail: Mail, address: str, authserv_id: str | None, list_address: str = "") -> bool:
    """dkim=pass or spf=pass for the sender's domain (or the list's, when the list rewrote From),
    in the Authentication-Results our own server added."""
    domains = {address.rpartition("@")[2].lower()} - {""}
    if list_address and mail.raw_headers("From") and \
            parse_address(mail.raw_headers("From")[0]).address == list_address.lower():
        domains.add(list_address.rpartition("@")[2].lower())
    if not domains or not authserv_id:
        return False
    for method, result, props in our_results(mail, authserv_id):
        if result != "pass":
            continue
        if method == "dkim":
            d = props.get("header.d") or props.get("header.i", "").rpartition("@")[2]
        elif method == "spf":
            d = props.get("smtp.mailfrom", "").rpartition("@")[2]
        else:
            continue
        d = d.lower().strip(".")
        if d and any(dom == d or dom.endswith("." + d) for dom in domains):
            return True
    return False


def our_results(mail: Mail, authserv_id: str):
    """The result clauses of the topmost Authentication-Results headers with our authserv-id."""
    ours = authserv_id.lower()
    seen_ours = False
    for name, value in mail.raw_header_items():
        lname = name.lower()
        if lname == "received" and seen_ours:
            return                                        # below our server's block: not ours
        if lname != "authentication-results":
            continue
        server, clauses = parse_results(decode_header_text(value))
        if server != ours:
            continue
        seen_ours = True
        yield from clauses


def check(mail: Mail, list_address: str, trusted: tuple[str, ...], require_authentication: bool,
          authserv_id: str | None = None) -> str | None:
    """None when trusted; otherwise the reason for the quarantine."""
    who = read_sender(mail, list_address)
    if who.problem:
        return f"untrusted: {who.problem}"
    if not matches(who.address, trusted):
        return f"untrusted: sender {who.address} is not in trusted_senders"
    if require_authentication and not authenticated(mail, who.address, authserv_id, list_address):
        return (f"untrusted: no dkim=pass or spf=pass for {who.address.rpartition('@')[2]} in "
                f"Authentication-Results from {authserv_id}")
    return None


# --- RFC 8601 -----------------------------------------------------------------------------

# possessive runs, and a property must start a token: each is linear on any header
_CLAUSE = re.compile(r"([A-Za-z0-9_.-]++)(?:/[0-9]++)?=([A-Za-z0-9_-]++)")
_EQUALS = re.compile(r"[ \t]*=[ \t]*")
_PROP = re.compile(r"(?<![A-Za-z0-9_.-])([A-Za-z0-9_-]++\.[A-Za-z0-9_.-]++)=(\S++)")


def parse_results(header: str) -> tuple[str | None, list[tuple[str, str, dict]]]:
    """'mx; dkim=pass header.d=x.org; spf=fail smtp.mailfrom=a@y' -> ('mx', [(dkim, pass, {...}), ...]).

    Comments and quoted strings are removed first (one linear pass). Elements are split at `;`;
    an element that is not `method=result …` is the authserv-id (the first one wins), wherever it
    stands: Outlook writes `spf=pass (…) smtp.mailfrom=x; hotmail.com; dkim=…`.
    """
    server = None
    clauses = []
    for element in _strip_comments(header[:FROM_LIMIT * 4]).split(";"):
        element = element.strip()
        if not element:
            continue
        element = _EQUALS.sub("=", element)
        m = _CLAUSE.match(element)
        if m is None:
            if server is None:
                server = element.split()[0].lower()
            continue
        rest = element[m.end():]
        props = {k.lower(): v.strip('"').rstrip(",") for k, v in _PROP.findall(rest)}
        clauses.append((m.group(1).lower(), m.group(2).lower(), props))
    return server, clauses


# inside a quoted string, separators are only text: a sender chooses what a quoted reason or
# local part says (`reason="x; dkim=pass header.d=example.org"`), so they must not split clauses
_QUOTED = {";": "\x00", "=": "\x01", " ": "\x02", "\t": "\x02", "(": "\x03", ")": "\x04"}


def _strip_comments(text: str) -> str:
    """Remove (nested) comments; keep quoted strings' content without the quotes, its separators
    made inert (_QUOTED). Linear."""
    out = []
    depth = 0
    quoted = False
    escape = False
    for ch in text:
        if escape:
            escape = False
            if not depth:
                out.append(ch)
            continue
        if ch == "\\":
            escape = True
            continue
        if quoted:
            if ch == '"':
                quoted = False
            else:
                out.append(_QUOTED.get(ch, ch))
            continue
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif not depth:
            if ch == '"':
                quoted = True
            else:
                out.append(ch)
    return " ".join("".join(out).split())
