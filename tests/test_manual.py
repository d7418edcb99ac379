"""The command line documents itself: help for everything, the environment in --help, and the man
page and completions shipped in docs/ generated from the same parser (so they cannot drift)."""
import argparse
import io
from contextlib import redirect_stdout

from maildaemon.cli import build_parser, main
from maildaemon.config import ENVIRONMENT
from maildaemon.cli.manual import files


def test_every_subcommand_and_option_has_help():
    missing = []

    def walk(parser, path):
        for a in parser._actions:
            if isinstance(a, argparse._SubParsersAction):
                helps = {c.dest: c.help for c in a._choices_actions}
                for name, sub in a.choices.items():
                    if not helps.get(name):
                        missing.append(" ".join(path + [name]))
                    walk(sub, path + [name])
            elif not a.help and a.dest != "help":
                missing.append(" ".join(path + [a.option_strings[0] if a.option_strings else a.dest]))

    walk(build_parser(), [])
    assert missing == []


def test_help_lists_every_environment_variable_within_80_columns():
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["--help"], environ={}) == 0
    text = out.getvalue()
    for name, _ in ENVIRONMENT:
        assert f"  {name}  " in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_the_shipped_man_page_and_completions_are_current():
    for path, text in files().items():
        assert path.read_text() == text, f"{path} is stale: run `python3 -m maildaemon.cli.manual`"
