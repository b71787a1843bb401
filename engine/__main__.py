"""``python -m engine``: run a configuration or preset headless, list presets (engine/cli.py).

Commands and exit codes: docs/cli.md.
"""

import sys

from engine.cli import main

if __name__ == "__main__":
    sys.exit(main())
