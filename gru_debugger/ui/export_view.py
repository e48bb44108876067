"""Save what is on screen: a widget or one heatmap as an image, a heatmap's numbers.

Everything is rendered into memory first and written with one Python call, so a
path that cannot be written raises an ordinary ``OSError`` (with the path in
it) and leaves no half-written file behind. The functions here take a path and
never open dialogs; the ``*_dialog`` helpers ask for a path and report
failures in the window's status bar.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtGui, QtSvg, QtWidgets

from ..core.storage.atomic_write import write_atomic
from .widgets import theme

if TYPE_CHECKING:
    from .widgets.heatmap import Heatmap
    from .panels.tensor_panel import TensorPanel

IMAGE_FORMATS = ("png", "svg")
NUMBER_FORMATS = ("csv", "npy")
FILTERS = {"png": "PNG image (*.png)", "svg": "SVG image (*.svg)",
           "csv": "CSV table (*.csv)", "npy": "NumPy array (*.npy)"}


# ------------------------------------------------------------------ bytes
def _write(path: str | os.PathLike, data: bytes) -> Path:
    """Write all of ``data`` or nothing, atomically (core/storage/atomic_write): a failed write leaves
    the file that was there, and the new one gets the user's umask. An error names ``path``."""
    try:
        return write_atomic(path, data)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or str(exc), os.fspath(path)) from None


def _format_of(path: str | os.PathLike, fmt: str | None, allowed: tuple[str, ...]) -> str:
    fmt = (fmt or Path(path).suffix.lstrip(".")).lower()
    if fmt not in allowed:
        raise ValueError(f"unsupported format {fmt or '(none)'!r}; use one of: {', '.join(allowed)}")
    return fmt


def image_bytes(image: QtGui.QImage | QtGui.QPixmap) -> bytes:
    """PNG bytes of an image (deterministic: Qt writes no time stamp)."""
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise OSError("could not encode the image as PNG")
    return bytes(buffer.data())


def _svg_bytes(size: QtCore.QSize, title: str, paint, dpi: int) -> bytes:
    """Run ``paint(painter)`` on an SVG generator of ``size`` pixels."""
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    generator = QtSvg.QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(size)
    generator.setViewBox(QtCore.QRect(QtCore.QPoint(0, 0), size))
    generator.setResolution(dpi)  # fonts in points come out the size they are on screen
    generator.setTitle(title)
    generator.setDescription("Exported from GRU Debugger")
    painter = QtGui.QPainter()
    if not painter.begin(generator):
        raise OSError("could not start the SVG painter")
    try:
        paint(painter)
    finally:
        painter.end()
    return bytes(buffer.data())


# ------------------------------------------------------------------ widgets
def widget_image(widget: QtWidgets.QWidget, scale: int = 1) -> QtGui.QImage:
    """``widget`` as on screen; ``scale`` > 1 renders it at that device pixel ratio
    (``scale`` times the pixels in each direction, sharp text and lines)."""
    if scale == 1:
        return widget.grab().toImage()
    image = QtGui.QImage(widget.size() * scale, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(scale)
    image.fill(widget.palette().window().color())
    # Items cached as pixmaps (axes, titles) would be scaled up blurred: drawn afresh for this picture.
    views = ([widget] if isinstance(widget, QtWidgets.QGraphicsView) else []) + widget.findChildren(
        QtWidgets.QGraphicsView)
    cached = [(item, item.cacheMode()) for view in views if view.scene() is not None
              for item in view.scene().items() if item.cacheMode() != QtWidgets.QGraphicsItem.CacheMode.NoCache]
    for item, _ in cached:
        item.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.NoCache)
    painter = QtGui.QPainter(image)
    try:
        widget.render(painter, QtCore.QPoint())
    finally:
        painter.end()
        for item, mode in cached:
            item.setCacheMode(mode)
    return image


def widget_png(widget: QtWidgets.QWidget, scale: int = 1) -> bytes:
    """PNG bytes of ``widget`` as on screen (see :func:`widget_image`)."""
    return image_bytes(widget_image(widget, scale))


