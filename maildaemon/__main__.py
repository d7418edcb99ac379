"""`python -m maildaemon` is the console script."""
import sys

from maildaemon.cli import main

sys.exit(main())
