"""Work items an update mentions: Jira issues and GitHub issues/PRs (SPEC 6, `links`).

Support tickets spawn work in Jira projects and GitHub repositories; the handoff shows which
tickets have work items. A link is `{"key", "system", "id", "url"}`, and `key` is the ticket key
that system's own notifications get (`jira:SOFTWARE-1234`, `github:org/repo#12`), so a link and
the work item's ticket, when its notifications reach the stream too, line up.

Why the rules are what they are:
- Recognised: Jira browse URLs (`https://<host>/browse/KEY-1`; the url is kept without its query),
  GitHub URLs (`https://github.com/org/repo/issues/12`, `/pull/12`), `org/repo#12` and a bare
  Jira key `KEY-1`. A bare `#12` only in a GitHub notification (`github_repo`), where GitHub
  means that repository's #12 (`Closed #12 via #13.`); elsewhere it names nothing (RT, GOC and
  people all write "ticket #12").
- A bare Jira key has the shape of many other things. Not links: a number with a leading zero
  (`GMT-0600`); a key glued to more of an identifier (`ISO-8859-1`, `CVE-2026-1234`, `KEY-1.2`,
  `x-UTF-8`, `/path/KEY-1`, `KEY-1@host`); and the prefixes of standards, encodings, hashes, zones
  and OS releases in `NOT_PROJECTS` (`UTF-8`, `SHA-256`, `RFC-822`, `EL-9`). CVE and CWE ids name
  vulnerabilities, not work items: never links. Jira keys are upper case; `Utf-8` is prose.
- A bare key gets the url of a browse URL for the same key in the same text, else None (the Jira
  host is not known). `org/repo#12` gets the GitHub URL written for it in the same text, else its
  issue URL (GitHub redirects `/issues/N` to `/pull/N` for a pull request).
- Never a link to the ticket itself (`self_key`, compared without case), and each key once, in
  the order of first mention. Pure: text in, tuples out.
- Only the first `SCAN_CHARS` of the text are read, as the parsers do: a mail of a million
  `AB-1` would otherwise cost seconds of Python per megabyte.
"""
from __future__ import annotations

import re

from maildaemon.parse.base import SCAN_CHARS

NOT_PROJECTS = frozenset({
    "UTF", "UCS", "ISO", "IEC", "ECMA", "ANSI", "IEEE", "RFC", "BCP", "STD", "SHA", "MD", "CRC",
    "AES", "DES", "RSA", "HMAC", "PKCS", "CVE", "CWE", "GHSA", "GMT", "UTC", "TLS", "SSL", "HTTP",
    "IPV", "EL", "RHEL", "SL", "SLES", "EPEL", "FC", "UBI", "X86", "COVID", "CP", "WIN",
})

# Every pattern is linear in its input (SPEC 9): possessive runs, and a URL's run stops at the next
# scheme, so `http://` repeated is one pass, not one scan to the end per start.
_JIRA_URL = re.compile(
    r"(?P<url>https?://(?:(?!https?://)[^\s<>\"'()\[\]])+?/browse/(?P<key>[A-Z][A-Z0-9_]++-[1-9]\d*+))(?![\w-])")
_GITHUB_URL = re.compile(
    r"https?://(?:www\.)?github\.com/(?P<owner>[A-Za-z0-9][A-Za-z0-9-]*+)/(?P<repo>[A-Za-z0-9._-]+?)"
    r"/(?P<kind>issues|pull)/(?P<n>[1-9]\d*+)")
_GITHUB_REF = re.compile(
    r"(?<![\w/.@-])(?P<owner>[A-Za-z0-9][A-Za-z0-9-]{0,38}+)/(?P<repo>[A-Za-z0-9._-]{1,100}+)"
    r"#(?P<n>[1-9]\d*+)(?![\w-])")
_SHORT_REF = re.compile(r"(?<![\w/&#-])#(?P<n>[1-9]\d*+)(?![\w-])")
# Necessary conditions, each one scan for two characters: most mails mention no work item, and
# the lookbehinds of the patterns below cost ~20 us a mail each (issue 14)
_MAY_REF = re.compile(r"#[1-9]")
_MAY_KEY = re.compile(r"[A-Z0-9_]-[1-9]")
_JIRA_KEY = re.compile(
    r"(?<![\w/.@#=-])(?P<key>(?P<project>[A-Z][A-Z0-9_]++)-[1-9]\d{0,6}+)(?![\w@-]|\.\d)")


