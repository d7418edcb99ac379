"""Policy stage: which mails are due at `now`. A pure function of tickets, rotation, team, sent log.

Nothing here reads a clock or a file: the caller passes `now` and the sent log (the outbox), so a
restart at any moment re-decides the same mails with the same identities (kind, tickets, period),
and the outbox refuses the ones already sent. Rules (SPEC section 8):
- Nothing at all goes out while the rotation has no one on duty for the current week: every
  mail is signed by the person on duty (SPEC 8), and a mail signed by nobody is worse than none
  (SPEC 9). `check`, `status` and the daemon's log say so instead (rotation.nobody_on_duty).
- Reminders fall due only on business days, at `policy.reminder_times` (the latest slot at or
  before `now` today; a daemon that was down catches up that slot, not earlier days).
- Unassigned digest to the person on duty at every slot while an open ticket has had no owner
  (or still carries the triage next action) for `unassigned_after_hours` business hours; not
  subject to `repeat_after_days`. The first digest sent on a day lists the day's meetings that
  are still to come.
- Owner reminder while the ticket is `open`, owned, and stale (no team update for
  `stale_after_days` business days) or past its next-action deadline; the person on duty is told
  instead while the owner is away.
- User reminder from `user_wait_days` business days of waiting on the user until
  `user_close_days`, then a close suggestion to the owner.
- No reminder for the same ticket and kind within `repeat_after_days` business days.
- The duty announcement once a week from `announce_time`; the handoff is `handoff.py`'s.
- SPEC 10. A snoozed ticket (snooze.py: the records are passed in as plain data) gets no owner,
  user, close or work-done mail and is left out of the unassigned digest while its snooze holds.
- `work-done` once per support ticket whose linked work items are all resolved or closed
  (work_done.py has the rules).
- `silence` once per silence of the stream, and a line in the first digest after it resumed
  (silence.py has the rules).
- `brief` (brief.py) from `brief_minutes` before a meeting marked `brief = true` until it starts.
"N business days" is always elapsed business time (SPEC 9, "Counting, exactly"): counting.py.

The parts: reminders.py (`due_reminders`, the digest, each ticket's reminder), slots.py (when),
counting.py (how long), rows.py (what a ticket looks like in a mail), silence.py, work_done.py.
The names below are the policy's public face: `from maildaemon import policy` and use them.
"""
from maildaemon.policy.counting import (business_days_since, business_hours_between, business_hours_since, idle,
                                        team_clock, tenths, waited, waiting_since)
from maildaemon.policy.reminders import (REPEATING, due_announcement, due_reminders, last_sent, ticket_reminder,
                                         unassigned_digest)
from maildaemon.policy.rows import (KEY_WIDTH_MAX, flags, key_width, local_minute, next_action, person, snoozed,
                                    snoozed_rows, team_addresses, ticket_row, waiting_for_triage)
from maildaemon.policy.silence import due_silence, silence_period, silent_since, stream_resumed
from maildaemon.policy.slots import Slot, announce_moment, current_slot, handoff_due, repeated, slot_start
from maildaemon.policy.work_done import WORK_DONE_WINDOW, done_at, tickets_by_key, work_done, work_done_rows, work_items

__all__ = ["business_days_since", "business_hours_between", "business_hours_since", "idle", "team_clock", "tenths",
           "waited", "waiting_since", "REPEATING", "due_announcement", "due_reminders", "last_sent",
           "ticket_reminder", "unassigned_digest", "KEY_WIDTH_MAX", "flags", "key_width", "local_minute", "next_action",
           "person", "snoozed",
           "snoozed_rows", "team_addresses", "ticket_row", "waiting_for_triage", "due_silence",
           "silence_period", "silent_since", "stream_resumed", "Slot", "announce_moment",
           "current_slot", "handoff_due", "repeated", "slot_start", "WORK_DONE_WINDOW", "done_at",
           "tickets_by_key", "work_done", "work_done_rows", "work_items"]
