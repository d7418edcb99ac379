"""Raw bytes -> `Mail`: the decoded view every parser reads.

The standard library parses the mail once; its headers are read from that message (`Mail.header`,
decoded on access: most are never read). mail-parser walks the MIME structure for the text/plain
and text/html parts, and is handed only that structure: the top-level Content-* and MIME-Version
fields over the same parts (`body_view`). Given the whole message it parses every Received, address
and Date field eagerly, which is two thirds of its cost (0.45 -> 0.15 ms a mail, measured on the
bench corpus; issue 14), and is sender-chosen text run through regexes for figures nobody reads.
The standard library is also used where mail-parser falls short, measured on mail-parser 4.8: it
drops the space between an RFC 2047 encoded word and a folded continuation ("Café test\\n folded"
-> "Café testfolded"), so the subject is decoded with `email.header`; and repeated headers
(Authentication-Results, Received) are all kept, in order.
"""
from __future__ import annotations

import hashlib
import html
import logging
import re
import dataclasses
import email
import functools
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from datetime import datetime, timezone
from email.header import decode_header, make_header
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
import lxml.html
import mailparser
from lxml import etree

logging.getLogger("mailparser").setLevel(logging.CRITICAL)

_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|sv|vs)\s*(?:\[\d+\])?\s*:\s*)", re.I)
_BRACKET = re.compile(r"^\s*\[([^\]]*)\]\s*")


@dataclass(frozen=True)
class Mail:
    message_id: str
    subject: str                  # decoded and unfolded, as sent
    clean_subject: str            # list prefixes and Re:/Fwd: removed
    from_name: str
    from_addr: str
    date: datetime | None         # aware; None when missing or unparsable
    text: str                     # text/plain, or the HTML part turned into text
    html: str
    content_type: str
    in_reply_to: str
    references: tuple[str, ...]
    raw: bytes = field(repr=False)
    _headers: tuple[tuple[str, str], ...] = field(repr=False, default=())

    @functools.cached_property
    def _by_name(self) -> dict[str, list]:
        """Lower-cased name -> the values in order: the checks ask for ~15 names per mail, and a
        scan of every header per question was 40 % of classifying (issue 14)."""
        return _index(self._headers)

    def header(self, name: str) -> str | None:
        """The first value of a header (decoded, unfolded), or None."""
        values = self._by_name.get(name.lower())
        return _decode(values[0]) if values else None

    def headers(self, name: str) -> list[str]:
        return [_decode(v) for v in self._by_name.get(name.lower(), ())]

    def has(self, name: str) -> bool:
        return name.lower() in self._by_name

    def raw_headers(self, name: str) -> list[str]:
        """Every value of a header as it stands in the mail: not decoded, unfolded to one line.

        Addresses must be parsed from this text: decoding first would turn an encoded display
        name into something that looks like an address."""
        return [_raw(v) for v in self._by_name.get(name.lower(), ())]

    def raw_header_items(self):
        """(name, raw value) of every header, top first: the order trace headers were added in."""
        return ((k, _raw(v)) for k, v in self._headers)


def read_mail(raw: bytes, list_names: tuple[str, ...] = ()) -> Mail:
    """Decode a message. Never raises on malformed input: missing parts come back empty."""
    msg = email.message_from_bytes(bounded_header(raw))
    parsed = mailparser.MailParser(body_view(msg))
    headers = tuple(msg.items())          # decoded on access: most are never read
    index = _index(headers)

    def first(name: str):
        values = index.get(name)
        return values[0] if values else None

    subject = _decode(first("subject"))
    from_name, from_addr = parseaddr(_raw(first("from")))       # the address before any decoding
    from_name = _decode(from_name)
    list_id = _decode(first("list-id"))
    names = tuple(n.lower() for n in list_names if n) + _list_id_names(list_id)
    text_parts = [t for t in parsed.text_plain if t and t.strip()]
    html_parts = [h for h in parsed.text_html if h and h.strip()]
    html_text = "\n".join(html_parts)
    text = "\n".join(text_parts) if text_parts else html_to_text(html_text)
    # as it stands in the mail: a field with 8-bit bytes comes out of items() as an email.header.Header
    # whose text has lost them (U+FFFD), so two such ids would be one (the .strip() of that object
    # made the mail unreadable; found in review)
    stored = next((v for k, v in msg.raw_items() if k.lower() == "message-id"), None)
    message_id = _first_msgid(_decode(_raw(stored))) or synthetic_message_id(raw)
    mail = Mail(
        message_id=message_id,
        subject=subject,
        clean_subject=clean_subject(subject, names),
        from_name=from_name.strip(),
        from_addr=from_addr.strip().lower(),
        date=_date(first("date")),
        text=text.replace("\r\n", "\n"),
        html=html_text,
        content_type=msg.get_content_type(),
        in_reply_to=_first_msgid(_decode(first("in-reply-to"))) or "",
        references=tuple(re.findall(r"<[^<>\s]+>", _decode(first("references")))),
        raw=raw,
        _headers=headers,
    )
    mail.__dict__["_by_name"] = index              # the cached property, already computed
    return mail