def widget_svg(widget: QtWidgets.QWidget, title: str = "") -> bytes:
    return _svg_bytes(widget.size(), title or widget.windowTitle() or widget.objectName(),
                      lambda painter: widget.render(painter, QtCore.QPoint()), widget.logicalDpiX())


def save_widget(widget: QtWidgets.QWidget, path: str | os.PathLike, fmt: str | None = None,
                title: str = "", scale: int = 1) -> Path:
    """Save ``widget`` as it looks now: PNG (a screen grab) or SVG (re-rendered
    as vector graphics). ``fmt`` defaults to the path's suffix."""
    fmt = _format_of(path, fmt, IMAGE_FORMATS)
    return _write(path, widget_png(widget, scale) if fmt == "png" else widget_svg(widget, title))


# ------------------------------------------------------------------ heatmaps
BAR_GAP = 5   # between a heatmap and a colour bar drawn elsewhere (as the layout puts a hosted one)


def _heatmap_rect(heatmap: "Heatmap") -> QtCore.QRectF:
    return heatmap.plot.sceneBoundingRect().toAlignedRect().toRectF()


def _bar_rect(heatmap: "Heatmap") -> QtCore.QRectF | None:
    """The scene rect of the colour bar showing this heatmap's scale when another heatmap of its
    group draws it (None: no bar on screen, or the bar is inside the heatmap's own rect already)."""
    bar = getattr(heatmap, "colorbar", None)
    if bar is None or not bar.isVisible() or bar.scene() is not heatmap.plot.scene():
        return None
    item = bar
    while item is not None:  # hosted by this heatmap: a child of its plot
        if item is heatmap.plot:
            return None
        item = item.parentItem()
    return bar.sceneBoundingRect().toAlignedRect().toRectF()


def _pieces(heatmap: "Heatmap") -> tuple[QtCore.QSize, list[tuple[QtCore.QRectF, QtCore.QPointF]]]:
    """What one heatmap's image is made of: its plot (title, axes, cells) and, when another heatmap
    of its group hosts the shared colour bar, that bar to its right, top-aligned as in the panel.
    Returns the image size and (scene rect, place in the image) per piece."""
    plot = _heatmap_rect(heatmap)
    bar = _bar_rect(heatmap)
    if bar is None:
        return QtCore.QSize(max(1, int(plot.width())), max(1, int(plot.height()))), [(plot, QtCore.QPointF())]
    top = min(plot.top(), bar.top())
    bottom = max(plot.bottom(), bar.bottom())
    width = plot.width() + BAR_GAP + bar.width()
    pieces = [(plot, QtCore.QPointF(0, plot.top() - top)),
              (bar, QtCore.QPointF(plot.width() + BAR_GAP, bar.top() - top))]
    return QtCore.QSize(max(1, int(width)), max(1, int(bottom - top))), pieces


def _render_item(heatmap: "Heatmap", painter: QtGui.QPainter, size: QtCore.QSize,
                 pieces: list[tuple[QtCore.QRectF, QtCore.QPointF]]) -> None:
    painter.fillRect(QtCore.QRectF(0, 0, size.width(), size.height()), QtGui.QColor(theme.current().background))
    for rect, at in pieces:
        target = QtCore.QRectF(at.x(), at.y(), rect.width(), rect.height())
        heatmap.plot.scene().render(painter, target, rect)


def save_heatmap_image(heatmap: "Heatmap", path: str | os.PathLike, fmt: str | None = None) -> Path:
    """One heatmap (with its title, axes and colour bar), not the whole panel. A heatmap whose
    colour bar is shared with its neighbours (drawn after the group's last one) gets that bar
    next to it, so the picture always says what its colours mean."""
    fmt = _format_of(path, fmt, IMAGE_FORMATS)
    size, pieces = _pieces(heatmap)
    if fmt == "svg":
        views = heatmap.plot.scene().views()
        dpi = views[0].logicalDpiX() if views else 96
        return _write(path, _svg_bytes(size, heatmap.name, lambda p: _render_item(heatmap, p, size, pieces), dpi))
    image = QtGui.QImage(size, QtGui.QImage.Format.Format_ARGB32)
    image.fill(QtGui.QColor(theme.current().background))
    painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
    try:
        _render_item(heatmap, painter, size, pieces)
    finally:
        painter.end()
    return _write(path, image_bytes(image))


