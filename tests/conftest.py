import os

# Qt tests draw offscreen: no display needed, in CI or anywhere else.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
