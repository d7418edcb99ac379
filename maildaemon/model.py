"""Plain data passed between the pipeline's stages: no I/O, no clock.

A mail from a source is a `RawMail`; a parser turns a trusted notification into a `Change`
(only what the mail carried: `None` means "not in this mail, keep the stored value"); `apply`
folds changes into a `Ticket`. The team file becomes a `Team` (see config/).
"""
from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone

STATUSES = ("open", "waiting-on-user", "resolved", "closed")
DONE_STATUSES = frozenset({"resolved", "closed"})

_ADDRESS = re.compile(r"^[^@\s<>\",;]+@[^@\s<>\",;]+\.[^@\s<>\",;]+$")


def iso(d: datetime) -> str:
    """How times are stored: UTC ISO 8601 to the second, so they compare as strings."""
    return d.astimezone(timezone.utc).isoformat(timespec="seconds")


@functools.lru_cache(maxsize=1 << 16)
def parse_iso(value: str) -> datetime:
    """A stored time back as an aware datetime (UTC when the string has no offset). Cached: the
    handoff's eight-week counts ask for each history time a dozen times (datetimes are immutable)."""
    d = datetime.fromisoformat(value)
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def valid_address(addr: str | None) -> bool:
    """A plain address fit for an envelope and a header (no name, no list, no spaces)."""
    return bool(addr) and bool(_ADDRESS.match(addr))


# Change kinds, as history records them.
CREATED, COMMENTED, ASSIGNED, STATUS, NEXT_ACTION, CLOSED, REOPENED = (
    "created", "commented", "assignees", "status", "next-action", "closed", "reopened")


@dataclass(frozen=True)
class RawMail:
    """One message as a source delivered it.

    `origin` says where it came from ("imap:INBOX:7:123", "maildir:KEY", "mbox:/a.mbox#5"), for
    the history and the quarantine; it is never used as an identity (Message-ID is).
    """
    data: bytes
    origin: str
    position: dict | None = None   # the source position just after this mail (a mid-batch commit)
    oversize: int = 0              # > 0: the mail had this many bytes, over the limit; `data` is its header only


@dataclass(frozen=True)
class Change:
    """What one notification says about one ticket. `None`: the mail did not carry the field."""
    key: str                       # "<system>:<id>"
    system: str
    id: str
    message_id: str
    at: datetime                   # when the notification was sent (aware)
    kinds: frozenset[str] = frozenset()   # what the parser knows happened; apply adds diffs
    title: str | None = None
    url: str | None = None
    status_raw: str | None = None
    status: str | None = None      # one of STATUSES
    next_action: str | None = None
    next_action_deadline: datetime | None = None
    assignees: tuple[str, ...] | None = None       # the full list, as the system names them
    assignees_added: tuple[str, ...] = ()          # deltas, for systems that only send those
    assignees_removed: tuple[str, ...] = ()
    cc: tuple[str, ...] | None = None
    submitter: str | None = None   # email
    actor: str | None = None       # who made the change: a name, email or @login
    actor_at: datetime | None = None   # when the actor's update was entered (default: `at`)
    summary: str = ""              # one line for the history
    links: tuple[dict, ...] = ()
    priority: str | None = None
    auto_reply: bool = False       # the update is an out-of-office/auto-reply relayed by the system
    # how a user's answer reaches the ticket (SPEC 8, user reminder); None: not known from this mail
    subject_token: str | None = None   # the system's own subject token, as written ("[rt.example.org #1234]")
    reply_to: str | None = None        # the system's reply address: Reply-To, else From, when trusted


@dataclass(frozen=True)
class HistoryEntry:
    message_id: str
    at: str                        # ISO 8601
    kinds: tuple[str, ...]
    actor: str | None = None
    summary: str = ""
    late: bool = False             # older than the ticket's newest change: recorded, not applied
    origin: str = ""
    status: str | None = None      # the ticket's status after this entry (for week-over-week counts)

    def to_doc(self) -> dict:
        """Plain JSON data, fields in their order (as the history log and the ticket store it)."""
        return {n: getattr(self, n) if n != "kinds" else list(self.kinds) for n in _fields(HistoryEntry)[3]}