def heatmap_numbers(heatmap: "Heatmap") -> np.ndarray | None:
    """The 2-D array the heatmap displays; cells not computed yet are NaN
    (the recorded trace already holds them, but they do not exist at the cursor)."""
    shown = heatmap.shown
    if shown is None or shown.data is None:
        return None
    data = np.array(np.atleast_2d(shown.data), dtype=np.result_type(shown.data.dtype, np.float32))
    if shown.valid is not None and not np.all(shown.valid):
        data[~np.asarray(shown.valid).reshape(data.shape)] = np.nan
    return data


def numbers_header(heatmap: "Heatmap") -> str:
    shown = heatmap.shown
    assert shown is not None and shown.data is not None
    rows, cols = np.atleast_2d(shown.data).shape
    lines = [f"{heatmap.name}: {shown.title.strip() or heatmap.name}",
             f"shape {rows} x {cols}; NaN = not computed yet at the cursor"]
    if shown.row_labels is not None:
        rows_json = json.dumps([str(x) for x in shown.row_labels], ensure_ascii=False)
        lines.append(f"rows ({shown.row_title or 'row'}): {rows_json}")
    if shown.col_labels is not None:
        lines.append(f"columns ({shown.col_title or 'column'}): "
                     f"{json.dumps([str(x) for x in shown.col_labels], ensure_ascii=False)}")
    return "\n".join(lines)


def save_heatmap_numbers(heatmap: "Heatmap", path: str | os.PathLike, fmt: str | None = None) -> Path:
    """CSV (``numpy.savetxt``, a ``#`` header naming the heatmap and its axes) or NPY."""
    fmt = _format_of(path, fmt, NUMBER_FORMATS)
    data = heatmap_numbers(heatmap)
    if data is None:
        raise ValueError(f"{heatmap.name} has no numbers yet (not computed at the cursor)")
    if fmt == "npy":
        from io import BytesIO
        out = BytesIO()
        np.save(out, data, allow_pickle=False)
        return _write(path, out.getvalue())
    from io import StringIO
    text = StringIO()
    np.savetxt(text, data, delimiter=",", fmt="%.9g", header=numbers_header(heatmap), encoding="utf-8")
    return _write(path, text.getvalue().encode("utf-8"))


# ------------------------------------------------------------------ the window
def slug(text: str) -> str:
    """'GRU cell' -> 'gru-cell' (file names)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "view"




def raised_view(window) -> tuple[str, QtWidgets.QWidget] | None:
    """(title, widget) of the main panel on top of its tab group, if any is on screen."""
    from .registry import main_tab_keys
    for key in main_tab_keys():
        dock = window.docks.get(key)
        if dock is None or dock.isHidden():
            continue
        widget = dock.widget()
        if widget is not None and widget.isVisible() and not widget.visibleRegion().isEmpty():
            return dock.windowTitle(), widget
    return None


def save_view(window, path: str | os.PathLike, whole_window: bool = False, fmt: str | None = None) -> bool:
    """Save the raised panel (or the whole window, also when no panel is on
    screen). Errors go to the status bar; returns whether the file was written."""
    view = None if whole_window else raised_view(window)
    title, widget = view if view is not None else (window.windowTitle(), window)
    try:
        save_widget(widget, path, fmt, title=title)
    except (OSError, ValueError) as exc:
        report_error(window, path, exc)
        return False
    report_saved(window, path)
    return True


def report_saved(widget: QtWidgets.QWidget, path: str | os.PathLike) -> None:
    """'Saved NAME' in the window's status bar: the export worked."""
    window = widget.window()
    if isinstance(window, QtWidgets.QMainWindow):
        window.statusBar().showMessage(f"Saved {Path(path).name}", 8000)


