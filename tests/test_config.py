"""Configuration validation: every mistake names its setting and the fix, secrets stay hidden."""
import pytest

from maildaemon.config import ConfigError, load_settings, team_from_dict

TEAM = {"team": {"name": "T", "timezone": "Europe/Zurich", "list_address": "list@example.org",
                 "from_address": "duty@example.org"},
        "members": [{"name": "Ada", "email": "ada@example.org"}]}


def bad_team(path: str, value, where="team") -> str:
    data = {k: (dict(v) if isinstance(v, dict) else [dict(x) for x in v]) for k, v in TEAM.items()}
    if where == "team":
        data["team"][path] = value
    else:
        data[where] = value
    with pytest.raises(ConfigError) as e:
        team_from_dict(data)
    return str(e.value)


def test_a_minimal_team_loads_with_defaults():
    team = team_from_dict(TEAM)
    assert team.duty_start == "mon" and team.policy.stale_after_days == 2
    assert team.members[0].rotation is True


@pytest.mark.parametrize("key,value,needle", [
    ("timezone", "Europe/Zürich", "team.timezone"),
    ("list_address", "not an address", "team.list_address"),
    ("duty_start", "someday", "team.duty_start"),
    ("work_hours", "17:00-09:00", "team.work_hours"),
    ("trusted_senders", "ticket@example.org", "team.trusted_senders"),
    ("holidays", 42, "team.holidays"),
    ("require_authentication", "yes", "team.require_authentication"),
])
def test_bad_team_values(key, value, needle):
    assert bad_team(key, value).startswith(needle + ":")


def test_bad_sections_name_their_entry():
    assert bad_team("", [{"name": "X"}], where="members").startswith("members[0].email:")
    msg = bad_team("", [{"member": "nobody@example.org", "start": "2026-01-01", "end": "2026-01-02"}], where="outages")
    assert msg.startswith("outages[0].member:") and "not a member" in msg
    assert bad_team("", {"reminder_times": ["9.30"]}, where="policy").startswith("policy.reminder_times:")
    assert bad_team("", {"stale_after_days": -1}, where="policy").startswith("policy.stale_after_days:")


def test_custom_system_regexes_are_checked_at_start():
    msg = bad_team("", [{"name": "freshdesk", "key": r"\[#(\d+)\]"}], where="systems")
    assert msg.startswith("systems.freshdesk.key:") and "(?P<id>" in msg
    msg = bad_team("", [{"name": "freshdesk", "key": r"\[#(?P<id>\d+)\]", "fields": {"status": "(unclosed"}}],
                   where="systems")
    assert msg.startswith("systems.freshdesk.fields.status:") and "does not compile" in msg


def test_settings_defaults_and_security_rules():
    s = load_settings({})
    assert (str(s.state_dir), str(s.team_file), s.imap, s.poll_seconds) == ("state", "team.toml", None, 60)
    s = load_settings({"MAILDAEMON_IMAP_HOST": "127.0.0.1", "MAILDAEMON_IMAP_SECURITY": "plain",
                       "MAILDAEMON_IMAP_PASSWORD": "hunter2"})
    assert s.imap.port == 993 and "hunter2" not in repr(s)
    for host in ("localhost", "::1", "127.0.0.53"):
        load_settings({"MAILDAEMON_IMAP_HOST": host, "MAILDAEMON_IMAP_SECURITY": "plain"})
    with pytest.raises(ConfigError, match="MAILDAEMON_SMTP_SECURITY"):
        load_settings({"MAILDAEMON_SMTP_HOST": "smtp.example.org", "MAILDAEMON_SMTP_SECURITY": "plain"})
    with pytest.raises(ConfigError, match="MAILDAEMON_IMAP_PORT"):
        load_settings({"MAILDAEMON_IMAP_HOST": "h", "MAILDAEMON_IMAP_PORT": "99999"})
    with pytest.raises(ConfigError, match="MAILDAEMON_IMAP_SECURITY"):
        load_settings({"MAILDAEMON_IMAP_HOST": "h", "MAILDAEMON_IMAP_SECURITY": "tls"})
