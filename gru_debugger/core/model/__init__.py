"""The recurrent language model and one training iteration of it.

The cells (cells/: one module per cell and the registry), parameter initialisation (init), the
engine that computes and records every number of an iteration, the phases a cursor steps through,
the pure state edits (edits) and the float64 twin of a state (shadow) that the analyses recompute with.
"""
