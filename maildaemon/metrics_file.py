"""MAILDAEMON_METRICS_FILE: the Prometheus text metrics of the state folder, replaced atomically
after each pass (SPEC 11) by the daemon and by `sync`, `remind` and `handoff`; `maildaemon metrics`
prints the same text. The figures and their encoding are metrics.py's; this module reads the
state for them and writes the file.
"""
from __future__ import annotations

import logging
from datetime import datetime

from maildaemon import metrics
from maildaemon.atomic import write_atomic

log = logging.getLogger("maildaemon")
METRICS_MODE = 0o644        # node_exporter runs as another user and must read the file


def exposition(store, team, now: datetime) -> bytes:
    """The metrics of the state folder at `now`, in the Prometheus text format."""
    view = store.view()
    figures = metrics.gather(view, team, now, last_sync=store.health().last_sync,
                             quarantine_entries=store.quarantine().count())
    return metrics.exposition(figures)


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
