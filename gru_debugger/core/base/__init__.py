"""The bottom of core: the run configuration and the little it stands on.

Config (one frozen dataclass and its validation), the errors a person can fix, argument checks,
reading a person's files safely (regular_files, texts), the files the program ships (bundled) and
the initialisation schemes' table. Nothing here imports the engine or tokenizes a corpus, so a
config can be checked cheaply; only the cells' registry (what a cell declares) is read from above.
"""
