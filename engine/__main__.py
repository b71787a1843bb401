"""``python -m engine run CONFIG.json [--json] [--out DIR] [--force]`` (see engine/cli.py)."""

import sys

from engine.cli import main

if __name__ == "__main__":
    sys.exit(main())