def _index(headers) -> dict[str, list]:
    """Lower-cased header name -> its values, in the mail's order (Message.get scans them all)."""
    index: dict[str, list] = {}
    for k, v in headers:
        index.setdefault(k.lower(), []).append(v)
    return index


def body_view(msg: Message) -> Message:
    """The message as mail-parser needs it to find the body parts: the same payload (the parts are
    shared, not copied) under the top-level fields that describe it (Content-*, MIME-Version).
    tests/parse/test_mail.py checks that the parts found are those of the whole message."""
    view = Message()
    for name, value in msg.items():
        lowered = name.lower()
        if lowered.startswith("content-") or lowered == "mime-version":
            view[name] = value
    # the payload as parsed: get_payload() would decode 8-bit text with the declared charset
    # first (mail-parser itself reads `_payload` to tell bytes it must still decode)
    view.set_payload(msg._payload)
    view.preamble, view.epilogue, view.defects = msg.preamble, msg.epilogue, msg.defects
    return view


def bounded_header(raw: bytes) -> bytes:
    """The mail with its header section cut to size before any library reads it: at most
    MAX_FIELDS fields (the topmost: trace headers are prepended), each at most FIELD_BYTES.

    mail-parser decodes every header eagerly with `email.header.decode_header`, which is
    quadratic in the number of encoded words (100,000 in one Subject: 18 s, measured); no real
    notification has a header field anywhere near 16 KB. `Mail.raw` keeps the original bytes.
    """
    end = _HEADER_END.search(raw)
    head_len = end.start() if end else len(raw)
    if head_len <= FIELD_BYTES:
        return raw                                             # the usual case: nothing to cut
    fields = _FIELD_START.split(raw[:head_len])
    if len(fields) <= MAX_FIELDS and all(len(f) <= FIELD_BYTES for f in fields):
        return raw
    kept = [f[:FIELD_BYTES].rstrip(b"\r\n") for f in fields[:MAX_FIELDS]]
    return b"\n".join(kept) + raw[head_len:]


def header_view(raw: bytes) -> Mail:
    """What can be said of a mail that cannot be read (or is too big to): its header section only,
    read with the standard library's header parser from at most HEADER_BYTES. Never raises."""
    head = raw[:HEADER_BYTES]
    cut = re.search(rb"\r?\n\r?\n", head)
    head = head[:cut.start()] if cut else head
    headers: tuple = ()
    try:
        msg = BytesHeaderParser().parsebytes(head)
        headers = tuple((k, v) for k, v in msg.items())
    except Exception:  # noqa: BLE001 - a view of last resort
        pass
    view = Mail(message_id="", subject="", clean_subject="", from_name="", from_addr="", date=None, text="",
                html="", content_type="", in_reply_to="", references=(), raw=raw, _headers=headers)
    try:
        name, addr = parseaddr(_raw(view.raw_headers("From")[0] if view.raw_headers("From") else ""))
        subject = _decode(view.header("Subject") or "")
        mid = _first_msgid(_decode(view.header("Message-ID") or "")) or synthetic_message_id(raw)
    except Exception:  # noqa: BLE001
        name, addr, subject, mid = "", "", "", synthetic_message_id(raw)
    return dataclasses.replace(view, message_id=mid, subject=subject, clean_subject=subject,
                               from_name=_decode(name), from_addr=addr.strip().lower())


def synthetic_message_id(raw: bytes) -> str:
    """A stable identity for a mail without Message-ID: the same bytes give the same id."""
    return "<sha256-%s@maildaemon.invalid>" % hashlib.sha256(raw).hexdigest()[:32]


def clean_subject(subject: str, list_names: tuple[str, ...] = ()) -> str:
    """Remove `[list-name] ` prefixes (of the lists we know) and Re:/Fwd:, repeatedly."""
    s = " ".join(subject.split())
    while True:
        m = _REPLY_PREFIX.match(s)
        if m:
            s = s[m.end():]
            continue
        b = _BRACKET.match(s)
        if b and b.group(1).strip().lower() in list_names:
            s = s[b.end():]
            continue
        return s.strip()


