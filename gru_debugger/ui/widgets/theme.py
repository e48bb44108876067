"""Colours: colour maps by kind of tensor, and light/dark schemes."""
from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets

from .kinds import POSITIVE, SIGNED, TANH, UNIT  # noqa: F401 (re-exported: theme.SIGNED, …)

_MAPS = {SIGNED: "CET-D1", TANH: "CET-D1", UNIT: "viridis", POSITIVE: "viridis"}
# On a dark background a white-centred diverging map glares where the values are ~0:
# the dark theme centres zero on near-black (blue → black → red).
_DARK_MAPS = {**_MAPS, SIGNED: "CET-D4", TANH: "CET-D4"}


def colormap(kind: str) -> pg.ColorMap:
    return pg.colormap.get((_DARK_MAPS if _current.dark else _MAPS)[kind])


@dataclass(frozen=True)
class Scheme:
    dark: bool
    background: str
    foreground: str
    not_computed: tuple[int, int, int, int]  # RGBA over cells that do not exist yet
    bad_value: tuple[int, int, int, int]     # RGBA for NaN / Inf
    highlight: str                           # outline of what the current step writes (a colour no map uses)
    active: str                              # active block in the diagram / timeline
    done: str
    pending: str
    gradient: str
    halo: str = "#ffffff"                    # drawn under the outline so it reads on any colour



LIGHT = Scheme(False, "#ffffff", "#202124", (214, 216, 220, 255), (255, 0, 255, 255), "#111214",
               "#ff8c00", "#4a90d9", "#c8ccd2", "#d0342c")
DARK = Scheme(True, "#1e1f22", "#e8eaed", (60, 63, 68, 255), (255, 0, 255, 255), "#3df5ff",
              "#ffb000", "#5aa0ea", "#4a4e55", "#ff6b5e", halo="#000000")


def mix(a: QtGui.QColor, b: QtGui.QColor, f: float) -> QtGui.QColor:
    """``f`` of colour ``a`` over ``b``."""
    return QtGui.QColor.fromRgbF(a.redF() * f + b.redF() * (1 - f), a.greenF() * f + b.greenF() * (1 - f),
                                 a.blueF() * f + b.blueF() * (1 - f))


def contrast_text(fill: QtGui.QColor) -> QtGui.QColor:
    """Dark or white text, whichever reads on ``fill``."""
    lum = 0.2126 * fill.redF() + 0.7152 * fill.greenF() + 0.0722 * fill.blueF()
    return QtGui.QColor("#15171a") if lum > 0.5 else QtGui.QColor("#ffffff")


def system_is_dark(app: QtWidgets.QApplication | None = None) -> bool:
    app = app or QtWidgets.QApplication.instance()
    if app is None:
        return False
    hints = app.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    if scheme is not None:
        value = scheme()
        if value != QtGui.Qt.ColorScheme.Unknown:
            return value == QtGui.Qt.ColorScheme.Dark
    return app.palette().color(QtGui.QPalette.ColorRole.Window).lightness() < 128


_current = LIGHT
MODES = ("system", "light", "dark")   # View → Theme
SETTINGS_THEME = "view/theme"         # the QSettings key that keeps the choice
_mode = "system"


def current() -> Scheme:
    return _current


def mode() -> str:
    """The theme chosen in View → Theme ("system" unless set_mode chose another)."""
    return _mode


def set_mode(chosen: str, app: QtWidgets.QApplication | None = None) -> Scheme:
    """Switch the application to the ``chosen`` theme: its palette, the scheme the views draw with and
    pyqtgraph's colours. The scheme changes before the palette, so a view that repaints on the
    palette's change already reads the new scheme. Views built before keep their colours until
    :func:`repaint_all` renews them."""
    global _mode
    if chosen not in MODES:
        raise ValueError(f"theme must be one of {', '.join(MODES)}, got {chosen!r}")
    _mode = chosen
    app = app or QtWidgets.QApplication.instance()
    if app is None:
        return apply(None if chosen == "system" else chosen == "dark")
    if chosen == "system":
        app.setPalette(QtGui.QPalette())  # no roles of our own: the platform's palette again
        return apply(system_is_dark(app))
    dark = chosen == "dark"
    scheme = apply(dark)
    app.setPalette(dark_palette() if dark else light_palette())
    return scheme


def repaint_all(root: QtWidgets.QWidget) -> None:
    """Every view under ``root`` in the current scheme: pyqtgraph's backgrounds, axes and labels, then
    each widget's own ``retheme()`` (tensor panels rebuild their plots, the Equation page and the
    Tokenizer render again, the drawn views paint again)."""
    scheme = current()
    for view in root.findChildren(pg.GraphicsView):
        view.setBackground(scheme.background)
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem):
                item.setPen()       # no arguments: the foreground of pyqtgraph's (new) configuration
                item.setTextPen()
            elif isinstance(item, pg.LabelItem):
                item.setText(item.text)   # its colour, unless it has its own, is the configuration's
    for widget in [root, *root.findChildren(QtWidgets.QWidget)]:
        if widget.styleSheet():  # a widget with a style sheet keeps the palette it was polished with
            widget.style().unpolish(widget)
            widget.style().polish(widget)
        hook = getattr(widget, "retheme", None)
        if callable(hook):
            hook()
    root.update()


def apply(dark: bool | None = None) -> Scheme:
    """Choose the scheme (default: follow the system) and tell pyqtgraph."""
    global _current
    if dark is None:
        dark = system_is_dark()
    _current = DARK if dark else LIGHT
    pg.setConfigOptions(background=_current.background, foreground=_current.foreground, antialias=False)
    return _current


def dark_palette() -> QtGui.QPalette:
    """A plain dark palette for the Fusion style (used with --theme dark)."""
    pal = QtGui.QPalette()
    role = QtGui.QPalette.ColorRole
    for r, colour in ((role.Window, "#2b2d31"), (role.WindowText, "#e8eaed"), (role.Base, "#1e1f22"),
                      (role.AlternateBase, "#2b2d31"), (role.Text, "#e8eaed"), (role.Button, "#36393f"),
                      (role.ButtonText, "#e8eaed"), (role.Highlight, "#5aa0ea"), (role.HighlightedText, "#000000"),
                      (role.ToolTipBase, "#2b2d31"), (role.ToolTipText, "#e8eaed"), (role.PlaceholderText, "#8a8f98")):
        pal.setColor(r, QtGui.QColor(colour))
    pal.setColor(QtGui.QPalette.ColorGroup.Disabled, role.ButtonText, QtGui.QColor("#6b6f76"))
    pal.setColor(QtGui.QPalette.ColorGroup.Disabled, role.WindowText, QtGui.QColor("#6b6f76"))
    pal.setColor(QtGui.QPalette.ColorGroup.Disabled, role.Text, QtGui.QColor("#6b6f76"))
    return pal


def light_palette() -> QtGui.QPalette:
    return QtWidgets.QApplication.style().standardPalette() if QtWidgets.QApplication.instance() else QtGui.QPalette()