def report_error(widget: QtWidgets.QWidget, path: str | os.PathLike, exc: Exception) -> None:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    message = f"Could not export to {path}: {reason}"
    show = getattr(widget.window(), "show_error", None)
    if callable(show):
        show(message)
    else:
        QtWidgets.QMessageBox.warning(widget, "Export failed", message)


# ------------------------------------------------------------------ dialogs and menus
def ask_path(parent: QtWidgets.QWidget, caption: str, name: str, formats: tuple[str, ...]) -> tuple[str, str]:
    """A save dialog with one filter per format; returns (path, format) or ('', '')."""
    filters = [FILTERS[f] for f in formats]
    path, chosen = QtWidgets.QFileDialog.getSaveFileName(parent, caption, f"{name}.{formats[0]}", ";;".join(filters))
    if not path:
        return "", ""
    fmt = formats[filters.index(chosen)] if chosen in filters else formats[0]
    suffix = Path(path).suffix.lstrip(".").lower()
    if suffix in formats:
        fmt = suffix
    else:
        path += f".{fmt}"
    return path, fmt


def export_view_dialog(window) -> bool:
    """File → Export View…: the raised panel, or the whole window, as PNG or SVG."""
    view = raised_view(window)
    name = slug(view[0]) if view is not None else "window"
    filters = {"Panel as PNG (*.png)": (False, "png"), "Panel as SVG (*.svg)": (False, "svg"),
               "Whole window as PNG (*.png)": (True, "png"), "Whole window as SVG (*.svg)": (True, "svg")}
    if view is None:
        filters = {k: v for k, v in filters.items() if v[0]}
    path, chosen = QtWidgets.QFileDialog.getSaveFileName(window, "Export View", f"{name}.png", ";;".join(filters))
    if not path:
        return False
    whole, fmt = filters.get(chosen, (view is None, "png"))
    suffix = Path(path).suffix.lstrip(".").lower()
    if suffix in IMAGE_FORMATS:
        fmt = suffix
    else:
        path += f".{fmt}"
    return save_view(window, path, whole_window=whole, fmt=fmt)


MENU_ITEMS = (("Export image (PNG)…", "image", "png"), ("Export image (SVG)…", "image", "svg"),
              ("Export numbers (CSV)…", "numbers", "csv"), ("Export numbers (NPY)…", "numbers", "npy"),
              ("Export panel (PNG)…", "panel", "png"))


def export(panel: "TensorPanel", heatmap: "Heatmap", what: str, path: str | os.PathLike, fmt: str) -> bool:
    """What one context-menu entry does once it has a path; errors go to the status bar."""
    try:
        if what == "image":
            save_heatmap_image(heatmap, path, fmt)
        elif what == "numbers":
            save_heatmap_numbers(heatmap, path, fmt)
        else:
            save_widget(panel, path, fmt, title=panel.title)
    except (OSError, ValueError) as exc:
        report_error(panel, path, exc)
        return False
    report_saved(panel, path)
    return True


def heatmap_menu(panel: "TensorPanel", heatmap: "Heatmap") -> QtWidgets.QMenu:
    """The right-click menu of one heatmap in a panel (built, not shown)."""
    menu = QtWidgets.QMenu(panel)
    menu.setObjectName("heatmap-menu")
    has_numbers = heatmap_numbers(heatmap) is not None
    for text, what, fmt in MENU_ITEMS:
        action = menu.addAction(text)
        action.setData((what, fmt))
        if what == "numbers" and not has_numbers:
            action.setEnabled(False)
            action.setToolTip("Not computed yet at the cursor")
        name = slug(panel.title) if what == "panel" else slug(heatmap.name)

        def run(_checked: bool = False, what: str = what, fmt: str = fmt, name: str = name) -> None:
            path, fmt_chosen = ask_path(panel, action_caption(what, heatmap, panel), name, (fmt,))
            if path:
                export(panel, heatmap, what, path, fmt_chosen)
        action.triggered.connect(run)
    add_gradient_check(menu, panel, heatmap)
    return menu


