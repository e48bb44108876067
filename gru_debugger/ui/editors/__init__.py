"""Editing: debug actions, undo, hyperparameters, inputs, initialisation, training."""
