"""The duty rotation: who owns which week. Pure: no clock, no I/O.

Dates and stored documents come in, assignments and documents go out; the command line does the
reading, writing and printing. The parts, each in its own module:
- assignment.py: one week (`Assignment`) and who is free for it (outages, holidays);
- fair.py: `generate`, the fair choice of new weeks (why it is not round-robin: see there);
- ledger.py: the stored weeks, who is on duty on a day, the fairness summary, the announcement;
- conflicts.py: stored weeks an outage hits, and the fairest swap for each;
- text.py: the text format `rotation load` reads.
The names below are the rotation's public face: `from maildaemon import rotation` and use them.
"""
from maildaemon.rotation.assignment import (UNASSIGNED, WEEK, WINDOW, Assignment, assignment_warnings,
                                            away_in_week, blocking_days, free_members, week_notes)
from maildaemon.rotation.conflicts import SWAP_WEEKS, Conflict, Swap, conflict_lines, conflicts
from maildaemon.rotation.fair import generate
from maildaemon.rotation.ledger import (Fairness, announcement, fairness, from_weeks, nobody_on_duty, on_duty,
                                        swap, who_on)
from maildaemon.rotation.text import Parsed, parse, week_start_problem

__all__ = ["UNASSIGNED", "WEEK", "WINDOW", "Assignment", "assignment_warnings", "away_in_week", "blocking_days",
           "free_members", "week_notes", "SWAP_WEEKS", "Conflict", "Swap", "conflict_lines", "conflicts",
           "generate", "Fairness", "announcement", "fairness", "from_weeks", "nobody_on_duty", "on_duty",
           "swap", "who_on", "Parsed", "parse", "week_start_problem"]
