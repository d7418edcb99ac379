"""How `init` writes what it read from mail into the proposal: TOML strings and `#` comments.

Mail text is hostile (SPEC 9): a value from mail goes into a TOML basic string with every quote,
backslash and control character escaped (`toml_string`), and into a comment only through
`terminal.safe` (no line break, no control character), so no name can add a key or a table.
"""
from __future__ import annotations

import re

from maildaemon.terminal import safe

MAX_TEXT = 200              # characters of a name, alias or value from mail kept

_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
# quote, backslash, C0, DEL, C1, line/paragraph separators, bidi controls, lone surrogates
_TOML_SPECIAL = re.compile('["\\\\\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]')


def _toml_escape(m: re.Match) -> str:
    ch = m.group()
    if ch in _TOML_ESCAPES:
        return _TOML_ESCAPES[ch]
    if "\ud800" <= ch <= "\udfff":             # not a Unicode scalar: TOML cannot hold it
        return "\\uFFFD"
    return f"\\u{ord(ch):04X}"


def toml_string(value: str) -> str:
    """`value` as a TOML basic string: every quote, backslash and control character escaped, so
    whatever a mail held, it stays one value (and prints without controlling a terminal)."""
    return '"' + _TOML_SPECIAL.sub(_toml_escape, str(value)) + '"'


def toml_array(values) -> str:
    return "[" + ", ".join(toml_string(v) for v in values) + "]"


def comment(text, limit: int = 300) -> str:
    """Text for a `# ...` comment: one line, no control character (terminal.safe), bounded."""
    s = safe(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def cut(value: str | None) -> str:
    return (value or "").strip()[:MAX_TEXT].strip()

