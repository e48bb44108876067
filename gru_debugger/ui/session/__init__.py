"""Session files and the memory note in the window (new; wired by the main window)."""
