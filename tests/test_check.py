"""`maildaemon check` reports every problem in one run (SPEC 3), one line each."""
import textwrap

from team_file import TEAM_TOML


def maildir(root):
    for sub in ("cur", "new", "tmp"):
        (root / "stream" / sub).mkdir(parents=True, exist_ok=True)
    return str(root / "stream")


def test_several_mistakes_in_the_team_file_are_all_named(cli):
    broken = TEAM_TOML.replace("timezone =", "timezon =", 1) + "\n[policy]\nstale_days = 3\n"
    cli.team_file.write_text(broken)
    code, out, err = cli("check", MAILDAEMON_MAILDIR=maildir(cli.root))
    assert code == 2, (out, err)
    fails = [line for line in out.splitlines() if line.startswith("FAIL  config:")]
    assert any("team.timezon: unknown key in [team]; did you mean timezone?" in line for line in fails), out
    assert any("policy.stale_days: unknown key in [policy]" in line for line in fails), out
    assert any(line.startswith("ok    maildir:") for line in out.splitlines())      # the rest still checked
    assert any(line.startswith("skip  rotation:") for line in out.splitlines())


def test_overrides_that_compile_but_fail_at_render_time_are_named_with_file_and_line(cli):
    tdir = cli.root / "overrides"
    tdir.mkdir()
    (tdir / "owner.txt.j2").write_text("Hello {{ owner.name }},\n\n{{ ticket.nosuch.attr }}\n")
    (tdir / "user.html.j2").write_text("<p>ok</p>\n<p>{{ ticket.title }</p>\n")
    code, out, err = cli("check", "--now", "2026-11-25T10:00", MAILDAEMON_MAILDIR=maildir(cli.root),
                         MAILDAEMON_TEMPLATES_DIR=str(tdir))
    assert code == 2, (out, err)
    fails = [line for line in out.splitlines() if line.startswith("FAIL  templates:")]
    assert len(fails) == 2, out
    assert fails[0].startswith("FAIL  templates: user.html.j2 line 2: ")
    assert fails[1].startswith("FAIL  templates: owner.txt.j2 line 3: UndefinedError:")
    assert "nosuch" in fails[1]


def test_a_good_override_renders_and_check_says_so(cli):
    tdir = cli.root / "overrides"
    tdir.mkdir()
    (tdir / "owner.subject.j2").write_text("Please look at {{ ticket.key }}\n")
    _, out, _ = cli("check", MAILDAEMON_MAILDIR=maildir(cli.root), MAILDAEMON_TEMPLATES_DIR=str(tdir))
    assert f"ok    templates: 1 override(s) in {tdir} compile and render" in out.splitlines()


def test_broken_settings_are_listed_and_what_needs_them_is_skipped(cli):
    code, out, err = cli("check", MAILDAEMON_MAILDIR=maildir(cli.root), MAILDAEMON_SMTP_HOST="127.0.0.1",
                         MAILDAEMON_SMTP_USER="ada")
    assert code == 2
    assert out.splitlines()[0].startswith("FAIL  config: MAILDAEMON_SMTP_PASSWORD: not set while MAILDAEMON_SMTP_USER is")
    assert out.splitlines()[-1] == "skip  state, templates, rotation, stream, smtp: fix the settings above first"


def test_every_kind_of_mail_has_a_sample_to_render_overrides_with():
    from maildaemon.render import KINDS
    from maildaemon.template_check import sample_dues
    found, _ = sample_dues()
    assert sorted(found) == sorted(KINDS)


def test_a_broken_override_of_a_spec10_mail_is_named(cli):
    tdir = cli.root / "overrides"
    tdir.mkdir()
    (tdir / "silence.txt.j2").write_text("Silent since {{ since }}\n{{ last.nosuch.attr }}\n")
    code, out, _ = cli("check", MAILDAEMON_MAILDIR=maildir(cli.root), MAILDAEMON_TEMPLATES_DIR=str(tdir))
    assert code == 2
    assert [x for x in out.splitlines() if x.startswith("FAIL  templates: silence.txt.j2 line 2: UndefinedError")]