def action_caption(what: str, heatmap: "Heatmap", panel: "TensorPanel") -> str:
    return {"image": f"Export {heatmap.name} as an image", "numbers": f"Export the numbers of {heatmap.name}",
            "panel": f"Export the {panel.title} panel"}[what]


# ------------------------------------------------------------------ a numerical gradient check of one cell
GRADCHECK_TEXT = "Check this gradient numerically…"


def checked_parameter(panel: "TensorPanel", heatmap: "Heatmap") -> str | None:
    """The parameter whose gradient a heatmap's cells stand for: a parameter, its gradient or its update."""
    from ..core.base.config import PARAM_NAMES
    spec = next((s for s in getattr(panel, "specs", ()) if s.name == heatmap.name), None)
    if spec is not None and spec.editable_param in PARAM_NAMES:
        return spec.editable_param
    for prefix in ("param/", "grad/", "update/", "updated/"):
        rest = heatmap.name.removeprefix(prefix)
        if rest != heatmap.name and rest in PARAM_NAMES:
            return rest
    if heatmap.name.startswith("update_"):  # the Update panel: the parameter chosen there
        chosen = getattr(getattr(panel, "view_state", None), "param", None)
        return chosen if chosen in PARAM_NAMES else None
    return None


def parameter_index(panel: "TensorPanel", name: str, cell: tuple[int, int]) -> tuple[int, ...]:
    """The parameter's index of a heatmap cell (a bias is drawn as one row)."""
    shape = tuple(panel.controller.state.params[name].shape)
    r, c = cell
    return (c,) if len(shape) == 1 else (r, c)


def add_gradient_check(menu: QtWidgets.QMenu, panel: "TensorPanel", heatmap: "Heatmap") -> None:
    name = checked_parameter(panel, heatmap)
    if name is None or not hasattr(panel, "controller"):
        return
    where = getattr(panel, "context_cell", None)
    cell = where[1] if where is not None and where[0] == heatmap.name else None
    menu.addSeparator()
    action = menu.addAction(GRADCHECK_TEXT)
    action.setObjectName("gradcheck-action")
    if cell is None:
        action.setEnabled(False)
        action.setToolTip("Right-click a cell of the heatmap to check its gradient")
        return
    index = parameter_index(panel, name, cell)
    action.setToolTip(f"Finite differences against autograd for dL/d {name}[{', '.join(map(str, index))}]")
    action.triggered.connect(lambda _checked=False: show_gradient_check(panel, name, index))


def gradient_check_text(controller, name: str, index: tuple[int, ...]) -> tuple[str, str]:
    """What the gradient-check box says about one element: (the numbers, what they mean).
    Raises ValueError for an index outside the parameter."""
    return gradient_check_parts(controller, name, index)[:2]


