"""The debugger without Qt: the model, its text, what a learner reads of it, storage and the controller.

Each folder imports only the ones before it here (base reads just the cells' registry, which
imports nothing of core): base (config and the checks it stands on), text
(tokenizer and batches), model (engine, cells, phases, edits), analysis (snapshot, round-off,
diagnosis, gradient check, faults, comparisons), storage (sessions, weights, export) and control
(the controller and its background work). ``config.py`` and ``controller.py`` here keep the
scripting API's documented import paths.
"""
