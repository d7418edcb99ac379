"""GitHub issue and pull-request notifications -> `Change` (SPEC 7.5; formats.md 3.2).

Why the rules are what they are:
- Recognised by GitHub's own headers (`X-GitHub-Reason`, `X-GitHub-Sender`), or a thread
  Message-ID `<owner/repo/issues/N...@github.com>`, or a `List-Id: <repo.owner.github.com>`. A
  list relaying the mail replaces List-Id and may rewrite From, but keeps the X- headers and the
  Message-ID. From (always notifications@github.com) is trusted by the team file, like any sender.
- The Message-ID says what happened: `<owner/repo/issues/N@github.com>` (or `pull/N`) opens the
  ticket; a further component is a comment (`/287565308`, `/c3592061197`), a review
  (`/review/ID`) or an event (`/issue_event/ID`, with singular `issue` on issues). Without one,
  the thread root in In-Reply-To/References gives the key, and the subject `(Issue #N)` /
  `(PR #N)` / `(#N)` with `[owner/repo]` is the last resort.
- Event mails are one line: `Closed #N.` (also `as completed`, `via ...`), `Reopened #N.`,
  `Merged #N into main.` (merged -> closed), `Assigned #N to @login.` and `Unassigned @login from
  #N.`. GitHub mail never lists the current assignees or state, so assignments are deltas
  (`assignees_added`/`assignees_removed` with the `@login` as written; members' logins are their
  `@login` aliases) and a state comes only from these events and from the opening mail (open).
  status_raw is GitHub's state word: open, closed, merged.
- Actor: `@<X-GitHub-Sender>`, else the From display name (GitHub puts the actor's name there).
- Submitter: None. The opener is known only by login, and `submitter` is an email (SPEC 6).
- URL: https://github.com/owner/repo/issues/N, or /pull/N for pull requests.
- No replies by mail (SPEC 8): GitHub's `Reply-To: reply+<token>@reply.github.com` posts as the
  account the notification was sent to (the team's), never as the user, so it is not kept; a user
  is asked to answer on the issue's page instead. No subject token: GitHub threads on nothing.
- Unparseable: a GitHub mail about no issue or pull request (releases, pushes to a branch,
  security alerts, discussions): no ticket to change.
"""
from __future__ import annotations

import re
from typing import ClassVar

from maildaemon.model import COMMENTED, CREATED, Change
from maildaemon.parse.base import Unparseable, first_line, scanned, when
from maildaemon.parse.mail import Mail

# Every pattern is linear in its input (SPEC 9): possessive runs, one quantifier per run of blanks
# (the title keeps its trailing blanks and is stripped in Python).
_THREAD = re.compile(
    r"^<(?P<owner>[A-Za-z0-9][\w.-]*+)/(?P<repo>[\w.-]++)/(?P<kind>issues|issue|pull)/(?P<n>\d++)"
    r"(?:/(?P<rest>[^@<>]++))?@github\.com>$", re.I)
_SUBJECT = re.compile(
    r"^(?:\[(?P<repo>[\w.-]++/[\w.-]++)\]\s*+)?(?P<title>.*?)\(\s*+(?:(?P<kind>Issue|PR|Pull Request)\s*+)?+"
    r"#(?P<n>\d++)\)\s*+$", re.I)
