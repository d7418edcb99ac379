"""Raw bytes -> `Mail`: the decoded view every parser reads.

mail-parser does the MIME walk (text/plain and text/html parts, Message-ID, Date as aware UTC,
address lists). The standard library is used where mail-parser falls short, measured on
mail-parser 4.8: it drops the space between an RFC 2047 encoded word and a folded continuation
("Café test\\n folded" -> "Café testfolded"), so the subject is decoded with `email.header`; and
it keeps only the first of repeated headers in `headers`, so repeated headers (Authentication-
Results, Received) are read from the underlying `email.message.Message`.
"""
from __future__ import annotations

import hashlib
import html
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.header import decode_header, make_header
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from html.parser import HTMLParser

import mailparser

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

    def header(self, name: str) -> str | None:
        """The first value of a header (decoded, unfolded), or None."""
        name = name.lower()
        for k, v in self._headers:
            if k.lower() == name:
                return _decode(v)
        return None

    def headers(self, name: str) -> list[str]:
        name = name.lower()
        return [_decode(v) for k, v in self._headers if k.lower() == name]

    def has(self, name: str) -> bool:
        return self.header(name) is not None


def read_mail(raw: bytes, list_names: tuple[str, ...] = ()) -> Mail:
    """Decode a message. Never raises on malformed input: missing parts come back empty."""
    parsed = mailparser.parse_from_bytes(raw)
    msg = parsed.message
    headers = tuple(msg.items())          # decoded on access: most are never read
    subject = _decode(msg.get("Subject", "")) if msg.get("Subject") is not None else ""
    from_name, from_addr = parseaddr(_decode(msg.get("From", "")))
    list_id = _decode(msg.get("List-Id", ""))
    names = tuple(n.lower() for n in list_names if n) + _list_id_names(list_id)
    text_parts = [t for t in parsed.text_plain if t and t.strip()]
    html_parts = [h for h in parsed.text_html if h and h.strip()]
    html_text = "\n".join(html_parts)
    text = "\n".join(text_parts) if text_parts else html_to_text(html_text)
    message_id = (msg.get("Message-ID") or "").strip()
    message_id = _first_msgid(_decode(message_id)) or synthetic_message_id(raw)
    return Mail(
        message_id=message_id,
        subject=subject,
        clean_subject=clean_subject(subject, names),
        from_name=from_name.strip(),
        from_addr=from_addr.strip().lower(),
        date=_date(msg.get("Date")),
        text=text.replace("\r\n", "\n"),
        html=html_text,
        content_type=msg.get_content_type(),
        in_reply_to=_first_msgid(_decode(msg.get("In-Reply-To", ""))) or "",
        references=tuple(re.findall(r"<[^<>\s]+>", _decode(msg.get("References", "")))),
        raw=raw,
        _headers=headers,
    )


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


def html_to_text(markup: str) -> str:
    """HTML mail as the text a person would read: blocks and cells on their own lines."""
    if not markup:
        return ""
    p = _TextExtractor()
    p.feed(markup)
    p.close()
    lines = [" ".join(line.split()) for line in "".join(p.out).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


class _TextExtractor(HTMLParser):
    """Rows, list items and <br> end a line; paragraphs, headings and tables also leave a blank one."""
    LINE = {"br", "tr", "li", "dt", "dd", "hr"}
    PARAGRAPH = {"p", "div", "table", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._skip = 0

    def _break(self, lines: int) -> None:
        tail = "".join(self.out[-3:])
        have = len(tail) - len(tail.rstrip("\n")) if tail.strip(" ") else lines
        self.out.append("\n" * max(0, lines - have))

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head", "title"):
            self._skip += 1
        elif tag in self.LINE:
            self._break(1)
        elif tag in self.PARAGRAPH:
            self._break(1)
        elif tag in ("td", "th"):
            self.out.append(" ")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head", "title"):
            self._skip = max(0, self._skip - 1)
        elif tag in self.LINE:
            self._break(1)
        elif tag in self.PARAGRAPH:
            self._break(2)

    def handle_data(self, data):
        if self._skip:
            return
        if not data.strip() and (not self.out or self.out[-1].endswith("\n")):
            return                     # indentation between block tags is not text
        self.out.append(data.replace("\n", " "))


def _decode(value) -> str:
    if value is None:
        return ""
    try:
        text = str(make_header(decode_header(str(value))))
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
