"""Prometheus metrics (SPEC 11): what a monitoring system needs to page someone before the duty
person notices — the stream went silent, mail piles up in the outbox, the quarantine grows.

Written in the text exposition format by `prometheus-client`'s own encoder (escaping of label
values, `# HELP`/`# TYPE`, the `_total` suffix of counters are its rules, not ours), for
node_exporter's textfile collector (`MAILDAEMON_METRICS_FILE`, replaced atomically after each
pass) and for `maildaemon metrics`. Gathering is a pure function of one state snapshot and `now`.
"""
from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from maildaemon import outbox, policy, workdays
from maildaemon.model import DONE_STATUSES, Team, parse_iso

OUTCOMES = ("applied", "duplicate", "ignored", "quarantined")
OUTBOX_STATES = ("queued", "failed", "sent")


def gather(view, team: Team, now: datetime, *, last_sync: str | None, quarantine_entries: int) -> dict:
    """The figures, from one view of the state: plain numbers, tested without any encoder."""
    health = view.health()
    counters = health.counters
    tickets = view.open_tickets()
    day = now.astimezone(workdays.zone(team)).date()
    stale = 0
    for t in tickets:
        if t.status == "open" and t.owner:
            due = policy.ticket_reminder(t, team, now, day, None)
            stale += due is not None and due.kind in ("owner", "owner-away")
    sent = outbox.summary(view.outbox(), view.outbox_retired())
    applied_at = _epoch(health.last_applied_at)
    mail_date = _epoch(health.last_applied_date)
    return {
        "last_sync": _epoch(last_sync),
        "messages": {o: int(counters.get(o, 0)) for o in OUTCOMES},
        "open": sum(1 for t in tickets if t.status not in DONE_STATUSES),
        "unassigned": sum(1 for t in tickets if policy.waiting_for_triage(t, team)),
        "stale": stale,
        "outbox": {s: sent.get(s, 0) + (sent.get("written", 0) if s == "sent" else 0) for s in OUTBOX_STATES},
        "quarantine": quarantine_entries,
        "silent": max(0.0, now.timestamp() - applied_at) if applied_at is not None else None,
        "lag": max(0.0, applied_at - mail_date) if applied_at is not None and mail_date is not None else None,
    }


class _Collector:
    def __init__(self, figures: dict):
        self.figures = figures

    def collect(self):
        f = self.figures
        yield GaugeMetricFamily("maildaemon_up", "1 while maildaemon can read its state", value=1)
        if f["last_sync"] is not None:
            yield GaugeMetricFamily("maildaemon_last_sync_timestamp_seconds",
                                    "When the last pass over the stream succeeded (Unix time)", value=f["last_sync"])
        messages = CounterMetricFamily("maildaemon_messages", "Notifications read, by what became of them",
                                       labels=["outcome"])
        for outcome, n in f["messages"].items():
            messages.add_metric([outcome], n)
        yield messages
        for name, key, text in (("maildaemon_open_tickets", "open", "Tickets not resolved or closed"),
                                ("maildaemon_unassigned_tickets", "unassigned",
                                 "Open tickets waiting for the person on duty (no owner, or next action still triage)"),
                                ("maildaemon_stale_tickets", "stale",
                                 "Open owned tickets whose owner is due a reminder (idle or past the deadline)"),
                                ("maildaemon_quarantine_entries", "quarantine", "Mails in the quarantine")):
            yield GaugeMetricFamily(name, text, value=f[key])
        mails = GaugeMetricFamily("maildaemon_outbox_mails", "Mails in the outbox, by state (sent: "
                                  "delivered, to SMTP or as a file)", labels=["state"])
        for state, n in f["outbox"].items():
            mails.add_metric([state], n)
        yield mails
        if f["silent"] is not None:
            yield GaugeMetricFamily("maildaemon_stream_silent_seconds",
                                    "Seconds since the last trusted notification was applied", value=f["silent"])
        if f["lag"] is not None:
            yield GaugeMetricFamily("maildaemon_ingest_lag_seconds",
                                    "For the last notification applied: seconds from its Date to its applying",
                                    value=f["lag"])


def exposition(figures: dict) -> bytes:
    """The Prometheus text format of `figures`, by prometheus-client's encoder."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(figures))
    return generate_latest(registry)


def _epoch(value) -> float | None:
    try:
        return parse_iso(value).timestamp() if value else None
    except (TypeError, ValueError):
        return None
