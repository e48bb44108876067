"""View → Theme: System, Light or Dark, kept across runs (QSettings, like the other view settings)."""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from .widgets import theme

TITLES = {"system": "&System", "light": "&Light", "dark": "&Dark"}


def saved_mode(settings: QtCore.QSettings | None) -> str:
    """The theme chosen in an earlier run ("system" if none, or if the setting is not one of ours)."""
    value = settings.value(theme.SETTINGS_THEME, "system") if settings is not None else "system"
    return value if value in theme.MODES else "system"


def add_theme_menu(window: QtWidgets.QMainWindow, menu: QtWidgets.QMenu) -> dict[str, QtGui.QAction]:
    """The Theme submenu of ``menu``; its actions by mode are ``window.theme_actions``."""
    sub = menu.addMenu("&Theme")
    sub.setObjectName("theme-menu")
    group = QtGui.QActionGroup(sub)
    group.setExclusive(True)
    actions = {}
    for mode in theme.MODES:
        action = sub.addAction(TITLES[mode])
        action.setCheckable(True)
        action.setChecked(mode == theme.mode())
        action.setToolTip("Follow the desktop's light or dark setting" if mode == "system"
                          else f"Draw the window and its plots {mode}")
        group.addAction(action)
        action.triggered.connect(lambda _checked=False, mode=mode: switch_theme(window, mode))
        actions[mode] = action
    window.theme_actions = actions
    app = QtWidgets.QApplication.instance()
    if app is not None and not getattr(app, "_theme_follows_desktop", False):  # once per application
        app._theme_follows_desktop = True  # type: ignore[attr-defined]
        app.styleHints().colorSchemeChanged.connect(_desktop_changed)
    return actions


def _desktop_changed(*_args) -> None:
    """The desktop switched between light and dark: with System chosen, the windows follow."""
    if theme.mode() != "system":
        return
    windows = [w for w in QtWidgets.QApplication.topLevelWidgets() if isinstance(w, QtWidgets.QMainWindow)]
    if windows:
        switch_theme(windows[0], "system")


def switch_theme(window: QtWidgets.QMainWindow, mode: str) -> None:
    """Use ``mode`` now in every open window, and remember it for the next run."""
    theme.set_mode(mode)
    settings = getattr(window, "settings", None)
    if settings is not None:
        settings.setValue(theme.SETTINGS_THEME, mode)
    for top in QtWidgets.QApplication.topLevelWidgets():
        if isinstance(top, QtWidgets.QMainWindow):
            theme.repaint_all(top)
            for key, action in getattr(top, "theme_actions", {}).items():
                action.setChecked(key == mode)
