"""The scripting API's documented path to the controller (the module is core/control/controller.py).

Kept so that ``from gru_debugger.core.controller import Controller`` in a person's script or notebook
keeps working; the package itself imports core.control.controller.
"""
from .base.validation import ControllerError
from .control.controller import Controller

__all__ = ["Controller", "ControllerError"]
