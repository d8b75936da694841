"""`python -m bot <command>`: see `python -m bot --help`."""

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main())