_LIST_ID = re.compile(r"^\s*+\"?(?P<repo>[\w.-]++/[\w.-]++)\"?\s*+<[^<>]*\.github\.com>\s*+$", re.I)
_LOGIN = re.compile(r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_EVENTS = [
    (re.compile(r"^Closed #(?P<n>\d+)\b.*$", re.I), "closed"),
    (re.compile(r"^Reopened #(?P<n>\d+)\b.*$", re.I), "reopened"),
    (re.compile(r"^Merged #(?P<n>\d+)\b.*$", re.I), "merged"),
    (re.compile(r"^Assigned #(?P<n>\d+) to (?P<who>.+?)\.?$", re.I), "assigned"),
    (re.compile(r"^Unassigned (?P<who>.+?) from #(?P<n>\d+)\.?$", re.I), "unassigned"),
]
_STATE = {"closed": ("closed", "closed"), "merged": ("closed", "merged"), "reopened": ("open", "open")}
_COMMENT_HEAD = re.compile(r"^\s*+@?[\w-]++ left a comment\s*+\([^()]*#\d++\)\s*+$", re.I)


class GithubParser:
    system: ClassVar[str] = "github"
    replies_by_mail: ClassVar[bool] = False   # see the module notes: no reply address is ever kept

    def recognises(self, mail: Mail) -> bool:
        if mail.has("X-GitHub-Reason") or mail.has("X-GitHub-Sender"):
            return True
        list_id = mail.header("List-Id") or ""
        return bool(_THREAD.match(mail.message_id)) or list_id.rstrip().lower().endswith(".github.com>")

    def parse(self, mail: Mail) -> Change:
        owner_repo, kind, n, rest = thread(mail)
        subject = _SUBJECT.match(mail.clean_subject)
        if subject and (subject.group("kind") or "").lower() in ("pr", "pull request"):
            kind = "pull"
        ident = f"{owner_repo}#{n}"
        text = _text(scanned(mail.text))
        event = read_event(first_line(text, limit=500)) if rest is not None and not _is_comment(rest) else None
        state = _STATE.get(event[0]) if event else ("open", "open") if rest is None else None
        kinds = {CREATED} if rest is None else {COMMENTED} if _is_comment(rest) else set()
        return Change(
            key=f"github:{ident}", system=self.system, id=ident,
            message_id=mail.message_id, at=when(mail), kinds=frozenset(kinds),
            title=(subject.group("title").strip() if subject else "") or None,
            url=f"https://github.com/{owner_repo}/{'pull' if kind == 'pull' else 'issues'}/{n}",
            status=state[0] if state else None,
            status_raw=state[1] if state else None,
            assignees_added=event[1] if event and event[0] == "assigned" else (),
            assignees_removed=event[1] if event and event[0] == "unassigned" else (),
            actor=_actor(mail),
            summary=first_line(text),
        )


def thread(mail: Mail) -> tuple[str, str, str, str | None]:
    """(owner/repo, 'issues' or 'pull', N, the Message-ID's further component or None)."""
    m = _THREAD.match(mail.message_id)
    if m:
        kind = "pull" if m.group("kind").lower() == "pull" else "issues"
        return f"{m.group('owner')}/{m.group('repo')}", kind, m.group("n"), m.group("rest")
    for ref in (mail.in_reply_to, *reversed(mail.references)):
        m = _THREAD.match(ref or "")
        if m:
            kind = "pull" if m.group("kind").lower() == "pull" else "issues"
            return f"{m.group('owner')}/{m.group('repo')}", kind, m.group("n"), "reply"
    s = _SUBJECT.match(mail.clean_subject)
    repo = (s.group("repo") if s else None) or _list_repo(mail)
    if s and repo:
        return repo, "issues", s.group("n"), "reply"
    raise Unparseable("GitHub mail about no issue or pull request: no owner/repo/issues/N or pull/N "
                      f"Message-ID and no '(#N)' subject: {mail.subject!r}")


def read_event(line: str) -> tuple[str, tuple[str, ...]] | None:
    """('assigned', ('@ada',)) from 'Assigned #12 to @ada.'; ('closed', ()) from 'Closed #12.'."""
    for pattern, name in _EVENTS:
        m = pattern.match(line.strip())
        if m:
            who = tuple(_LOGIN.findall(m.group("who"))) if "who" in pattern.groupindex else ()
            return name, who
    return None


def _is_comment(rest: str) -> bool:
    """A comment id (`287565308`, `c3592061197`) or a review; not an event or a push."""
    first = rest.split("/", 1)[0].lower()
    return bool(re.fullmatch(r"c?\d+", first)) or first == "review" or rest == "reply"


def _text(text: str) -> str:
    """The body without the 2025 comment header `<login> left a comment (owner/repo#N)`."""
    lines = (text or "").split("\n")
    for i, line in enumerate(lines):
        if line.strip():
            return "\n".join(lines[i + 1:]) if _COMMENT_HEAD.match(line) else "\n".join(lines[i:])
    return ""


def _list_repo(mail: Mail) -> str | None:
    m = _LIST_ID.match(mail.header("List-Id") or "")
    return m.group("repo") if m else None


def _actor(mail: Mail) -> str | None:
    login = (mail.header("X-GitHub-Sender") or "").strip().lstrip("@")
    if login:
        return "@" + login
    return (mail.from_name or "").strip().strip('"') or None
