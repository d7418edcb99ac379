"""Render stage: Jinja templates from the bundled `templates/`, overridable per team.

A team overrides any template by putting a file of the same name in `MAILDAEMON_TEMPLATES_DIR`;
the bundled set is the fallback. Undefined variables are errors, not silent blanks.
"""
from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape


def bundled_templates() -> Path:
    """The copy `pip install` put in the package, or `templates/` of a checkout."""
    from importlib.resources import files
    try:
        installed = Path(str(files("maildaemon.templates")))
        if installed.is_dir():
            return installed
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "templates"


def environment(overrides: Path | None = None) -> Environment:
    loaders = [FileSystemLoader(str(overrides))] if overrides else []
    loaders.append(FileSystemLoader(str(bundled_templates())))
    env = Environment(loader=ChoiceLoader(loaders), undefined=StrictUndefined, keep_trailing_newline=True,
                      trim_blocks=True, lstrip_blocks=True,
                      autoescape=select_autoescape(enabled_extensions=("html", "html.j2")))
    return env
