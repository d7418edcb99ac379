"""The quarantine: every mail that was not accepted, kept whole with the reason, never dropped.

Each entry is two files in `STATE_DIR/quarantine/`: `<id>.eml` (the bytes as received) and
`<id>.json` (reason, subject, sender, origin, when). The id is a hash of the bytes, so the same mail
delivered twice is one entry. Both are written durably (temp file, fsync, rename) *before* the
source position moves past the mail; the `.json` is written last and marks a complete entry.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from maildaemon.atomic import write_atomic


@dataclass(frozen=True)
class Entry:
    id: str
    reason: str
    message_id: str
    subject: str
    sender: str
    origin: str
    quarantined_at: str

    def to_json(self) -> dict:
        return dict(self.__dict__)


class Quarantine:
    def __init__(self, state_dir: Path):
        self.dir = Path(state_dir) / "quarantine"

    @staticmethod
    def entry_id(raw: bytes) -> str:
        return hashlib.sha256(raw).hexdigest()[:12]

    def put(self, raw: bytes, reason: str, message_id: str, subject: str, sender: str,
            origin: str, now: str) -> Entry:
        self.dir.mkdir(parents=True, exist_ok=True)
        entry = Entry(self.entry_id(raw), reason, message_id, subject[:300], sender, origin, now)
        write_atomic(self.dir / f"{entry.id}.eml", raw)
        write_atomic(self.dir / f"{entry.id}.json",
                      json.dumps(entry.to_json(), ensure_ascii=False, indent=1).encode())
        return entry

    def list(self) -> list[Entry]:
        if not self.dir.is_dir():
            return []
        out = []
        for p in self.dir.glob("*.json"):
            try:
                out.append(Entry(**json.loads(p.read_text(encoding="utf-8"))))
            except (OSError, ValueError, TypeError):
                continue
        return sorted(out, key=lambda e: (e.quarantined_at, e.id))

    def count(self) -> int:
        return len(list(self.dir.glob("*.json"))) if self.dir.is_dir() else 0

    def get(self, entry_id: str) -> tuple[Entry, bytes] | None:
        """An entry by id or unique id prefix."""
        matches = [e for e in self.list() if e.id.startswith(entry_id.lower())] if entry_id else []
        if len(matches) != 1:
            return None
        e = matches[0]
        return e, (self.dir / f"{e.id}.eml").read_bytes()

    def release(self, entry_id: str) -> None:
        """Remove an entry once its mail has been accepted (after the state is committed)."""
        for suffix in (".json", ".eml"):
            try:
                (self.dir / f"{entry_id}{suffix}").unlink()
            except FileNotFoundError:
                pass

