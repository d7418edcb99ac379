"""`maildaemon init`: from a stream's recent mail to a commented team-file proposal (SPEC 11).

The pure part; reading the stream (mbox, Maildir, IMAP) is the command line's job. It feeds each
`RawMail` to `Survey.add`, then writes `Survey.proposal()`:
- sample.py: one mail read the way `classify` does (the same decoder, the same parsers in the same
  order, under the same CPU budget); a few hundred bytes kept, never an exception;
- survey.py: what the whole sample says: the list address, the trusted senders, the time zone;
- people.py: the members: people the parsed notifications (of proposed trusted senders only) name
  as assignees or as the actor of a change on a ticket they did not open, their names, addresses
  and logins joined. A person with no address seen, or only ever assigned and never acting (a
  support unit, the ticket system's own staff), is proposed commented out; submitters, openers
  and CC are listed in a comment only;
- render.py and toml_text.py: the text, every value from mail escaped (SPEC 9: no name can add a
  key or a table). `proposal()` checks its own output with `config.team_from_dict` before
  returning it.
"""
from maildaemon.propose.sample import SenderHeaders, Seen, examine
from maildaemon.propose.survey import Survey
from maildaemon.propose.toml_text import comment, toml_array, toml_string

__all__ = ["SenderHeaders", "Seen", "Survey", "comment", "examine", "toml_array", "toml_string"]
