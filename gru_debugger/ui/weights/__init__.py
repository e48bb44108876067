"""File → Import Weights… / Export Weights…: weights in and out of plain PyTorch (see core/storage/weights_io)."""
from .actions import EXPORT_FILTERS, WeightsActions, ask_export_path, ask_import_path

__all__ = ["EXPORT_FILTERS", "WeightsActions", "ask_export_path", "ask_import_path"]
