"""Composed frames for the documentation: one picture per step without the window around it.

``NN-name-frame.png``: the timeline strip on top, below it the panel the step's
phase shows (``PHASE_FACTS[phase].panel``) and the Equation panel side by side,
without menus, toolbar, status bar or dock title bars, always the same canvas
size (:data:`FRAME_SIZE`, times the scale). Numbered callouts: ① on every
heatmap the step wrote (the outlined ones), ② on the Equation panel's current
line (▶): filled circles in the theme's accent colour with a white digit.

The three widgets are resized inside their docks for the picture and then given
their docks' sizes back; the window's layout never changes, so the whole-window
images are not affected (and no dock is floated and re-docked, which is slow).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

FRAME_SIZE = (1600, 900)     # the whole canvas at scale 1
TIMELINE_HEIGHT = 60         # the strip on top
PANEL_WIDTH = 1100           # the tensor panel; the Equation panel gets the rest
CALLOUT_RADIUS = 11
FRAME_SUFFIX = "-frame"


@dataclass(frozen=True)
class Callout:
    digit: int          # 1: a heatmap the step wrote, 2: the current equation line
    x: float            # centre, in frame pixels at scale 1
    y: float
    label: str = ""     # what it points at: the heatmap's title, or "equation"


def regions() -> dict[str, tuple[int, int, int, int]]:
    """Where each part sits in the frame at scale 1: key -> (x, y, width, height)."""
    w, h = FRAME_SIZE
    below = h - TIMELINE_HEIGHT
    return {"timeline": (0, 0, w, TIMELINE_HEIGHT), "panel": (0, TIMELINE_HEIGHT, PANEL_WIDTH, below),
            "equations": (PANEL_WIDTH, TIMELINE_HEIGHT, w - PANEL_WIDTH, below)}


def place(point: tuple[float, float], region: tuple[int, int, int, int],
          radius: float = CALLOUT_RADIUS) -> tuple[float, float]:
    """``point`` (inside the part, its own pixels) in frame pixels, kept a whole circle inside the part."""
    x0, y0, w, h = region
    x = min(max(point[0], radius + 1), w - radius - 1)
    y = min(max(point[1], radius + 1), h - radius - 1)
    return (x0 + x, y0 + y)


def written_heatmaps(panel) -> list:
    """The panel's heatmaps that show what the current step wrote (an outline is set): only its main result
    (the thickest outline) if it marks one."""
    from ..widgets.heatmap import Heatmap

    found = [h for h in panel.heatmaps.values()
             if isinstance(h, Heatmap) and h.shown is not None and h.shown.data is not None
             and h.shown.highlight is not None]
    main = [h for h in found if h.shown.emphasis == "main"]
    return main or found  # the step's main result when it has one, else every outlined heatmap


def heatmap_points(panel) -> list[tuple[float, float, str]]:
    """The top-left corner of each written heatmap's outline, in the panel's own pixels, with its title."""
    points = []
    for heatmap in written_heatmaps(panel):
        view = heatmap.plot.getViewBox().sceneBoundingRect()
        outline = heatmap.marker.mapRectToScene(heatmap.marker.rect()).intersected(view)
        if outline.isEmpty():
            continue
        corner = panel.canvas.mapFromScene(outline.topLeft())
        corner = panel.canvas.viewport().mapTo(panel, corner)
        points.append((float(corner.x()), float(corner.y()), short_title(heatmap.shown.title)))
    return points


def equation_point(equations) -> tuple[float, float] | None:
    """Just left of the current line's ▶, in the Equation panel's own pixels (None: no line is current)."""
    rect = equations.current_line_rect()
    if rect is None:
        return None
    viewport = equations.page().viewport()
    centre_y = rect.top() + min(rect.height(), 3 * CALLOUT_RADIUS) / 2
    if not 0 <= centre_y <= viewport.height():
        return None
    point = viewport.mapTo(equations, rect.topLeft())
    return (float(point.x() - CALLOUT_RADIUS - 2), float(point.y() - rect.top() + centre_y))


def plain_title(title: str) -> str:
    text = re.sub(r"<sub>(.*?)</sub>", r"_\1", title or "")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip()


def short_title(title: str) -> str:
    """"h = (1−z)⊙n + …" -> "h", "dL/dh_t (gradient through time)" -> "dL/dh_t"."""
    text = plain_title(title)
    return re.split(r" = | \(| −|  ", text, maxsplit=1)[0].strip()


def callouts(panel, equations) -> list[Callout]:
    """The callouts of a frame, in frame pixels at scale 1 (a pure function of the widgets' state)."""
    parts = regions()
    found = []
    if panel is not None and hasattr(panel, "heatmaps"):
        for x, y, label in heatmap_points(panel):
            found.append(Callout(1, *place((x, y), parts["panel"]), label))
    point = equation_point(equations)
    if point is not None:
        found.append(Callout(2, *place(point, parts["equations"]), "equation"))
    return found


def paint_callouts(painter, marks: Sequence[Callout], accent: str, ring: str) -> None:
    """Filled circles in ``accent`` with a thin ``ring`` (the background) and a white digit."""
    from PySide6 import QtCore, QtGui

    painter.save()
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing, True)
    font = QtGui.QFont()
    font.setPixelSize(int(CALLOUT_RADIUS * 1.35))
    font.setBold(True)
    painter.setFont(font)
    for mark in marks:
        centre = QtCore.QPointF(mark.x, mark.y)
        painter.setPen(QtGui.QPen(QtGui.QColor(ring), 2))
        painter.setBrush(QtGui.QColor(accent))
        painter.drawEllipse(centre, CALLOUT_RADIUS, CALLOUT_RADIUS)
        painter.setPen(QtGui.QColor("#ffffff"))
        box = QtCore.QRectF(mark.x - CALLOUT_RADIUS, mark.y - CALLOUT_RADIUS, 2 * CALLOUT_RADIUS, 2 * CALLOUT_RADIUS)
        painter.drawText(box, int(QtCore.Qt.AlignmentFlag.AlignCenter), str(mark.digit))
    painter.restore()


