"""The state file as TinyDB sees it: atomic replacement, never created on read, its shape checked.

TinyDB's own JSONStorage rewrites the file in place and truncates afterwards; `kill -9` in that
window leaves an unreadable file. `AtomicJSONStorage` writes a temporary file in the same folder,
fsyncs it, `os.replace`s it over the old one and fsyncs the folder: a reader or a restart sees the
old state or the new one, never half of either. An empty or malformed state file is an error
naming the file, never silently a fresh state (that would queue every mail again and re-read IMAP
from UID 1).
"""
from __future__ import annotations

import errno
import json
import os
import stat
import sys
from pathlib import Path

import orjson
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import Storage

from maildaemon.atomic import explain, link_refused, write_atomic
from maildaemon.errors import StoreError
from maildaemon.model import Ticket

DB_NAME = "maildaemon.json"
CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_FIX = "restore the state folder from a backup, or move the file away to start from an empty state " \
       "(then `maildaemon sync` or `import` of the list archive reads the stream again)"


def broken(path, problem: str) -> StoreError:
    return StoreError(f"{path} {problem}; {_FIX}")


def load_ticket(doc: dict, path, history: bool = True) -> Ticket:
    try:
        return Ticket.from_doc(doc, history)
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise broken(path, f"is not a maildaemon state: ticket {doc.get('key')!r} does not load "
                           f"({type(e).__name__}: {e})") from None


def _json_type(v) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(v), type(v).__name__)


# tables whose documents other code indexes by a field: that field must be a string
_KEYED = {"tickets": "key", "messages": "id", "sources": "id", "outbox": "id"}


def shape_problem(data) -> str | None:
    """Why `data` is not a maildaemon state (a JSON object of tables of documents), or None."""
    if not isinstance(data, dict):
        return f"holds {_json_type(data)}, not an object of tables"
    for name, table in data.items():
        if not isinstance(table, dict):
            return f"has table {name!r} as {_json_type(table)}, not an object of documents"
        for doc_id, doc in table.items():
            if not doc_id.isdigit():
                return f"has document id {doc_id!r} in table {name!r}, not a number"
            if not isinstance(doc, dict):
                return f"has document {name}/{doc_id} as {_json_type(doc)}, not an object"
            field = _KEYED.get(name)
            if field and not isinstance(doc.get(field), str):
                return f"has document {name}/{doc_id} without a text {field!r}"
            if name == "tickets":
                problem = ticket_shape(doc)
                if problem:
                    return f"holds tickets that cannot be read: ticket {doc.get('key')!r} does not load ({problem})"
            if name == "sources" and not isinstance(doc.get("position"), (dict, type(None))):
                return f"has document sources/{doc_id} whose position is not an object"
            if name == "meta":
                problem = _meta_shape(doc)
                if problem:
                    return f"has document meta/{doc_id} whose {problem}"
    return None


def _meta_shape(doc: dict) -> str | None:
    if not isinstance(doc.get("counters", {}), dict) or \
            not all(isinstance(n, int) for n in doc.get("counters", {}).values()):
        return "counters are not numbers"
    err = doc.get("last_error")
    if err is not None and not (isinstance(err, dict) and isinstance(err.get("at"), str)
                                and isinstance(err.get("message"), str)):
        return "last_error is not {at, message}"
    if not isinstance(doc.get("last_sync"), (str, type(None))):
        return "last_sync is not a time"
    retired = doc.get("retired", {})
    if not isinstance(retired, dict) or not all(
            isinstance(v, dict) and all(isinstance(n, int) for n in v.values()) for v in retired.values()):
        return "retired are not counts"
    for field in ("logs", "archived"):
        value = doc.get(field, {})
        if not isinstance(value, dict) or not all(
                isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value.values()):
            return f"{field} are not counts"
    if not isinstance(doc.get("message_count", 0), int):
        return "message_count is not a number"
    return None


def ticket_shape(doc: dict) -> str | None:
    """Why a ticket document cannot load, checked without building it (tickets are decoded only
    when a command needs them: `status` at 50,000 messages decoded 12,644 for a count)."""
    for name in ("system", "id"):
        if not isinstance(doc.get(name), str):
            return f"no text {name!r}"
    history = doc.get("history", [])
    if not isinstance(history, list):
        return "its history is not a list"
    for entry in history:
        if not (isinstance(entry, dict) and isinstance(entry.get("message_id"), str) and isinstance(entry.get("at"), str)
                and isinstance(entry.get("kinds", []), list)):
            return "a history entry is not {message_id, at, kinds}"
    return None


class AtomicJSONStorage(Storage):
    """TinyDB storage that replaces the file atomically and never creates it on read."""

    def __init__(self, path: str, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only

    def read(self):
        """The state, or None when there is no state file yet. Never follows a symbolic link."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise (link_refused(self.path) if e.errno == errno.ELOOP else explain(e, self.path, "read")) from None
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise broken(self.path, "is not a regular file")
            try:
                data = f.read()
            except OSError as e:
                raise explain(e, self.path, "read") from None
        if not data.strip():
            raise broken(self.path, "is empty (the state was lost, e.g. on a full disk or a crash)")
        try:
            doc = orjson.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            where = f" at line {e.lineno} column {e.colno}" if isinstance(e, json.JSONDecodeError) else ""
            raise broken(self.path, f"is not valid JSON{where}") from None
        except RecursionError:
            raise broken(self.path, "is not valid JSON (nested too deeply)") from None
        problem = shape_problem(doc)
        if problem:
            raise broken(self.path, f"is not a maildaemon state: it {problem}")
        return doc

    def write(self, data) -> None:
        if self.read_only:
            raise StoreError("internal: write through a read-only view")
        try:
            payload = orjson.dumps(data)
        except TypeError as e:                   # not JSON data: a bug, named before anything is lost
            raise StoreError(f"internal: the state cannot be written as JSON ({e})") from None
        write_atomic(self.path, payload, follow_dir=True)    # the state folder itself may be a link


class Batched(CachingMiddleware):
    """Reads once, keeps every write in memory until `flush()` (never on its own)."""
    WRITE_CACHE_SIZE = sys.maxsize


def copy(doc):
    """A deep copy of plain JSON data (orjson's round trip: several times faster than deepcopy)."""
    return orjson.loads(orjson.dumps(doc))
