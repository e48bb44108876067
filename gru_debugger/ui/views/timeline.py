"""The timeline: one chip per phase of the iteration, left to right.

The ``gru`` and ``backward`` chips hold one cell per timestep (backward runs
t = T-1 down to 0, left to right, as its steps do). Chips and cells are
coloured from the cursor: done as a pale tint, the current step in the strong
accent, the future outlined; a gate sub-step inside a GRU timestep (Step Into)
shows as a partly filled cell, and the chip's title then reads the sub-steps
"t = 2:  x2g · h2g · z · r · n · h" with the current one bold. A red dot in a chip's
left margin is a breakpoint. The step where the iteration's first NaN/Inf
appears (``snapshot.fault``) is outlined in red with a small ⚠.

Mouse: click a chip (or a timestep cell) to run to it; click a chip's left
margin, or right-click anywhere on it, to toggle its breakpoint.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from PySide6 import QtCore, QtGui, QtWidgets

from ...core.control.controller import ControllerError
from ...core.model.phases import PHASES, TIMESTEP_PHASES, Step, phase_fact
from ...core.analysis.snapshot import Snapshot
from ..cells import cell_view
from ..widgets import theme
from ..widgets.subscribe import subscribe
from ..widgets.hover import HoverTracking
from ..widgets.picture_cache import PictureCache
from ..widgets.theme import contrast_text, mix
from .timeline_layout import GUTTER, PAD, PREF_CELL, CellLabel, ChipText, cell_labels, chip_widths

log = logging.getLogger(__name__)

CLICK_HELP = "click: run to here; right-click: toggle breakpoint"
BREAKPOINT_RED = "#e51400"
FAULT_RED = "#d0342c"
MARGIN = 4          # around the strip
GAP = 3             # between chips
FONT_PT = 9.0


DONE_TINT = 0.3     # done phases: this much of the done colour over the background (dark text reads on it)


def chip_fill(state: str, colours: dict[str, QtGui.QColor], background: QtGui.QColor, container: bool) -> QtGui.QColor:
    """Done: a pale tint; the current step: the strong accent; the future: the background (outlined)."""
    if state == "active":
        return mix(colours["active"], background, 0.22) if container else QtGui.QColor(colours["active"])
    if state == "done":
        return mix(colours["done"], background, DONE_TINT * (0.75 if container else 1.0))
    return QtGui.QColor(background)


def contrast_ratio(a: QtGui.QColor, b: QtGui.QColor) -> float:
    """WCAG contrast ratio of two colours."""
    def lum(c: QtGui.QColor) -> float:
        chans = [(v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4) for v in (c.redF(), c.greenF(), c.blueF())]
        return 0.2126 * chans[0] + 0.7152 * chans[1] + 0.0722 * chans[2]
    la, lb = sorted((lum(a), lum(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@dataclass
class _Chip:
    phase: str
    rect: QtCore.QRectF
    gutter: QtCore.QRectF
    title: QtCore.QRectF                  # where the title is drawn
    cells: list[tuple[int, QtCore.QRectF]] = field(default_factory=list)  # (t, rect), left to right
    cell_area: QtCore.QRectF | None = None


class TimelineView(HoverTracking):
    """A custom-painted strip of the 13 phases; see the module docstring."""

    message = QtCore.Signal(str)   # a refused request, for the status bar

    def __init__(self, controller, parent: QtWidgets.QWidget | None = None,
                 selection: Callable[[], tuple[int, int]] | None = None):
        super().__init__(parent)
        self._controller = controller
        self._selection = selection or (lambda: (0, 0))   # the Equation panel's row b and unit j
        self._snap: Snapshot = controller.snapshot()
        self._breakpoints: frozenset[str] = frozenset(controller.breakpoints)
        self._layout_key: tuple | None = None
        self._labels: dict[tuple, list[CellLabel]] = {}   # cell_labels by chip order, cell size and font
        self._chips: list[_Chip] = []
        self._hover: tuple[str, int | None, bool] | None = None   # phase, t, in gutter
        font = QtGui.QFont(self.font())
        font.setPointSizeF(FONT_PT)
        self.setFont(font)
        self.setMouseTracking(True)
        self.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.PreventContextMenu)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_Hover, True)
        self._pictures = PictureCache(self, self._draw, ahead=self._paint_ahead)
        subscribe(controller.changed, self, self._on_changed)
        subscribe(controller.breakpoints_changed, self, self._on_breakpoints_changed)

    # ------------------------------------------------------------ controller
    def _on_changed(self, snapshot: Snapshot) -> None:
        old = (self._T, self._snap.config.cell)
        self._snap = snapshot
        if (self._T, snapshot.config.cell) != old:
            self._layout_key = None
            self.updateGeometry()
        self.update()
        self._pictures.schedule()

    def _on_breakpoints_changed(self, phases) -> None:
        self._breakpoints = frozenset(phases)
        self.update()

    def _fact(self, phase: str, name: str) -> str:
        return phase_fact(phase, name, self._snap.config.cell)

    @property
    def _T(self) -> int:
        return self._snap.config.context_length

    # ------------------------------------------------------------ geometry
    def _fonts(self) -> tuple[QtGui.QFont, QtGui.QFont]:
        normal = QtGui.QFont(self.font())
        bold = QtGui.QFont(normal)
        bold.setBold(True)
        return normal, bold

    def _widths(self, available: float) -> list[float]:
        """Chip widths from the titles' measured widths (see timeline_layout)."""
        _, bold = self._fonts()
        fm = QtGui.QFontMetricsF(bold)
        chips = []
        for phase in PHASES:
            title = self._fact(phase, "title")
            words = title.split()
            halves = [max(fm.horizontalAdvance(" ".join(words[:k])), fm.horizontalAdvance(" ".join(words[k:])))
                      for k in range(1, len(words))]
            chips.append(ChipText(fm.horizontalAdvance(title), fm.horizontalAdvance(self._fact(phase, "short")),
                                  min(halves) if halves else None, phase in TIMESTEP_PHASES))
        return chip_widths(available, chips, self._T)

    def _layout(self) -> list[_Chip]:
        key = (self.width(), self.height(), self._T, self._snap.config.cell, self.font().key())
        if key == self._layout_key:
            return self._chips
        widths = self._widths(self.width() - 2 * MARGIN - GAP * (len(PHASES) - 1))
        fm = QtGui.QFontMetricsF(self.font())
        top, bottom = MARGIN - 1.0, self.height() - MARGIN + 1.0
        title_h = fm.height() + 4
        chips: list[_Chip] = []
        x = float(MARGIN)
        for phase, w in zip(PHASES, widths):
            left, right = round(x), round(x + w)
            rect = QtCore.QRectF(left, top, max(right - left, 1), bottom - top)
            gutter_w = min(GUTTER, rect.width() / 3)
            gutter = QtCore.QRectF(rect.left(), rect.top(), gutter_w, rect.height())
            text_left = rect.left() + gutter_w
            text_w = max(rect.right() - PAD - text_left, 1.0)
            if phase in TIMESTEP_PHASES:
                title = QtCore.QRectF(text_left, rect.top() + 1, text_w, title_h)
                area = QtCore.QRectF(text_left, title.bottom(), max(rect.right() - 4 - text_left, 1.0),
                                     max(rect.bottom() - 4 - title.bottom(), 4.0))
                chip = _Chip(phase, rect, gutter, title, cell_area=area)
                T = self._T
                cw = area.width() / T
                gap = 2.0 if cw >= 10 else (1.0 if cw >= 4 else 0.0)
                order = range(T) if phase == "cell" else reversed(range(T))
                for i, t in enumerate(order):
                    chip.cells.append((t, QtCore.QRectF(area.left() + i * cw + gap / 2, area.top(),
                                                        max(cw - gap, 1.0), area.height())))
            else:
                title = QtCore.QRectF(text_left, rect.top(), text_w, rect.height())
                chip = _Chip(phase, rect, gutter, title)
            chips.append(chip)
            x += w + GAP
        self._chips, self._layout_key = chips, key
        return chips

    def sizeHint(self) -> QtCore.QSize:
        _, bold = self._fonts()
        fm = QtGui.QFontMetricsF(bold)
        width = 2 * MARGIN + GAP * (len(PHASES) - 1)
        for phase in PHASES:
            width += fm.horizontalAdvance(self._fact(phase, "title")) + GUTTER + PAD + 8
            if phase in TIMESTEP_PHASES:
                width += max(0, self._T * PREF_CELL - fm.horizontalAdvance(self._fact(phase, "title")))
        return QtCore.QSize(int(width), 56)

    def minimumSizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(len(PHASES) * 20, 44)

    # ------------------------------------------------------------ hit testing
    def _hit(self, point) -> tuple[str, int | None, bool] | None:
        p = QtCore.QPointF(point)
        for chip in self._layout():
            if not chip.rect.contains(p):
                continue
            if chip.gutter.contains(p):
                return chip.phase, None, True
            if chip.cell_area is not None and p.y() >= chip.cell_area.top() - 1:
                area = chip.cell_area
                if area.left() <= p.x() <= area.right():
                    i = int((p.x() - area.left()) / area.width() * len(chip.cells))
                    i = min(max(i, 0), len(chip.cells) - 1)
                    return chip.phase, chip.cells[i][0], False
            return chip.phase, None, False
        return None

    def hit_test(self, point) -> tuple[str, int | None] | None:
        """(phase, t) under a widget point: t is set over a timestep cell."""
        hit = self._hit(point)
        return None if hit is None else (hit[0], hit[1])

    def in_gutter(self, point) -> bool:
        """True over a chip's left margin (where a click toggles the breakpoint)."""
        hit = self._hit(point)
        return bool(hit and hit[2])

    def chip_rect(self, phase: str) -> QtCore.QRect:
        return next(c.rect for c in self._layout() if c.phase == phase).toAlignedRect()

    def cell_rect(self, phase: str, t: int) -> QtCore.QRect:
        chip = next(c for c in self._layout() if c.phase == phase)
        return next(r for tt, r in chip.cells if tt == t).toAlignedRect()

    def fault_step(self) -> tuple[str, int | None] | None:
        """(phase, t) the timeline marks as where the iteration's first NaN/Inf appears, or None."""
        fault = self._snap.fault
        if fault is None:
            return None
        return fault.phase, (fault.t if fault.phase in TIMESTEP_PHASES else None)

    def fault_rect(self) -> QtCore.QRect | None:
        """Where the mark is drawn (the timestep cell, or the whole chip)."""
        where = self.fault_step()
        if where is None:
            return None
        phase, t = where
        return self.cell_rect(phase, t) if t is not None else self.chip_rect(phase)

    # ------------------------------------------------------------ states
    def _phase_state(self, phase: str) -> str:
        step = self._snap.step
        if step is not None and step.phase == phase:
            return "active"
        return "done" if self._snap.phase_complete(phase) else "pending"

    def _cell_state(self, phase: str, t: int) -> tuple[str, float]:
        """State of one timestep and, while a gate sub-step is active, how much of it ran."""
        step = self._snap.step
        if step is not None and step.phase == phase and step.t == t:
            subs = self._snap.cell.substeps
            if step.sub is not None and step.sub != subs[-1]:
                return "active", (subs.index(step.sub) + 1) / len(subs)
            return "active", 1.0
        full = Step(phase, t, "h") if phase == "cell" else Step(phase, t)
        return ("done", 1.0) if self._snap.done(full) else ("pending", 1.0)

    # ------------------------------------------------------------ painting
    @staticmethod
    def _background() -> QtGui.QColor:
        return QtGui.QColor(theme.current().background)

    def _text_colour(self) -> QtGui.QColor:
        scheme = theme.current()
        colour = self.palette().color(QtGui.QPalette.ColorRole.WindowText)
        if (colour.lightness() > 128) != scheme.dark:   # palette and scheme disagree: trust the scheme
            colour = QtGui.QColor(scheme.foreground)
        return colour

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        self._pictures.paint(self._picture_key())

    def _picture_key(self) -> tuple:
        """Everything :meth:`_draw` reads (see :mod:`..widgets.picture_cache`)."""
        snap, step, T = self._snap, self._snap.step, self._T
        return (self.width(), self.height(), self.devicePixelRatioF(), theme.current(), self._text_colour().rgba(),
                self.font().key(), self._hover, self._breakpoints, T, snap.config.cell,
                None if step is None else (step.phase, step.t, step.sub),
                tuple(self._phase_state(phase) for phase in PHASES),
                tuple(self._cell_state(phase, t) for phase in TIMESTEP_PHASES for t in range(T)),
                self.fault_step())

    def _paint_ahead(self) -> None:
        """Idle time: the picture of the step Step goes to next."""
        current = self._snap
        following = current.ahead()
        if following is None or following.config is not current.config:
            return
        self._snap = following
        try:
            self._pictures.prepare(self._picture_key())
        finally:
            self._snap = current

    def _draw(self, p: QtGui.QPainter) -> None:
        scheme = theme.current()
        colours = {"done": QtGui.QColor(scheme.done), "active": QtGui.QColor(scheme.active),
                   "pending": QtGui.QColor(scheme.pending)}
        background = QtGui.QColor(scheme.background)
        text = self._text_colour()
        normal, bold = self._fonts()
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing, True)
        for chip in self._layout():
            state = self._phase_state(chip.phase)
            hover = self._hover is not None and self._hover[0] == chip.phase
            radius = min(6.0, chip.rect.width() / 4)
            body = chip.rect.adjusted(0.5, 0.5, -0.5, -0.5)
            fill = chip_fill(state, colours, background, bool(chip.cells))
            if hover:
                fill = fill.lighter(108) if not scheme.dark else fill.lighter(125)
            pen = QtGui.QPen(colours[state], 1.2) if chip.cells else QtCore.Qt.PenStyle.NoPen
            if state == "pending":  # the future: outlined, not filled
                pen = QtGui.QPen(colours["pending"], 1.4)
            if state == "active":
                pen = QtGui.QPen(text, 2.0)
                body = chip.rect.adjusted(1, 1, -1, -1)
            p.setPen(pen)
            p.setBrush(fill)
            p.drawRoundedRect(body, radius, radius)
            title_colour = text if chip.cells or state == "pending" else contrast_text(fill)
            p.setFont(self._title_font(chip, state, normal, bold))
            self._draw_title(p, chip, state, title_colour)
            if chip.cells:
                self._draw_cells(p, chip, colours, text, normal)
            self._draw_gutter(p, chip, hover)
        self._draw_fault(p, bold)

    def _title_font(self, chip: _Chip, state: str, normal: QtGui.QFont, bold: QtGui.QFont) -> QtGui.QFont:
        """Bold for the active chip, unless bold would have to wrap or elide where normal does not."""
        if state != "active":
            return normal
        lines_bold = self._title_lines(chip, QtGui.QFontMetricsF(bold), state)
        lines_normal = self._title_lines(chip, QtGui.QFontMetricsF(normal), state)
        return bold if lines_bold == lines_normal else normal

    def _title_lines(self, chip: _Chip, fm: QtGui.QFontMetricsF, state: str) -> list[str]:
        title = self._fact(chip.phase, "title")
        width = chip.title.width()
        if chip.cells:
            step = self._snap.step
            candidates = [title]
            if state == "active" and step is not None and step.t is not None:
                sub = f" · {step.sub}" if step.sub not in (None, "h") else ""
                candidates.insert(0, f"{title}  t = {step.t}{sub}")
                candidates.insert(1, f"{title} t = {step.t}")
            candidates.append(self._fact(chip.phase, "short"))
            for c in candidates:
                if fm.horizontalAdvance(c) <= width:
                    return [c]
            return [fm.elidedText(self._fact(chip.phase, "short"), QtCore.Qt.TextElideMode.ElideRight, width)]
        max_lines = max(1, int((chip.title.height() - 4) // fm.lineSpacing()))
        for text in (title, self._fact(chip.phase, "short")):
            if fm.horizontalAdvance(text) <= width:
                return [text]
            words = text.split()
            if len(words) > 1 and max_lines >= 2:
                # the split that makes the wider line narrowest
                k = min(range(1, len(words)), key=lambda k: max(fm.horizontalAdvance(" ".join(words[:k])),
                                                                fm.horizontalAdvance(" ".join(words[k:]))))
                lines = [" ".join(words[:k]), " ".join(words[k:])]
                if all(fm.horizontalAdvance(line) <= width for line in lines):
                    return lines
        return [fm.elidedText(self._fact(chip.phase, "short"), QtCore.Qt.TextElideMode.ElideRight, width)]

    def substep_progress(self) -> list[tuple[str, str]] | None:
        """During Step Into: the current timestep's sub-steps, each "done", "active" or "pending"."""
        step = self._snap.step
        if step is None or step.phase != "cell" or step.sub is None or step.sub == self._snap.cell.substeps[-1]:
            return None
        subs = self._snap.cell.substeps
        k = subs.index(step.sub)
        return [(s, "done" if i < k else "active" if i == k else "pending") for i, s in enumerate(subs)]

    def _draw_progress(self, p: QtGui.QPainter, chip: _Chip, colour: QtGui.QColor) -> bool:
        """"GRU t = 2: x2g · h2g · z · r · n · h", the current sub-step bold and underlined, the
        ones to come faded; False (nothing drawn) when it does not fit."""
        progress = self.substep_progress()
        step = self._snap.step
        if progress is None or step is None:
            return False
        bold = QtGui.QFont(p.font())
        bold.setBold(True)
        bold.setUnderline(True)
        normal = QtGui.QFont(p.font())
        normal.setBold(False)
        parts = [(f"t = {step.t}:  ", normal, "done")]
        for k, (name, state) in enumerate(progress):
            parts.append((name, bold if state == "active" else normal, state))
            if k < len(progress) - 1:
                parts.append((" · ", normal, "pending"))
        width = sum(QtGui.QFontMetricsF(f).horizontalAdvance(text) for text, f, _ in parts)
        if width > chip.title.width():
            return False
        x = chip.title.center().x() - width / 2
        for text, font, state in parts:
            fm = QtGui.QFontMetricsF(font)
            faded = QtGui.QColor(colour)
            if state == "pending":
                faded.setAlphaF(0.55)
            p.setFont(font)
            p.setPen(faded)
            r = QtCore.QRectF(x, chip.title.top(), fm.horizontalAdvance(text) + 1, chip.title.height())
            p.drawText(r, QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter, text)
            x += fm.horizontalAdvance(text)
        return True

    def _draw_title(self, p: QtGui.QPainter, chip: _Chip, state: str, colour: QtGui.QColor) -> None:
        if chip.cells and state == "active" and self._draw_progress(p, chip, colour):
            return
        fm = QtGui.QFontMetricsF(p.font())
        lines = [s for s in self._title_lines(chip, fm, state) if s and s != "…"]
        if not lines:
            return
        p.setPen(colour)
        line_h = fm.lineSpacing()
        total = line_h * len(lines)
        y = chip.title.center().y() - total / 2
        for line in lines:
            r = QtCore.QRectF(chip.title.left(), y, chip.title.width(), line_h)
            p.drawText(r, QtCore.Qt.AlignmentFlag.AlignCenter, line)
            y += line_h

    def _draw_cells(self, p: QtGui.QPainter, chip: _Chip, colours: dict[str, QtGui.QColor],
                    text: QtGui.QColor, font: QtGui.QFont) -> None:
        fills = []
        for t, r in chip.cells:
            state, fraction = self._cell_state(chip.phase, t)
            radius = min(3.0, r.width() / 3)
            p.setPen(QtCore.Qt.PenStyle.NoPen)
            if fraction < 1.0:
                p.setBrush(colours["pending"])
                p.drawRoundedRect(r, radius, radius)
                part = QtCore.QRectF(r.left(), r.top(), r.width() * fraction, r.height())
                p.save()
                p.setClipRect(part)
                p.setBrush(colours["active"])
                p.drawRoundedRect(r, radius, radius)
                p.restore()
            else:
                if state == "pending":
                    p.setPen(QtGui.QPen(colours["pending"], 1.2))
                p.setBrush(chip_fill(state, colours, self._background(), False))
                p.drawRoundedRect(r, radius, radius)
            if state == "active":
                p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
                p.setPen(QtGui.QPen(text, 1.6))
                p.drawRoundedRect(r.adjusted(0.8, 0.8, -0.8, -0.8), radius, radius)
            fills.append(colours["pending"] if fraction < 1.0 else chip_fill(state, colours, self._background(), False))
        for label in self.cell_labels(chip):  # a range: on the colour most of its cells have
            run = [fills[i].rgba() for i in range(label.first, label.last + 1)]
            self._draw_label(p, chip, label, QtGui.QColor.fromRgba(max(run, key=run.count)), font)

    def _label_font(self, font: QtGui.QFont, pt: float) -> QtGui.QFont:
        small = QtGui.QFont(font)
        small.setPointSizeF(pt)
        return small

    def cell_labels(self, chip: _Chip) -> list[CellLabel]:
        """How the chip's timesteps are numbered (see timeline_layout.cell_labels): every one named."""
        if not chip.cells:
            return []
        normal, _ = self._fonts()
        r = chip.cells[0][1]
        order = tuple(t for t, _ in chip.cells)
        key = (order, r.width(), r.height(), normal.key())
        found = self._labels.get(key)
        if found is None:   # measured once per chip size, not on every paint
            metrics: dict[float, QtGui.QFontMetricsF] = {}

            def measure(text: str, pt: float) -> tuple[float, float]:
                fm = metrics.setdefault(pt, QtGui.QFontMetricsF(self._label_font(normal, pt)))
                return fm.horizontalAdvance(text), fm.capHeight() + 3
            if len(self._labels) >= 32:
                self._labels.clear()
            found = self._labels[key] = cell_labels(order, r.width(), r.height(), measure)
        return found

    def _draw_label(self, p: QtGui.QPainter, chip: _Chip, label: CellLabel, fill: QtGui.QColor,
                    font: QtGui.QFont) -> None:
        small = self._label_font(font, label.pt)
        fm = QtGui.QFontMetricsF(small)
        p.setFont(small)
        p.setPen(contrast_text(fill))
        first, last = chip.cells[label.first][1], chip.cells[label.last][1]
        rect = QtCore.QRectF(first.topLeft(), last.bottomRight()) if first.left() <= last.left() else \
            QtCore.QRectF(last.topLeft(), first.bottomRight())
        if label.stacked:  # the digits one above the other
            line = fm.capHeight() + 3
            top = rect.center().y() - line * len(label.text) / 2
            for i, digit in enumerate(label.text):
                p.drawText(QtCore.QRectF(rect.left(), top + i * line, rect.width(), line),
                           QtCore.Qt.AlignmentFlag.AlignCenter, digit)
            return
        shown = fm.elidedText(label.text, QtCore.Qt.TextElideMode.ElideMiddle, rect.width() + 2)
        if label.first == label.last:
            p.drawText(rect.adjusted(-1, 0, 1, 0), QtCore.Qt.AlignmentFlag.AlignCenter, shown)
            return
        # A range over several cells: a bracket under them says where it starts and ends, and a halo
        # in the cells' colour keeps the numbers readable across their edges and the cursor's outline.
        colour = contrast_text(fill)
        y = rect.bottom() - 1.5
        p.setPen(QtGui.QPen(colour, 1.0))
        p.drawPolyline([QtCore.QPointF(rect.left() + 1, y - 3), QtCore.QPointF(rect.left() + 1, y),
                        QtCore.QPointF(rect.right() - 1, y), QtCore.QPointF(rect.right() - 1, y - 3)])
        width = fm.horizontalAdvance(shown)
        path = QtGui.QPainterPath()
        path.addText(rect.center().x() - width / 2, rect.center().y() + fm.capHeight() / 2 - 1, small, shown)
        p.strokePath(path, QtGui.QPen(fill, 2.5))
        p.fillPath(path, colour)

    def _draw_fault(self, p: QtGui.QPainter, font: QtGui.QFont) -> None:
        where = self.fault_step()
        if where is None:
            return
        rect = QtCore.QRectF(self.fault_rect())
        red = QtGui.QColor(FAULT_RED)
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        p.setPen(QtGui.QPen(red, 2.2))
        radius = min(4.0, rect.width() / 3)
        p.drawRoundedRect(rect.adjusted(-1.5, -1.5, 1.5, 1.5), radius, radius)
        mark = QtGui.QFont(font)
        mark.setPointSizeF(FONT_PT + 2)
        fm = QtGui.QFontMetricsF(mark)
        badge = QtCore.QRectF(0, 0, fm.horizontalAdvance("⚠") + 2, fm.height())
        if where[1] is None:   # a whole chip: inside its top-right corner
            badge.moveTopRight(QtCore.QPointF(rect.right() - 2, rect.top() + 1))
        else:                  # a timestep cell: just above it
            badge.moveCenter(QtCore.QPointF(rect.center().x(), rect.top() - badge.height() / 2 + 2))
        p.setFont(mark)
        p.setPen(red)
        p.drawText(badge, QtCore.Qt.AlignmentFlag.AlignCenter, "⚠")

    def _draw_gutter(self, p: QtGui.QPainter, chip: _Chip, hover: bool) -> None:
        g = chip.gutter
        radius = min(4.5, g.width() / 2 - 1)
        if radius < 1.5:
            return
        centre = QtCore.QPointF(g.center().x() + 1, chip.rect.center().y())
        red = QtGui.QColor(BREAKPOINT_RED)
        if chip.phase in self._breakpoints:
            p.setPen(QtGui.QPen(QtGui.QColor("#ffffff"), 1.2))
            p.setBrush(red)
            p.drawEllipse(centre, radius, radius)
        elif hover and self._hover is not None and self._hover[2]:
            red.setAlphaF(0.45)
            p.setPen(QtCore.Qt.PenStyle.NoPen)
            p.setBrush(red)
            p.drawEllipse(centre, radius, radius)

    # ------------------------------------------------------------ events
    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        self._layout_key = None
        super().resizeEvent(event)

    def retheme(self) -> None:
        """View → Theme: paint again (the picture keys hold the scheme's colours)."""
        self.update()

    def changeEvent(self, event: QtCore.QEvent) -> None:
        if event.type() in (QtCore.QEvent.Type.FontChange, QtCore.QEvent.Type.PaletteChange):
            self._layout_key = None
            self.update()
        super().changeEvent(event)

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        hit = self._hit(event.position())
        if hit is None:
            super().mousePressEvent(event)
            return
        phase, t, gutter = hit
        button = event.button()
        try:
            if button == QtCore.Qt.MouseButton.RightButton or (button == QtCore.Qt.MouseButton.LeftButton and gutter):
                self._controller.toggle_breakpoint(phase)
            elif button == QtCore.Qt.MouseButton.LeftButton:
                self._controller.run_to(phase, t)
            else:
                super().mousePressEvent(event)
                return
        except ControllerError as exc:
            self.message.emit(str(exc))
        event.accept()

    def _hover_key(self, point):
        return self._hit(point)

    def tooltip_text(self, point) -> str:
        """What the tooltip says at a widget point ('' over nothing)."""
        hit = self._hit(point)
        if hit is None:
            return ""
        phase, t, _ = hit
        return self.help_text(phase, t)

    def help_text(self, phase: str, t: int | None = None) -> str:
        """The tooltip of a phase or of one of its timesteps: what it does and, once a timestep has run,
        what it did with its numbers (for the Equation panel's row and unit)."""
        title = self._fact(phase, "title")
        if t is not None:
            state, fraction = self._cell_state(phase, t)
            title += f" t = {t}"
        else:
            state, fraction = self._phase_state(phase), 1.0
        status = {"done": "done", "active": "current step", "pending": "not run yet"}[state]
        step = self._snap.step
        if fraction < 1.0 and step is not None and step.sub is not None:
            status += f", at gate sub-step {step.sub}"
        lines = [f"<b>{title}</b> ({status})", self._fact(phase, "help")]
        if t is not None and fraction == 1.0 and state != "pending":
            facts = self._facts(phase, t)
            if facts:
                lines.append(facts)
        if self.fault_step() == (phase, t if phase in TIMESTEP_PHASES else None) and self._snap.fault is not None:
            lines.append(f"<span style='color:{FAULT_RED}'>⚠ This iteration's {self._snap.fault.message}.</span>")
        if phase in self._breakpoints:
            lines.append("Breakpoint set: Continue stops here.")
        lines.append(f"<i>{CLICK_HELP}</i>")
        return "<br>".join(lines)

    def _facts(self, phase: str, t: int) -> str:
        """What timestep t of ``phase`` did, in numbers ('' if they cannot be shown)."""
        snap = self._snap
        b, j = self._selection()
        b = min(max(b, 0), snap.config.batch_size - 1)
        j = min(max(j, 0), snap.config.hidden_size - 1)
        view = cell_view(snap.config.cell)
        try:
            if phase == "cell":
                return view.timestep_facts(snap, b, j, t)
            return view.backward_facts(snap, b, j, t)
        except Exception:  # never raise out of a tooltip
            log.exception("timeline could not describe %s t=%s", phase, t)
            return ""

    def event(self, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.ToolTip:
            pos = event.pos()
            text = self.tooltip_text(pos)
            if text:
                hit = self._hit(pos)
                chip = next(c for c in self._layout() if c.phase == hit[0])
                area = chip.rect
                if hit[1] is not None:
                    area = next(r for tt, r in chip.cells if tt == hit[1])
                QtWidgets.QToolTip.showText(event.globalPos(), text, self, area.toAlignedRect())
            else:
                QtWidgets.QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)