def compose(camera, step, stem: str, title: str) -> tuple[str, list[Callout]]:
    """Size the timeline, the step's panel and the Equation panel to their parts of the frame (inside
    their docks: the window's layout is not touched), paint them into one picture with the callouts,
    save it as ``stem`` and give them back the sizes their docks set."""
    from PySide6 import QtCore, QtGui, QtWidgets

    from ...core.model.phases import PHASE_FACTS
    from ..widgets import theme
    from ..export_view import _svg_bytes, _write

    win = camera.window
    key = PHASE_FACTS[step.phase].panel
    parts = regions()
    place_of = {"timeline": parts["timeline"], key: parts["panel"], "equations": parts["equations"]}
    widgets, sizes = {}, {}
    try:
        for k in place_of:
            win.show_panel(k)
            widgets[k] = win.docks[k].widget()
            sizes[k] = widgets[k].size()
        panel = win.panels.get(key)
        for _ in range(2):  # the second round catches what the first lay-out changed
            for k, (_, _, w, h) in place_of.items():
                widgets[k].resize(w, h)
            camera.settle([panel] if panel is not None else [])
        marks = callouts(panel, widgets["equations"])
        scheme = theme.current()

        def paint(painter: QtGui.QPainter) -> None:
            painter.fillRect(QtCore.QRect(0, 0, *FRAME_SIZE), QtGui.QColor(scheme.background))
            for k, (x, y, w, h) in place_of.items():
                painter.save()
                painter.setClipRect(QtCore.QRect(x, y, w, h))
                painter.translate(x, y)
                widgets[k].render(painter, QtCore.QPoint())
                painter.restore()
            # a hairline between the parts, as the docks' splitters would draw
            painter.setPen(QtGui.QPen(QtGui.QColor(scheme.pending), 1))
            painter.drawLine(0, TIMELINE_HEIGHT, FRAME_SIZE[0], TIMELINE_HEIGHT)
            painter.drawLine(PANEL_WIDTH, TIMELINE_HEIGHT, PANEL_WIDTH, FRAME_SIZE[1])
            paint_callouts(painter, marks, scheme.active, scheme.background)

        name = f"{stem}{camera.suffix}.{camera.fmt}"
        if camera.fmt == "svg":
            _write(camera.folder / name, _svg_bytes(QtCore.QSize(*FRAME_SIZE), title, paint, win.logicalDpiX()))
        else:
            scale = camera.scale
            image = QtGui.QImage(FRAME_SIZE[0] * scale, FRAME_SIZE[1] * scale,
                                 QtGui.QImage.Format.Format_ARGB32_Premultiplied)
            image.setDevicePixelRatio(scale)
            cached = []
            if scale != 1:  # items cached as pixmaps would be scaled up blurred: drawn afresh
                views = [v for w in widgets.values() for v in w.findChildren(QtWidgets.QGraphicsView)]
                cached = [(item, item.cacheMode()) for v in views if v.scene() is not None
                          for item in v.scene().items()
                          if item.cacheMode() != QtWidgets.QGraphicsItem.CacheMode.NoCache]
                for item, _ in cached:
                    item.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.NoCache)
            painter = QtGui.QPainter(image)
            try:
                paint(painter)
            finally:
                painter.end()
                for item, mode in cached:
                    item.setCacheMode(mode)
            camera.writer.put(camera.folder / name, image)  # encoded and written beside the walk
    finally:
        for k, widget in widgets.items():  # back to the size their docks give them; laid out by the
            widget.resize(sizes[k])           # next stop's settle, before its window image
    return name, marks


def callout_note(marks: Sequence[Callout]) -> str:
    """The sentence of the caption that explains the frame's callouts."""
    written = [m.label for m in marks if m.digit == 1]
    has_equation = any(m.digit == 2 for m in marks)
    if written:
        names = list(dict.fromkeys(n for n in written if n))
        what = ", ".join(f"`{n}`" for n in names[:4]) + (" …" if len(names) > 4 else "")
        first = f"① the new {what}" if what else "① what this step wrote"
        return (f"In the frame: {first}, ② its equation." if has_equation else f"In the frame: {first}.")
    return "In the frame: ② the equation of this step." if has_equation else ""