@dataclass(frozen=True)
class Ticket:
    """A ticket's state as built by applying its changes in order. Times are ISO 8601 strings."""
    key: str
    system: str
    id: str
    title: str = ""
    url: str | None = None
    status: str = "open"
    status_raw: str | None = None
    status_since: str | None = None
    next_action: str | None = None
    next_action_deadline: str | None = None
    priority: str | None = None
    owner: str | None = None
    assignees: tuple[str, ...] = ()
    assignment_order: tuple[str, ...] = ()   # member emails assigned, most recent first
    cc: tuple[str, ...] = ()
    submitter: str | None = None
    opened_at: str | None = None
    updated_at: str | None = None            # the newest applied change (by its Date)
    last_team_update_at: str | None = None
    last_user_update_at: str | None = None
    last_entry_at: str | None = None         # newest update text seen (GOC "Entered on")
    owner_changed_at: str | None = None      # when `owner` last took its current value
    first_assigned_at: str | None = None     # first time a member owned it (time to assignment)
    first_team_update_at: str | None = None  # first member update (time to first response)
    triage_removed: bool = False             # the pseudo-user was taken off: the stream goes quiet
    latest_message_id: str | None = None     # for In-Reply-To of mail about this ticket
    subject_token: str | None = None         # the system's subject token in its latest notification
    reply_to: str | None = None              # where a user's answer reaches the ticket (None: unknown or not by mail)
    links: tuple[dict, ...] = ()
    history: tuple[HistoryEntry, ...] = ()   # as stored: the entries that set a status (see compact)
    messages: int = 0                        # notifications applied or recorded for this ticket

    def to_doc(self, history: bool = True) -> dict:
        """Plain JSON data, fields in their order (dataclasses.asdict deep-copies every value: it
        was a fifth of applying a change, issue 14; these values are immutable but the links).
        `history=False`: an empty history, for a writer that stores its own (store/layout.slim)."""
        doc = {name: getattr(self, name) for name in _fields(Ticket)[3]}
        for name in ("assignees", "assignment_order", "cc"):
            doc[name] = list(doc[name])
        doc["links"] = [dict(x) for x in self.links]
        doc["history"] = [h.to_doc() for h in self.history] if history else []
        return doc

    @classmethod
    def from_doc(cls, doc: dict, history: bool = True) -> "Ticket":
        """A stored document back as a Ticket (every command decodes the open and recent ones).
        `history=False`: without its status history, for a listing that never shows it (the
        entries are most of the cost of decoding a ticket)."""
        names = _fields(cls)[2]
        values = {k: v for k, v in doc.items() if k in names}
        for name in ("assignees", "assignment_order", "cc"):
            if name in values:
                values[name] = tuple(values[name] or ())
        if "links" in values:
            values["links"] = tuple(dict(x) for x in values["links"] or ())
        stored = values.get("history") or ()
        values["history"] = tuple(_built(HistoryEntry, dict(h, kinds=tuple(h.get("kinds") or ())))
                                  for h in stored) if history else ()
        if "messages" not in doc:                # written before the count was kept: all history inline
            values["messages"] = len(stored)
        return _built(cls, values)


@functools.cache
def _fields(cls) -> tuple[dict, frozenset, frozenset, tuple]:
    """A dataclass's fields with their defaults, the names of those without one, and all names
    (as a set, and in their order)."""
    fields = dataclasses.fields(cls)
    return ({f.name: f.default for f in fields if f.default is not dataclasses.MISSING},
            frozenset(f.name for f in fields if f.default is dataclasses.MISSING),
            frozenset(f.name for f in fields), tuple(f.name for f in fields))


def _built(cls, values: dict):
    """`cls(**values)` for a frozen dataclass without __post_init__, minus the per-field
    object.__setattr__ of its __init__ (half the cost of decoding a ticket); values that do not
    fit go through __init__, to fail as it fails."""
    defaults, required, names, _ = _fields(cls)
    if not required <= values.keys() or not values.keys() <= names:
        return cls(**values)
    obj = object.__new__(cls)
    obj.__dict__.update(defaults, **values)
    return obj


def evolve(obj, **changes):
    """`dataclasses.replace(obj, **changes)` for the frozen records of this module, without
    running __init__ over every field again (Ticket has 31; applying a change replaces it up to
    four times). A name that is not a field goes through `replace`, to fail as it fails."""
    if not changes.keys() <= _fields(type(obj))[2]:
        return dataclasses.replace(obj, **changes)
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__, **changes)
    return new