def addresses(value: str) -> list[tuple[str, str]]:
    """'A <a@x>, b@y' -> [('A', 'a@x'), ('', 'b@y')], lower-cased addresses."""
    return [(n.strip(), a.strip().lower()) for n, a in getaddresses([value]) if a or n]


HTML_LIMIT = 1_000_000          # characters of HTML converted; the rest of a longer part is cut (SPEC 9)
FIELD_BYTES = 16_384            # one header field (folded lines included) is cut to this
MAX_FIELDS = 1_000              # header fields read from the top of a mail
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FIELD_START = re.compile(rb"\r?\n(?![ \t])")
HEADER_BYTES = 65_536           # of a mail that cannot be read, this much is looked at for its header
HEADER_LIMIT = 16_384           # characters of one header value decoded; a longer value is cut
_SKIP = {"script", "style", "head", "title"}
_LINE = {"br", "tr", "li", "dt", "dd", "hr"}
_PARAGRAPH = {"p", "div", "table", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}


def html_to_text(markup: str) -> str:
    """HTML mail as the text a person would read: blocks and cells on their own lines.

    libxml2 (lxml) parses in linear time and caps the nesting depth; the standard library's
    html.parser is quadratic on shapes like `"<a" * N` (80 KB took 9 s), and Lexbor on deep
    `<div>` nesting (500 KB took 13 s), both measured. Markup over HTML_LIMIT is cut first.
    """
    if not markup or not markup.strip():
        return ""
    markup = markup[:HTML_LIMIT]
    try:
        root = lxml.html.document_fromstring(markup)
    except (etree.ParserError, ValueError):
        return ""
    out: list[str] = []
    skip = 0

    def brk(lines: int) -> None:
        have = 0
        for piece in reversed(out):
            if piece.strip(" "):
                have += len(piece) - len(piece.rstrip("\n"))
                if piece.rstrip("\n"):
                    break
        if not out:
            have = lines
        out.append("\n" * max(0, lines - have))

    def data(text: str | None) -> None:
        if not text or skip:
            return
        if not text.strip() and (not out or out[-1].endswith("\n")):
            return                     # indentation between block tags is not text
        out.append(text.replace("\n", " "))

    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag.lower() if isinstance(el.tag, str) else ""     # comments and PIs have no name
        if event == "start":
            if tag in _SKIP:
                skip += 1
            elif tag in _LINE or tag in _PARAGRAPH:
                brk(1)
            elif tag in ("td", "th"):
                out.append(" ")
            if tag:
                data(el.text)
        else:
            if tag in _SKIP:
                skip = max(0, skip - 1)
            elif tag in _LINE:
                brk(1)
            elif tag in _PARAGRAPH:
                brk(2)
            if el is not root:
                data(el.tail)
    lines = [" ".join(line.split()) for line in "".join(out).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def decode_header_text(value) -> str:
    """A header value as a person reads it: encoded words decoded, one line, at most HEADER_LIMIT."""
    return _decode(value)


def _raw(value) -> str:
    """A header value's own text, one line: 8-bit bytes (kept by the parser as surrogates or as a
    Header object) become U+FFFD, so nothing downstream trips over them."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    value = value[:HEADER_LIMIT].encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return " ".join(value.split()) if ("\n" in value or "\r" in value) else value.strip()


def _decode(value) -> str:
    if value is None:
        return ""
    value = str(value)[:HEADER_LIMIT]
    if "=?" not in value and value.isascii():
        text = value                  # no encoded word: decoding gives it back (nine headers a mail)
    else:
        try:
            text = str(make_header(decode_header(value)))
        except Exception:  # malformed encoded words: keep what we have
            text = str(value)
    return " ".join(text.replace("\r", " ").replace("\n", " ").split()) if "\n" in text else text.strip()


def _first_msgid(value: str) -> str | None:
    m = re.search(r"<[^<>\s]+>", value or "")
    if m:
        return m.group(0)
    v = (value or "").strip()
    return "<%s>" % v if v and " " not in v else None


def _list_id_names(list_id: str) -> tuple[str, ...]:
    m = re.search(r"<([^.>]+)", list_id or "")
    return (m.group(1).lower(),) if m else ()


def _date(value) -> datetime | None:
    if not value:
        return None
    try:
        d = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if d is None:
        return None
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def unescape(s: str) -> str:
    return html.unescape(s)
