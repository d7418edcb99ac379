"""`init`'s survey of a sample stream: feed it mails (`add`), then ask for the proposal (`proposal`).

What the sample as a whole decides, beyond each mail (sample.py) and the people (people.py):
- `list_address`: the address most mails name as the list: `List-Post` (and a `List-Id` that
  matches it) count most, `To`/`Cc`/`Delivered-To` less; GitHub's reply addresses never.
- `trusted_senders`: per ticket system, the exact sender addresses of its notifications, read as
  `parse/trust.py` reads them once the list is known. Only mails that look machine-made are
  counted (`Auto-Submitted: auto-…`, or the system's own headers), so a person answering a
  notification through the list is never proposed as a trusted sender.
- `timezone`: the IANA zone, of a short list of common ones, whose UTC offset at each mail's Date
  matches the offset that Date header carries most often (DST taken into account); a guess, and
  the comment says so and gives the counts.
"""
from __future__ import annotations

import re
import tomllib
from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

from maildaemon.config import team_from_dict
from maildaemon.limits import CLASSIFY_CPU_SECONDS
from maildaemon.model import RawMail, Team, valid_address
from maildaemon.parse import parsers_for, trust
from maildaemon.propose.people import find_people
from maildaemon.propose.render import Findings, render
from maildaemon.propose.sample import Seen, examine
from maildaemon.propose.toml_text import cut

# Common zones, most likely first; a tie goes to the earlier one.
ZONES = ("America/Chicago", "America/New_York", "America/Denver", "America/Los_Angeles", "America/Phoenix",
         "America/Anchorage", "Pacific/Honolulu", "America/Halifax", "America/St_Johns", "America/Mexico_City",
         "America/Bogota", "America/Sao_Paulo", "America/Argentina/Buenos_Aires", "America/Santiago",
         "UTC", "Europe/London", "Europe/Berlin", "Europe/Helsinki", "Europe/Istanbul", "Europe/Moscow",
         "Africa/Lagos", "Africa/Johannesburg", "Africa/Nairobi", "Asia/Dubai", "Asia/Tehran", "Asia/Karachi",
         "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dhaka", "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo",
         "Australia/Perth", "Australia/Adelaide", "Australia/Brisbane", "Australia/Sydney", "Pacific/Auckland")


class Survey:
    """Feed it mails (`add`), then ask for the proposal text (`proposal`)."""

    def __init__(self, cpu_seconds: float = CLASSIFY_CPU_SECONDS):
        self.cpu_seconds = cpu_seconds
        self.parsers = parsers_for(Team(name="init", timezone="UTC", list_address="", from_address=""))
        self.seen: list[Seen] = []
        self.notes: list[str] = []          # e.g. "stopped after 120 s"

    def add(self, raw: RawMail) -> None:
        self.seen.append(examine(raw, self.parsers, self.cpu_seconds))

    # ---- the findings ----

    def list_address(self) -> tuple[str | None, str]:
        """The list's address and why (for the comment)."""
        ids = {i for s in self.seen for _, i in s.list_ids}
        score: Counter = Counter()
        posts: Counter = Counter()
        for s in self.seen:
            for addr, weight in set(s.list_votes):
                if not valid_address(addr) or _not_a_list(addr):
                    continue
                local, _, domain = addr.partition("@")
                score[addr] += weight + (2 if weight == 3 and f"{local}.{domain}" in ids else 0)
                posts[addr] += weight == 3
        if not score:
            return None, "no List-Post, List-Id or To address seen"
        best, _ = max(score.items(), key=lambda kv: (kv[1], kv[0]))
        n = sum(1 for s in self.seen if any(a == best for a, _ in s.list_votes))
        return best, f"named by {n} of {len(self.seen)} mails ({posts[best]} in List-Post)"

    def team_name(self, list_address: str | None) -> str:
        local, _, domain = (list_address or "").partition("@")
        ours = f"{local}.{domain}"          # the list's own List-Id, not GitHub's per-repository one
        phrases = Counter(p for s in self.seen for p, i in s.list_ids if p and i == ours) or \
            Counter(p for s in self.seen for p, i in s.list_ids if p and not i.endswith(".github.com"))
        if phrases:
            return cut(phrases.most_common(1)[0][0])
        return (list_address or "support stream").partition("@")[0]

    def sender(self, s: Seen, list_address: str | None) -> trust.Sender:
        return trust.read_sender(s.senders, list_address or "")

    def zone(self) -> tuple[str, str]:
        dated = [(s.instant, s.offset) for s in self.seen if s.instant is not None and s.offset is not None]
        offsets = Counter(o for _, o in dated)
        if not dated:
            return "UTC", "a guess: no Date header could be read; set your team's zone"
        scores = []
        for i, name in enumerate(ZONES):
            tz = ZoneInfo(name)
            hits = sum(1 for at, off in dated if tz.utcoffset(at.astimezone(tz)) == timedelta(minutes=off))
            scores.append((hits, -i, name))
        scores.sort(reverse=True)
        hits, _, best = scores[0]
        top = ", ".join(f"{_offset(o)} ×{c}" for o, c in offsets.most_common(4))
        if hits == 0:
            off = offsets.most_common(1)[0][0]
            best = "UTC" if off == 0 else (f"Etc/GMT{-off // 60:+d}" if off % 60 == 0 else "UTC")
            also = ""
        else:
            ties = [n for h, _, n in scores[1:] if h == hits][:3]
            also = f"; as good a fit: {', '.join(ties)}" if ties else ""
        return best, (f"a guess: {hits} of {len(dated)} Date headers fit it ({top}){also}; "
                      "set the zone your team works in")

    def _accepted(self, list_address: str | None):
        """(seen, sender) of the machine-made, parsed notifications; and of the others recognised."""
        good, other = [], []
        for s in self.seen:
            if s.system is None:
                continue
            who = self.sender(s, list_address)
            ok = (s.change is not None and s.machine and not who.problem and who.address
                  and who.address != (list_address or "") and _sender_ok(who.address))
            (good if ok else other).append((s, who))
        return good, other

    # ---- the text ----

    def proposal(self, source: str) -> str:
        list_address, list_why = self.list_address()
        accepted, others = self._accepted(list_address)
        zone, zone_why = self.zone()
        people, triage_user, next_action = find_people(accepted, (list_address or "").partition("@")[0].lower())
        text = render(self, source, Findings(list_address, list_why, accepted, others, zone, zone_why,
                                             people, triage_user, next_action))
        team_from_dict(tomllib.loads(text))         # what we propose must load (a failure is our bug)
        return text


def _not_a_list(addr: str) -> bool:
    local, _, domain = addr.partition("@")
    return domain == "github.com" or domain.endswith(".github.com") or local.startswith(("reply+", "unsub+"))


def _sender_ok(addr: str) -> bool:
    """An address the team file accepts in trusted_senders (config/values.py), and exact (no `*`)."""
    return valid_address(addr) and bool(re.fullmatch(r"[^@\s*]+@[^@\s*]+", addr))


def _offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