_STATUS_KINDS = frozenset((CREATED, STATUS, CLOSED, REOPENED))


def compact(history: tuple[HistoryEntry, ...]) -> tuple[HistoryEntry, ...]:
    """The entries that set the ticket's status: all that status-at-a-moment and closed-in-a-week
    need (the handoff's week-over-week counts). The full history goes to the history log, read
    only by `ticket KEY`; a ticket document stays a few hundred bytes however long it lives."""
    return tuple(h for h in history if not h.late and _STATUS_KINDS.intersection(h.kinds))


# --- what the state keeps beside the tickets (store/records.py maps them to its tables) --------

class _Stored:
    """`to_doc`: plain JSON data as stored (tuples as lists); `from_doc`: back, ignoring fields
    this release does not know and defaulting those an older one did not write."""

    def to_doc(self) -> dict:
        return {f.name: list(v) if isinstance(v, tuple) else v
                for f in dataclasses.fields(self) for v in (getattr(self, f.name),)}

    @classmethod
    def from_doc(cls, doc: dict):
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        return cls(**{k: tuple(v or ()) if isinstance(defaults[k], tuple) else v
                      for k, v in doc.items() if k in defaults})


@dataclass(frozen=True)
class OutboxRecord(_Stored):
    """One mail of the outbox (outbox.py: what its states mean); its bytes are STATE_DIR/outbox/<file>."""
    id: str                              # the Message-ID
    kind: str
    period: str = ""
    tickets: tuple[str, ...] = ()
    subject: str = ""
    sender: str = ""
    recipients: tuple[str, ...] = ()
    file: str = ""
    state: str = "queued"                # queued | sending | sent | written | failed
    attempts: int = 0
    created_at: str = ""
    next_attempt_at: str = ""
    sent_at: str | None = None
    last_error: str | None = None
    sending_until: str | None = None     # while `sending`: a sender is on the wire until then


@dataclass(frozen=True)
class RotationWeek(_Stored):
    """One stored week of the rotation: who is on duty, and the last change of it."""
    week: date                           # its first day (the team's duty_start)
    email: str
    name: str = ""                       # the member's name when the week was stored
    action: str = ""                     # what stored it: load | set | swap
    changed_at: str = ""
    revision: int = 1                    # grows with each change of the week (a calendar's SEQUENCE)

    def to_doc(self) -> dict:
        return dict(super().to_doc(), week=self.week.isoformat())

    @classmethod
    def from_doc(cls, doc: dict) -> "RotationWeek":
        return super().from_doc(dict(doc, week=date.fromisoformat(doc["week"])))


@dataclass(frozen=True)
class Snooze(_Stored):
    """SPEC 10: ticket `id`'s reminders silenced until the end of `until` (YYYY-MM-DD, team time)."""
    id: str                              # the ticket's key
    until: str
    reason: str = ""
    at: str = ""                         # when it was set


@dataclass(frozen=True)
class Problem(_Stored):
    """An error `status` shows: when (ISO 8601), and the one line."""
    at: str
    message: str


@dataclass(frozen=True)
class Health:
    """What the state knows of the stream and of the sender: `status` shows it, the silence alarm
    (policy) reads `last_applied*` and `stream_resumed`."""
    last_sync: str | None = None             # the last successful pass over the live stream
    last_import: str | None = None           # the last `import` of an archive
    last_error: Problem | None = None        # the stream or the state failed; a success clears it
    send_error: Problem | None = None        # the SMTP server could not be reached; a mail sent clears it
    last_applied_at: str | None = None       # when a live pass last applied a notification
    last_applied_date: str | None = None     # that notification's Date
    last_applied: dict | None = None         # its key, title, subject, date
    stream_resumed: dict | None = None       # at, silent_since, last: the first digest after a silence says so
    counters: dict = field(default_factory=dict)     # mails by outcome, lifetime


