"""`maildaemon demo`: the job on a bundled example stream and team, with no servers.

Ingests `stream.mbox` (a scripted duty week) into a fresh state under `./demo-out/state` and prints
the ticket table. Everything it writes stays in `./demo-out/`.
"""
from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

from maildaemon import views
from maildaemon.cli import parse_now
from maildaemon.config import load_team
from maildaemon.ingest import ingest
from maildaemon.quarantine import Quarantine
from maildaemon.source.archive import ArchiveSource
from maildaemon.store import Store

DEMO_NOW = "2026-11-27T16:00"          # Friday after the handoff, in the team's zone
OUT = Path("demo-out")


def bundled(name: str) -> Path:
    return Path(str(files("maildaemon.demo") / name))


def run_demo(ctx) -> int:
    team = load_team(bundled("team.toml"))
    now = parse_now(getattr(ctx.args, "now", None) or DEMO_NOW, views.ZoneInfo(team.timezone))
    state = OUT / "state"
    shutil.rmtree(state, ignore_errors=True)
    store = Store(state)
    ctx.out(f"maildaemon demo: team {team.name!r}, stream {bundled('stream.mbox').name}, now {now.isoformat()}")
    counts = ingest(ArchiveSource(str(bundled("stream.mbox"))), store, team, now, live=False)
    ctx.out(f"ingested: {counts.line()}")
    for entry in Quarantine(state).list():
        ctx.out(f"quarantined {entry.id}: {entry.reason}")
    ctx.out("")
    ctx.stdout.write(views.tickets_table(store.view().tickets(), team))
    ctx.out(f"\nstate written to {state}/ (try: MAILDAEMON_STATE_DIR={state} "
            f"MAILDAEMON_TEAM_FILE={bundled('team.toml')} maildaemon tickets --all)")
    return 0
