"""Packaging; metadata and dependencies live in setup.cfg.

The top-level `templates/` folder ships inside the package as `maildaemon.templates`, so a plain
`pip install .` (not only a checkout) carries the bundled Jinja templates.
"""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["maildaemon", "maildaemon.*"]) + ["maildaemon.templates"],
    package_dir={"maildaemon.templates": "templates"},
)
