"""``python -m gru_debugger``: the same as the ``gru-debugger`` command."""
import sys

from gru_debugger.cli import main

if __name__ == "__main__":
    sys.exit(main())
