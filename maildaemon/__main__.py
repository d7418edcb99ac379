"""`python -m maildaemon` is the console script."""
from maildaemon.cli import console

console()
