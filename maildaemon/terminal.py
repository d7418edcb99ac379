"""Text from mail made safe for a terminal: what the command line prints never controls the terminal.

A ticket title, a sender's name or a quarantined mail may carry terminal control sequences (ESC
`\\x1b[2J`, OSC 52 `\\x1b]52;c;...\\x07` which writes the clipboard, C1 controls such as CSI `\\x9b`)
or Unicode bidi overrides that make a line read differently from what it holds. `safe()` replaces
each such character with a visible, unambiguous stand-in:

- C0 controls and DEL in caret notation, as `cat -v` and `less` show them: ESC -> `^[`, BEL -> `^G`,
  NUL -> `^@`, DEL -> `^?`. With `multiline=True` a newline and a tab stay, and CR LF becomes LF
  (a lone CR is `^M`); otherwise they are `^J`, `^I`, `^M` too, so one value is one line.
- C1 controls (U+0080..U+009F), the bidi embeddings, overrides and isolates (U+202A..U+202E,
  U+2066..U+2069) and lone surrogates (undecodable bytes) as `<U+XXXX>`.

`dumps()` is `json.dumps(..., ensure_ascii=False)` for a terminal: json already writes C0 as
`\\u001b`; the characters above that it would leave raw (DEL, C1, bidi, surrogates) become `\\uXXXX`
escapes too, so the output is still valid JSON and decodes to the very same strings.
"""
from __future__ import annotations

import json
import re

_ALWAYS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_SINGLE = re.compile(f"[{_ALWAYS}\t\n]")
_MULTI = re.compile(f"[{_ALWAYS}]")
_JSON_RAW = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _stand_in(m: re.Match) -> str:
    c = ord(m.group())
    if c < 0x20:
        return "^" + chr(0x40 + c)
    if c == 0x7f:
        return "^?"
    return f"<U+{c:04X}>"


def safe(text, multiline: bool = False) -> str:
    """`text` with every terminal control character replaced by a visible stand-in (see above)."""
    if text is None:
        return ""
    s = str(text)
    if multiline:
        s = s.replace("\r\n", "\n")
        return _MULTI.sub(_stand_in, s)
    return _SINGLE.sub(_stand_in, s)


def dumps(obj, **kwargs) -> str:
    """JSON for a terminal: valid, readable UTF-8, and no raw control or bidi character."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(obj, ensure_ascii=False, **kwargs))