def find_links(text: str, self_key: str | None = None, github_repo: str | None = None) -> tuple[dict, ...]:
    """The Jira and GitHub work items `text` mentions, in order of first mention.

    Example: find_links("See SOFTWARE-12 and https://github.com/org/repo/pull/3") ==
    ({"key": "jira:SOFTWARE-12", "system": "jira", "id": "SOFTWARE-12", "url": None},
     {"key": "github:org/repo#3", "system": "github", "id": "org/repo#3",
      "url": "https://github.com/org/repo/pull/3"}).
    """
    text = (text or "")[:SCAN_CHARS]     # the same part of a mail its parser reads
    found: list[tuple[int, dict]] = []
    jira_urls: dict[str, str] = {}
    github_urls: dict[str, str] = {}
    spans: list[tuple[int, int]] = []
    for m in _JIRA_URL.finditer(text) if "/browse/" in text else ():
        jira_urls.setdefault(m["key"], m["url"])
        found.append((m.start(), _jira(m["key"], m["url"])))
        spans.append(m.span())
    for m in _GITHUB_URL.finditer(text) if "github.com/" in text else ():
        repo = _repo(m["repo"])
        url = f"https://github.com/{m['owner']}/{repo}/{m['kind']}/{m['n']}"
        link = _github(m["owner"], repo, m["n"], url)
        github_urls.setdefault(link["key"].lower(), url)
        found.append((m.start(), link))
        spans.append(m.span())
    rest = _blank(text, spans)
    may_ref = _MAY_REF.search(rest) is not None
    for m in _GITHUB_REF.finditer(rest) if may_ref else ():
        repo = _repo(m["repo"])
        link = _github(m["owner"], repo, m["n"], f"https://github.com/{m['owner']}/{repo}/issues/{m['n']}")
        link["url"] = github_urls.get(link["key"].lower(), link["url"])
        found.append((m.start(), link))
    if github_repo and may_ref:
        owner, _, repo = github_repo.partition("/")
        for m in _SHORT_REF.finditer(rest):
            link = _github(owner, repo, m["n"], f"https://github.com/{github_repo}/issues/{m['n']}")
            link["url"] = github_urls.get(link["key"].lower(), link["url"])
            found.append((m.start(), link))
    for m in _JIRA_KEY.finditer(rest) if _MAY_KEY.search(rest) else ():
        if m["project"] not in NOT_PROJECTS:
            found.append((m.start(), _jira(m["key"], jira_urls.get(m["key"]))))
    return _unique(found, (self_key or "").lower())


def _jira(key: str, url: str | None) -> dict:
    return {"key": f"jira:{key}", "system": "jira", "id": key, "url": url}


def _github(owner: str, repo: str, n: str, url: str) -> dict:
    ident = f"{owner}/{repo}#{n}"
    return {"key": f"github:{ident}", "system": "github", "id": ident, "url": url}


def _repo(name: str) -> str:
    """`repo.git` and a trailing sentence dot are not part of the repository's name."""
    name = name.rstrip(".")
    return name[:-4] if name.endswith(".git") else name


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with URLs blanked out (same length), so their parts are not read again.

    Built from slices: a list of characters would take 8 bytes or more per character of the mail.
    """
    pieces, last = [], 0
    for start, end in sorted(spans):
        start = max(start, last)
        if end > start:
            pieces += [text[last:start], " " * (end - start)]
            last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _unique(found: list[tuple[int, dict]], self_key: str) -> tuple[dict, ...]:
    """First mention wins; a URL for the same item seen later supplies a url the first lacked."""
    out: dict[str, dict] = {}
    for _, link in sorted(found, key=lambda x: x[0]):
        k = link["key"].lower()
        if k == self_key:
            continue
        if k not in out:
            out[k] = dict(link)
        elif out[k]["url"] is None:
            out[k]["url"] = link["url"]
    return tuple(out.values())
