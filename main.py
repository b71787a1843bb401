"""Start Feature Spectrum Lab (see gui/app.py for the options)."""

import sys

from gui.app import main

if __name__ == "__main__":
    sys.exit(main())
