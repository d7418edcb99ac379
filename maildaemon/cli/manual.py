"""The man page and the shell completions, generated from the command line's own parser, so they
cannot drift from it: `python3 -m maildaemon.cli.manual` writes docs/maildaemon.1 and
docs/completion/maildaemon.{bash,zsh}; a test checks the shipped copies are current.

argparse-manpage and shtab do this from an `ArgumentParser` (every subcommand, option and help
text); they are needed only to regenerate, not at run time.
"""
from __future__ import annotations

import sys
from pathlib import Path

from maildaemon import __version__
from maildaemon.cli import build_parser

DOCS = Path(__file__).resolve().parents[2] / "docs"
DATE = "2026-11-29"          # the page's date: when the command line last changed in earnest


def man_page() -> str:
    from argparse_manpage.manpage import Manpage
    parser = build_parser()
    page = Manpage(parser)
    page.description = "triage-duty bookkeeping for a support team's ticket notification stream"
    page.date = DATE                                 # not today's: the shipped copy must stay current
    page.source = f"maildaemon {__version__}"
    page.manual = "maildaemon manual"
    text = str(page)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def completion(shell: str) -> str:
    import shtab
    return shtab.complete(build_parser(), shell=shell)


def files() -> dict[Path, str]:
    return {DOCS / "maildaemon.1": man_page(),
            DOCS / "completion" / "maildaemon.bash": completion("bash"),
            DOCS / "completion" / "maildaemon.zsh": completion("zsh")}


def main() -> int:
    for path, text in files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
