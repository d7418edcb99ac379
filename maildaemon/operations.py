"""Commands for running the service: `metrics` and the metrics file written after each pass.

Kept apart from `commands.py` (the duty commands): these read the state and write nothing in it.
"""
from __future__ import annotations

import logging
from datetime import datetime

from maildaemon import metrics as metrics_mod
from maildaemon.atomic import write_atomic

log = logging.getLogger("maildaemon")
METRICS_MODE = 0o644        # node_exporter runs as another user and must read the file


def exposition(store, team, now: datetime) -> bytes:
    """The metrics of the state folder at `now`, in the Prometheus text format."""
    view = store.view()
    figures = metrics_mod.gather(view, team, now, last_sync=store.last_sync(view.meta()),
                                 quarantine_entries=store.quarantine().count())
    return metrics_mod.exposition(figures)


def metrics(ctx) -> int:
    ctx.stdout.write(exposition(ctx.store, ctx.team, ctx.now).decode())
    return 0


def write_metrics_file(settings, store, team, now: datetime) -> None:
    """Replace MAILDAEMON_METRICS_FILE atomically, if set. A failure is logged, never raised: a
    monitoring file must not stop the stream."""
    path = getattr(settings, "metrics_file", None)
    if not path:
        return
    try:
        write_atomic(path, exposition(store, team, now), mode=METRICS_MODE, follow_dir=True)
    except OSError as e:
        log.warning("metrics file %s not written: %s", path, e)