def gradient_check_parts(controller, name: str, index: tuple[int, ...]) -> tuple[str, str, str]:
    """The numbers, what they mean, and the verdict: one of the check's three,
    agrees, disagrees, did not converge."""
    from ..core.analysis import gradcheck as gc
    check = gc.check_element(controller.state, name, index)
    at = f"{name}[{', '.join(map(str, index))}]"
    fd, ag = check.estimate, check.autograd
    if fd is None:
        lines = [f"dL/d {at}", "finite difference:  did not converge", f"autograd:           {ag:.10g}",
                 "", "estimates per ε:"]
        lines += gc.ladder_table(check.steps, check.differences, check.estimates)
    else:
        lines = [f"dL/d {at}",
                 f"finite difference:  {fd:.10g}",
                 f"autograd:           {ag:.10g}",
                 f"difference:         {abs(fd - ag):.3g}",
                 f"relative error:     {check.rel_error:.3g}",
                 "", f"the {gc.AGREEING} estimates that agreed (of {len(check.steps)} steps):"]
        lines += gc.ladder_table(check.steps[-gc.AGREEING:], check.differences[-gc.AGREEING:],
                                 check.estimates[-gc.AGREEING:])
    numbers = "\n".join(lines)
    converge = (f"{gc.AGREEING} successive extrapolated estimates within a relative {gc.CONVERGE_TOL:g} "
                f"of each other")
    if check.verdict == gc.AGREES:
        verdict = (f"They agree: the finite difference converged ({converge}, at ε = {check.step:.3g}) "
                   f"and autograd is within a relative error of {gc.REL_TOL:g} of it.")
    elif check.verdict == gc.DISAGREES:
        verdict = (f"They do NOT agree: the finite difference converged ({converge}, at ε = {check.step:.3g}) "
                   f"and autograd differs from it by a relative error of {check.rel_error:.3g}, "
                   f"above {gc.REL_TOL:g}.")
    else:
        verdict = (f"Not judged: the finite difference did not converge. ε went from {check.steps[0]:.3g} "
                   f"down to {check.step:.3g} and never gave {converge}, so there is no reliable number to "
                   "compare autograd with; it may be right or wrong. The estimates per ε are listed above: "
                   "if they grow as ε shrinks, the loss's rounding (or noise), divided by ε, swamps the difference.")
    notes = [verdict]
    floor = gc.REL_TOL * gc.DENOM_FLOOR
    if check.verdict == gc.AGREES and max(abs(fd), abs(ag)) < floor:
        notes.append(f"Both are below {floor:g}, the smallest difference this check resolves: they agree that "
                     "the gradient is about 0, and their digits are not signal.")
    notes += [f"Relative error = |fd − autograd| / max(|fd|, |autograd|, {gc.DENOM_FLOOR:g}).",
              f"Both in float64, at the weights this iteration starts from, with the same batch and dropout masks: "
              f"central differences D(ε) from ε = {check.steps[0]:.3g}, halving ε each time; the extrapolated "
              f"estimate (64·D(ε) − 20·D(2ε) + D(4ε)) / 45 (Richardson's, twice) cancels their ε² and ε⁴ errors."]
    snap = controller.snapshot()
    key = f"grad/{name}"
    recorded = float(np.asarray(snap.final(key))[index])
    if snap.config.dtype != "float64":
        mask = snap.final_roundoff_mask(key)
        if mask is not None and mask[index]:
            notes.append(f"The {snap.config.dtype} gradient recorded here, {recorded:.3g}, is round-off: "
                         "it is 0 in exact arithmetic.")
        else:
            notes.append(f"The {snap.config.dtype} gradient recorded here: {recorded:.7g}.")
    if not snap.phase_complete("backward"):
        notes.append("This is the complete gradient; during backward the heatmaps show the sum so far.")
    return numbers, "\n".join(notes), check.verdict


def show_gradient_check(panel: "TensorPanel", name: str, index: tuple[int, ...]) -> QtWidgets.QMessageBox:
    """Run the check (a wait cursor meanwhile) and show its result in a small, non-blocking box."""
    QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
    try:
        text, notes, verdict = gradient_check_parts(panel.controller, name, index)
        icon = QtWidgets.QMessageBox.Icon.Information if verdict == "agrees" else QtWidgets.QMessageBox.Icon.Warning
    except (ValueError, RuntimeError, MemoryError) as exc:
        text, notes, icon = f"Could not check dL/d {name}[{', '.join(map(str, index))}]", str(exc), \
            QtWidgets.QMessageBox.Icon.Warning
    finally:
        QtWidgets.QApplication.restoreOverrideCursor()
    box = QtWidgets.QMessageBox(icon, "Gradient check", text, QtWidgets.QMessageBox.StandardButton.Close, panel)
    box.setObjectName("gradcheck-box")
    box.setInformativeText(notes)
    box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setStyleSheet("QLabel#qt_msgbox_label { font-family: monospace; }"
                      " QLabel#qt_msgbox_informativelabel { min-width: 420px; }")
    box.open()
    return box
