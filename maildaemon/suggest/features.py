"""What the owner model reads of a ticket: its title's informative words, the submitter's mail
domain, its queue. Standard library only; apart from the scoring so each can be read and tested
on its own (`words("Pilot jobs failing")`).
"""
from __future__ import annotations

import re
import unicodedata

from maildaemon.model import Ticket

TITLE_CHARS = 400          # a title is read up to here (hostile titles: megabytes, thousands of words)
TITLE_WORDS = 40           # distinct words kept per title

STOP_WORDS = frozenset("""
a about above after again against all am an and any are aren as at be because been before being
below between both but by can cannot could did didn do does doesn doing don down during each few
for from further had has have having he her here hers him his how i if in into is isn it its itself
just me more most my no nor not now of off on once only or other our ours out over own same she
should so some such than that the their them then there these they this those through to too
under until up very was wasn we were what when where which while who whom why will with won would
you your yours re fw fwd aw wg sv tr ticket tickets issue issues please help problem question
hi hello thanks thank regarding request new urgent id
""".split())

FREE_MAIL = frozenset("""
gmail.com googlemail.com yahoo.com hotmail.com outlook.com live.com msn.com aol.com icloud.com
me.com mail.com gmx.de gmx.net web.de proton.me protonmail.com yandex.ru qq.com 163.com
""".split())

_WORD = re.compile(r"[^\W_]+")
CACHE = 50_000             # titles and words remembered (a daemon sees the same titles again and again)
_TITLES: dict[str, frozenset[str]] = {}
_WORDS: dict[str, str | None] = {}
_SURFACE: dict[str, str] = {}
_SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ed", "ies", "es", "s")


def stem(word: str) -> str:
    """A light suffix stripper: fails, failed, failing -> fail; certificates -> certificat."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            if suffix == "ies":
                return word[:-3] + "y"
            return word[:-len(suffix)]
    return word


def words(title: str | None) -> frozenset[str]:
    """The title's distinct informative words, stemmed: no stop words, numbers or ids."""
    if not title:
        return frozenset()
    text = title[:TITLE_CHARS]
    known = _TITLES.get(text)
    if known is not None:
        return known
    title = text
    text = (text if text.isascii() else unicodedata.normalize("NFKC", text)).casefold()
    out: set[str] = set()
    for w in _WORD.findall(text):
        v = _WORDS.get(w, "")
        if v == "":
            v = _WORDS[w] = _word(w)
            if len(_WORDS) > CACHE:
                _WORDS.clear()
                _SURFACE.clear()
        if v is not None:
            out.add(v)
            if len(out) >= TITLE_WORDS:
                break
    result = frozenset(out)
    if len(_TITLES) > CACHE:
        _TITLES.clear()
    _TITLES[title] = result
    return result


def _word(w: str) -> str | None:
    """One lower-case word as the model keeps it, or None: stop words, numbers and ids go."""
    if len(w) < 2 or len(w) > 30 or w in STOP_WORDS:
        return None
    if not w.isalpha():
        digits = sum(c.isdigit() for c in w)
        if digits == len(w) or (digits >= 2 and len(w) >= 6):
            return None                                 # 41234, 2026, 3fa8e21c (x509, el9, python3 stay)
    stemmed = stem(w)
    if stemmed in STOP_WORDS:
        return None
    _SURFACE.setdefault(stemmed, w)
    return stemmed


def surface(word: str) -> str:
    """A word as titles write it (the first form seen of a stemmed word in this process)."""
    return _SURFACE.get(word, word)


def surfaces(title: str | None) -> dict[str, str]:
    """stem -> the word as this title writes it (the reason quotes the new ticket's own word, so
    it never depends on which titles the process happened to read first)."""
    text = (title or "")[:TITLE_CHARS]
    text = (text if text.isascii() else unicodedata.normalize("NFKC", text)).casefold()
    out: dict[str, str] = {}
    for w in _WORD.findall(text):
        v = _word(w)
        if v is not None:
            out.setdefault(v, w)
    return out


def domain(address: str | None) -> str | None:
    if not address or "@" not in address:
        return None
    d = address.rpartition("@")[2].strip().lower().rstrip(">")
    return None if not d or d in FREE_MAIL else d


def queue(t: Ticket) -> str:
    """The system and project: `jira:SOFT`, `github:org/repo`; `goc`, `rt` when ids are numbers."""
    ident = t.id or ""
    for sep in ("#", "-"):
        head, found, _ = ident.rpartition(sep)
        if found and head:
            return f"{t.system}:{head.lower()}"
    return t.system


def forget_words() -> None:
    """Empty the caches of titles and words (a benchmark's cold start)."""
    _TITLES.clear()
    _WORDS.clear()
    _SURFACE.clear()
