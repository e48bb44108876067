"""The controller and its parts: the one object the window, the scripts and the tests drive.

The controller (a cursor through one iteration, edits and navigation), its undo history (history),
the cache of computed traces (trace_cache), its background work and held jobs (background,
held_jobs), returning freed memory to the system (memory), and several iterations in a row (training).
"""
