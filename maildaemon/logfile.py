"""Append-only JSON-lines files whose committed length lives in the state file.

Why: a year of stream is 50,000 messages and 12,500 tickets, nearly all of them finished. Keeping
them in the TinyDB file made every command read, and every commit rewrite, the whole history
(issue 14). What is read rarely (each ticket's full history, the index of every Message-ID seen,
tickets finished long ago) is appended to these logs instead, and the state file keeps only their
committed lengths. A commit appends and fsyncs first, then replaces the state file with the new
lengths: bytes past a committed length are the tail of a commit that never happened, readers
never look at them and the next writer cuts them off. So `kill -9` at any moment leaves the logs
and the state file agreeing, as the single file did.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import orjson

from maildaemon.atomic import append_at, read_range


class LogFile:
    """One log: `STATE_DIR/history/<name>.jsonl`."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def lines(self, start: int, end: int, needle: bytes | None = None) -> Iterator[tuple[int, dict]]:
        """(offset, document) of each committed line in [start, end); with `needle`, only the lines
        that contain it (a cheap byte search before any JSON is parsed)."""
        data = read_range(self.path, start, end)
        at = 0
        while at < len(data):
            nl = data.find(b"\n", at)
            if nl < 0:
                nl = len(data)
            line = data[at:nl]
            if line and (needle is None or needle in line):
                try:
                    doc = orjson.loads(line)
                except orjson.JSONDecodeError:
                    doc = None
                if isinstance(doc, dict):
                    yield start + at, doc
            at = nl + 1

    def line_at(self, offset: int, end: int) -> dict | None:
        """The document of the line starting at `offset` (an offset from `lines`)."""
        data = read_range(self.path, offset, end)
        nl = data.find(b"\n")
        try:
            doc = orjson.loads(data[: nl if nl >= 0 else len(data)])
        except orjson.JSONDecodeError:
            return None
        return doc if isinstance(doc, dict) else None

    def append(self, length: int, docs: list[dict]) -> int:
        """Append `docs` after the committed `length` (dropping any uncommitted tail), durably.
        Returns the new length, to be committed in the state file."""
        if not docs:
            return length
        return append_at(self.path, length, b"".join(orjson.dumps(d) + b"\n" for d in docs))

    def size(self) -> int:
        try:
            return os.lstat(self.path).st_size
        except FileNotFoundError:
            return 0


def needle(field: str, value: str) -> bytes:
    """The bytes `"field":"value"` as orjson writes them, to find a document's lines fast."""
    return orjson.dumps(field) + b":" + orjson.dumps(value)
