"""Gravity Flyer: ``python main.py --help`` lists the commands."""

import sys

from game.commands.cli import main

if __name__ == "__main__":
    sys.exit(main())
