"""Configuration: deployment settings from the environment (and an env file), the team from TOML.

Everything is validated here, once, at start: a wrong setting raises `ConfigError(setting, problem,
fix)`, which the CLI prints as one line and exit status 2. Secrets are kept out of reprs and messages.

- settings.py: the environment and the env file into `Settings` (server.py: IMAP and SMTP)
- team.py: the team file into a `Team`, section by section (sections.py, systems.py)
- keys.py: every key the team file knows, and the nearest one for a key it does not
- values.py: the small readers of one value each
- check.py: every problem at once, for `maildaemon check`

The names below are what the rest of maildaemon imports (`from maildaemon.config import ...`).
"""
from maildaemon.config.check import check_configuration
from maildaemon.config.keys import KNOWN_KEYS, SINGLE_TABLES, unknown_keys
from maildaemon.config.server import ServerSettings, is_loopback
from maildaemon.config.settings import (ENVIRONMENT, Settings, load_settings, parse_now, read_environment,
                                        require_source, validate_settings)
from maildaemon.config.systems import CUSTOM_FIELDS
from maildaemon.config.team import check_team_file, load_team, team_from_dict, validate_team, validate_team_file
from maildaemon.errors import ConfigError
from maildaemon.limits import DEFAULT_MAX_MAIL_BYTES
from maildaemon.model import DAYS

__all__ = [
    "CUSTOM_FIELDS", "DAYS", "DEFAULT_MAX_MAIL_BYTES", "ENVIRONMENT", "KNOWN_KEYS", "SINGLE_TABLES", "ConfigError",
    "ServerSettings", "Settings", "check_configuration", "check_team_file", "is_loopback", "load_settings",
    "load_team", "parse_now", "read_environment", "require_source", "team_from_dict", "unknown_keys",
    "validate_settings", "validate_team", "validate_team_file",
]
