"""The test team file (a module of its own: `from conftest import` breaks when tests/live/conftest.py
is collected first)."""

TEAM_TOML = """
[team]
name = "Software Team"
timezone = "America/Chicago"
list_address = "software-support-stream@example.org"
triage_user = "Software Support (Triage)"
triage_next_action = "SOFTWARE TRIAGE"
from_address = "software-triage@example.org"
trusted_senders = ["ticket@example.org", "*@rt.example.org"]

[[members]]
name = "Ada Lovelace"
email = "ada@example.org"
aliases = ["alovelace"]

[[members]]
name = "Grace Hopper"
email = "grace@example.org"

[[members]]
name = "Alan Turing"
email = "alan@example.org"

[[outages]]
member = "grace@example.org"
start = 2026-11-30
end = 2026-12-04
"""
