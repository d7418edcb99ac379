"""The one exception tree: every failure maildaemon expects is a `MaildaemonError`.

The entry point catches `MaildaemonError` once and turns it into one line and an exit code
(`exit_code`: 2 for what the operator must fix in the configuration or the command line, 1 for the
rest). Anything else that reaches it is a bug. Imports nothing, so the pure core can raise these
without reaching for the modules that do I/O.
"""
from __future__ import annotations


class MaildaemonError(Exception):
    """An expected failure; `str()` is the one line the user sees (never a secret)."""

    exit_code = 1


class ConfigError(MaildaemonError):
    """A setting is missing or wrong: the setting, the problem, the fix."""

    exit_code = 2
    suggestion: str | None = None      # an unknown key's nearest known one, e.g. "team.timezone"

    def __init__(self, setting: str, problem: str, fix: str):
        self.setting, self.problem, self.fix = setting, problem, fix
        super().__init__(f"{setting}: {problem}; {fix}")


class UsageError(MaildaemonError):
    """A wrong command line: exit 2 with the one line."""

    exit_code = 2


class StoreError(MaildaemonError):
    """The state cannot be read or written; the message says what to do."""


class KeyFileError(StoreError):
    """The key file cannot be read or made; the text names it."""


class SourceError(MaildaemonError):
    """The source could not be read (server down, login refused); the text is safe to log."""


class SendError(MaildaemonError):
    """A temporary SMTP failure; the text names the server, never the password."""


class PermanentFailure(SendError):
    """The server refused for good (5xx), or the mail cannot be sent as it is."""


class TemplateProblem(MaildaemonError):
    """A template (bundled or override) does not compile: the text names the file and line."""

    exit_code = 2


class Unparseable(MaildaemonError):
    """The mail is this system's, but it cannot be turned into a change; the text says why.
    Never reaches the entry point: the mail is quarantined with this reason."""
