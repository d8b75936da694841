"""`python -m bot.web`: serve the demo site with the chat widget (same as `run_web`)."""

import sys

from bot.web.app import run_web

if __name__ == "__main__":
    sys.exit(run_web())
