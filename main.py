"""Start GRU Debugger: ``python main.py`` opens the window; see ``--help``."""
import sys

from gru_debugger.cli import main

if __name__ == "__main__":
    sys.exit(main())