@dataclass(frozen=True)
class Snapshot:
    """One read of the state: all that deciding which mail is due needs (Store.snapshot)."""
    tickets: tuple[Ticket, ...] = ()                     # open and recently changed, in opening order
    rotation: tuple[RotationWeek, ...] = ()              # the stored weeks, in order
    outbox: dict[str, OutboxRecord] = field(default_factory=dict)   # by Message-ID
    snoozes: dict[str, Snooze] = field(default_factory=dict)        # by ticket key
    health: Health = field(default_factory=Health)


# --- the team file -------------------------------------------------------------------------

@dataclass(frozen=True)
class Member:
    name: str
    email: str
    aliases: tuple[str, ...] = ()
    rotation: bool = True
    signature: str | None = None
    suggest: bool = True           # false: never suggested as a ticket's owner (SPEC 10)


@dataclass(frozen=True)
class Outage:
    member: str          # email
    start: date
    end: date            # inclusive
    reason: str = ""


@dataclass(frozen=True)
class Meeting:
    day: str             # "mon".."sun"
    time: time
    name: str
    brief: bool = False          # SPEC 10: a `brief` mail to the person on duty before it
    brief_minutes: int = 30      # how long before the meeting the brief goes


@dataclass(frozen=True)
class Policy:
    unassigned_after_hours: float = 4
    stale_after_days: int = 2
    user_wait_days: int = 5
    user_close_days: int = 10
    repeat_after_days: int = 2
    reminder_times: tuple[time, ...] = (time(9, 30), time(14, 0))
    announce_time: tuple[str, time] = ("mon", time(9, 0))
    handoff_time: tuple[str, time] = ("fri", time(15, 0))
    silence_after_hours: float = 8   # SPEC 10: business hours without a notification -> `silence` mail; 0: off


@dataclass(frozen=True)
class SystemSpec:
    """A team-defined ticket system (SPEC 7.6): regexes, no code."""
    name: str
    key: str                                   # regex with (?P<id>...) on the subject
    fields: tuple[tuple[str, str], ...] = ()   # (field, regex with (?P<value>...)) on the body
    status_map: tuple[tuple[str, str], ...] = ()
    trusted_senders: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()  # (field, header name): the field's value from a header
    body_until: str | None = None              # regex: fields are read only in the body before its first match


@dataclass(frozen=True)
class Team:
    name: str
    timezone: str
    list_address: str
    from_address: str
    triage_user: str = ""
    triage_next_action: str = ""
    trusted_senders: tuple[str, ...] = ()
    holidays: str | None = None
    duty_start: str = "mon"
    work_hours: tuple[time, time] = (time(9, 0), time(17, 0))
    require_authentication: bool = False
    authserv_id: str | None = None  # the receiving server's id in Authentication-Results (SPEC 9)
    policy: Policy = field(default_factory=Policy)
    members: tuple[Member, ...] = ()
    outages: tuple[Outage, ...] = ()
    meetings: tuple[Meeting, ...] = ()
    systems: tuple[SystemSpec, ...] = ()

    def __str__(self) -> str:          # templates may write {{ team }} for its name
        return self.name

    def member(self, email: str | None) -> Member | None:
        for m in self.members:
            if email and m.email.lower() == email.lower():
                return m
        return None


# --- what goes out -------------------------------------------------------------------------

@dataclass(frozen=True)
class Due:
    """A mail the policy says is due. (kind, tickets, period) identify it: the same three give the
    same Message-ID, so a mail re-decided after a crash or a restart is never sent twice."""
    kind: str                      # unassigned | owner | owner-away | user | close | announce | handoff
    period: str                    # e.g. "2026-11-24T09:30", "2026-11-24", "week-2026-11-23"
    to: tuple[str, ...]
    duty: str | None               # the member on duty, who signs it
    cc: tuple[str, ...] = ()
    tickets: tuple[str, ...] = ()
    in_reply_to: str | None = None  # the ticket's latest notification, for threading
    data: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Outgoing:
    """A rendered mail, ready for the outbox."""
    message_id: str
    kind: str
    period: str
    tickets: tuple[str, ...]
    sender: str                    # envelope sender (team.from_address)
    recipients: tuple[str, ...]    # envelope recipients (To + Cc)
    subject: str
    raw: bytes = field(repr=False)             # empty for a preview (dry run): no MIME was built
    text: str = field(default="", repr=False, compare=False)   # the text part as rendered


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")   # as the team file writes them, by date.weekday()
