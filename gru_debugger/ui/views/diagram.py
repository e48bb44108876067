"""The network as a diagram, data flowing top to bottom.

tokens x → Embedding wte → Dropout → GRU cell (x2g, h2g → z, r, n → h, with
the recurrence h_{t−1} → h_t) → Stack → Dropout → Head lm_head → Softmax /
Cross-entropy, then the SGD update and the second forward pass. The block of
the cursor's phase is highlighted; inside the GRU cell, so is the gate sub-step.
While gradients are being computed and applied (zero_grad, backward, update)
an arrow on the right climbs as far up as back-propagation has got.

Clicking a block emits :attr:`DiagramView.block_clicked` with the key of the
panel that shows it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from PySide6 import QtCore, QtGui, QtWidgets

from ...core.analysis.snapshot import Snapshot
from ..cells import cell_view
from ..widgets import theme
from ..widgets.subscribe import subscribe
from ..widgets.hover import HoverTracking
from ..widgets.picture_cache import PictureCache
from ..widgets.theme import contrast_text, mix
from .diagram_layout import BLOCKS, LANE_W, SIDE_LABELS, Rect, layout  # noqa: F401 (SIDE_LABELS: tests)

FONT_PT = 9.0
GRADIENT_PHASES = ("zero_grad", "backward", "update")

BLOCK_HELP: dict[str, str] = {
    "tokens": "Tokens x: the corpus encoded by the byte-pair tokenizer, cut into a (B, T) batch.",
    "embed": "Embedding wte: each token id picks its row of wte.",
    "dropout_in": "Dropout on the embeddings: random entries zeroed, the rest scaled by 1/(1−p).",
    "stack": "Stack: h_0 … h_{T−1} collected into one (B, T, H) tensor.",
    "dropout_out": "Dropout on the hidden states.",
    "head": "Head lm_head: logits over the vocabulary for every position.",
    "loss": "Softmax of the logits and the mean cross-entropy against the next tokens y.",
    "update": "SGD update: every parameter moves by −lr × its gradient.",
    "forward_after": "The same batch through the updated weights: the loss before and after.",
    "gradients": "Gradients flow back up from the loss (back-propagation through time).",
}


def _q(r: Rect) -> QtCore.QRectF:
    return QtCore.QRectF(r.x, r.y, r.w, r.h)


@dataclass
class _Geometry:
    """The layout's rectangles as QRectF, for painting."""
    blocks: dict[str, QtCore.QRectF] = field(default_factory=dict)   # BLOCKS and SIDE_LABELS by name
    gates: dict[str, QtCore.QRectF] = field(default_factory=dict)    # inside the cell block
    rows: tuple[tuple[str, ...], ...] = ()
    gru_title: QtCore.QRectF = field(default_factory=QtCore.QRectF)
    lane_x: float = 0.0
    lane: QtCore.QRectF = field(default_factory=QtCore.QRectF)        # clickable gradient lane
    loop_x: float = 0.0                                                # recurrence, inside the cell


class DiagramView(HoverTracking):
    """The model as boxes and arrows; see the module docstring."""

    block_clicked = QtCore.Signal(str)   # the key of the panel that shows the clicked block

    def __init__(self, controller, parent: QtWidgets.QWidget | None = None, targets: dict[str, str] | None = None):
        super().__init__(parent)
        self._targets = dict(targets or {})   # block -> panel key (from the panel registry)
        self._snap: Snapshot = controller.snapshot()
        self._geom_key: tuple | None = None
        self._geom = _Geometry()
        self._hover: str | None = None
        font = QtGui.QFont(self.font())
        font.setPointSizeF(FONT_PT)
        self.setFont(font)
        self.setMouseTracking(True)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Preferred)
        self._pictures = PictureCache(self, self._draw, ahead=self._paint_ahead)
        subscribe(controller.changed, self, self._on_changed)

    # ------------------------------------------------------------ controller
    def _on_changed(self, snapshot: Snapshot) -> None:
        self._snap = snapshot
        self._geom_key = None   # texts (shapes, loss) may have changed width
        self.update()
        self._pictures.schedule()

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(260, 560)

    def minimumSizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(220, 480)

    # ------------------------------------------------------------ states
    def _state(self, phases: tuple[str, ...]) -> str:
        step = self._snap.step
        if step is not None and step.phase in phases:
            return "active"
        return "done" if self._snap.phase_complete(phases[-1]) else "pending"

    def _gate_state(self, gate: str) -> str:
        step = self._snap.step
        gates = self._snap.cell.substeps
        if step is not None and step.phase == "cell":
            if gate not in gates:
                return "pending"
            i, j = gates.index(step.sub or gates[-1]), gates.index(gate)
            if j == i:
                return "active"
            return "done" if j < i else "pending"
        return "done" if self._snap.phase_complete("cell") else "pending"

    def _gradient_reach(self) -> tuple[str, float] | None:
        """How far back-propagation has got: None outside the gradient phases;
        ("zero", 0) at zero_grad; ("cell", fraction of timesteps done) during
        backward before t = 0; ("all", 1) once it reached the embedding."""
        step = self._snap.step
        if step is None or step.phase not in GRADIENT_PHASES:
            return None
        if step.phase == "zero_grad":
            return "zero", 0.0
        if step.phase == "backward" and step.t != 0:
            T = self._snap.config.context_length
            return "cell", (T - step.t) / T
        return "all", 1.0

    def _detail(self, name: str) -> str:
        cfg = self._snap.config
        B, T, E, H = cfg.batch_size, cfg.context_length, cfg.n_embd, cfg.hidden_size
        drop = f"p = {cfg.dropout:g}" if cfg.train_mode else "off (eval)"
        return {
            "tokens": f"{B}×{T}", "embed": f"{B}×{T}×{E}", "dropout_in": drop, "stack": f"{B}×{T}×{H}",
            "dropout_out": drop, "head": f"{B}×{T}×{len(self._snap.vocab)}",
        }.get(name, "")

    def _title(self, name: str) -> str:
        return {"tokens": "Tokens x", "embed": "Embedding wte", "dropout_in": "Dropout", "stack": "Stack h",
                "dropout_out": "Dropout", "head": "Head lm_head", "loss": "Softmax / Cross-entropy"}[name]

    def _loss_text(self) -> str:
        loss = self._snap.loss
        return "loss = –" if loss is None else f"loss = {loss:.4f}"

    def _update_text(self) -> str:
        return f"SGD update (lr = {self._snap.config.learning_rate:g})"

    def _forward_texts(self) -> tuple[str, str]:
        after = self._snap.get("loss_after")
        if after is None:
            return "Forward again:", "loss → loss_after"
        before = self._snap.loss
        return "Forward again:", f"{before:.4f} → {float(after):.4f}"

    # ------------------------------------------------------------ geometry
    def _geometry(self) -> _Geometry:
        key = (self.width(), self.height(), self.font().key(), self._snap.config.context_length,
               self._snap.config.cell, self._snap.loss is None, self._snap.get("loss_after") is None)
        if key == self._geom_key:
            return self._geom
        fm = QtGui.QFontMetricsF(self.font())
        forward_w = fm.horizontalAdvance(" ".join(self._forward_texts())) + 20
        lay = layout(self.width(), self.height(), fm.height(), forward_w, cell_view(self._snap.config.cell).diagram_rows)
        g = _Geometry({k: _q(r) for k, r in lay.blocks.items()}, {k: _q(r) for k, r in lay.gates.items()}, lay.rows,
                      _q(lay.cell_title), lay.lane_x, _q(lay.lane), lay.loop_x)
        self._geom, self._geom_key = g, key
        return g

    # ------------------------------------------------------------ hit testing
    def block_at(self, point) -> str | None:
        """The panel key of what is under a widget point, or None."""
        p = QtCore.QPointF(point)
        g = self._geometry()
        for name, rect in g.blocks.items():
            if rect.contains(p):
                return self._targets.get(name)
        if g.lane.contains(p):
            return self._targets.get("gradients")
        return None

    def block_rect(self, name: str) -> QtCore.QRect:
        """Where a block (a name of BLOCKS or SIDE_LABELS, or "gradients") is drawn."""
        g = self._geometry()
        return (g.lane if name == "gradients" else g.blocks[name]).toAlignedRect()

    def _name_at(self, point) -> str | None:
        p = QtCore.QPointF(point)
        g = self._geometry()
        for name, rect in g.blocks.items():
            if rect.contains(p):
                return name
        return "gradients" if g.lane.contains(p) else None

    # ------------------------------------------------------------ painting
    def _colours(self) -> dict[str, QtGui.QColor]:
        scheme = theme.current()
        text = self.palette().color(QtGui.QPalette.ColorRole.WindowText)
        if (text.lightness() > 128) != scheme.dark:   # palette and scheme disagree: trust the scheme
            text = QtGui.QColor(scheme.foreground)
        background = self.palette().color(QtGui.QPalette.ColorRole.Window)
        if (background.lightness() < 128) != scheme.dark:
            background = QtGui.QColor(scheme.background)
        dim = QtGui.QColor(text)
        dim.setAlphaF(0.6)
        return {"text": text, "dim": dim, "background": background, "done": QtGui.QColor(scheme.done),
                "active": QtGui.QColor(scheme.active), "pending": QtGui.QColor(scheme.pending),
                "gradient": QtGui.QColor(scheme.gradient)}

    def _style(self, state: str, c: dict[str, QtGui.QColor],
               strong: float = 0.30) -> tuple[QtGui.QPen, QtGui.QColor, QtGui.QColor]:
        """Pen, fill and text colour of a block in a state."""
        if state == "active":
            return QtGui.QPen(c["active"], 2.2), mix(c["active"], c["background"], strong), c["text"]
        if state == "done":
            return QtGui.QPen(c["done"], 1.3), mix(c["done"], c["background"], 0.16), c["text"]
        text = QtGui.QColor(c["text"])
        text.setAlphaF(0.55)
        return QtGui.QPen(c["pending"], 1.2), c["background"], text

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        self._pictures.paint(self._picture_key())

    def _picture_key(self) -> tuple:
        """Everything :meth:`_draw` reads (see :mod:`..widgets.picture_cache`)."""
        snap, step = self._snap, self._snap.step
        return (self.width(), self.height(), self.devicePixelRatioF(), self.font().key(),
                tuple(colour.rgba() for colour in self._colours().values()), self._hover,
                snap.config.cell, snap.config.context_length, None if step is None else (step.phase, step.t, step.sub),
                tuple(self._state(phases) for _, phases in BLOCKS), self._state(("update",)),
                self._state(("forward_after",)), self._snap.phase_complete("cell"),
                tuple(self._gate_state(gate) for gate in self._snap.cell.substeps), self._gradient_reach(),
                tuple(self._detail(name) for name, _ in BLOCKS), self._snap.loss is None, self._loss_text(),
                self._update_text(), self._forward_texts())

    def _paint_ahead(self) -> None:
        """Idle time: the picture of the step Step goes to next."""
        current = self._snap
        following = current.ahead()
        if following is None or following.config is not current.config:
            return
        kept = self._geom, self._geom_key
        self._snap = following
        try:
            self._pictures.prepare(self._picture_key())
        finally:
            self._snap = current
            self._geom, self._geom_key = kept

    def _draw(self, p: QtGui.QPainter) -> None:
        g = self._geometry()
        c = self._colours()
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing, True)
        self._draw_arrows(p, g, c)
        for name, phases in BLOCKS:
            if name == "cell":
                self._draw_gru(p, g, c)
            else:
                self._draw_block(p, g.blocks[name], name, self._state(phases), c)
        self._draw_side_labels(p, g, c)
        self._draw_gradients(p, g, c)

    def _bold(self, on: bool) -> QtGui.QFont:
        font = QtGui.QFont(self.font())
        font.setBold(on)
        return font

    def _box(self, p: QtGui.QPainter, rect: QtCore.QRectF, state: str, c: dict[str, QtGui.QColor],
             hover: bool = False, radius: float = 6.0, dashed: bool = False, strong: float = 0.30) -> QtGui.QColor:
        pen, fill, text = self._style(state, c, strong)
        if dashed and state == "pending":
            pen.setStyle(QtCore.Qt.PenStyle.DashLine)
        if hover:
            fill = mix(c["text"], fill, 0.07)
        p.setPen(pen)
        p.setBrush(fill)
        inset = pen.widthF() / 2
        p.drawRoundedRect(rect.adjusted(inset, inset, -inset, -inset), radius, radius)
        return text

    def _draw_block(self, p: QtGui.QPainter, rect: QtCore.QRectF, name: str, state: str,
                    c: dict[str, QtGui.QColor]) -> None:
        text = self._box(p, rect, state, c, hover=self._hover == name)
        inner = rect.adjusted(9, 0, -9, 0)
        title_font = self._bold(state == "active")
        fm = QtGui.QFontMetricsF(title_font)
        title = self._title(name)
        if name == "loss":
            p.setFont(title_font)
            p.setPen(text)
            half = rect.height() / 2
            top = QtCore.QRectF(inner.left(), rect.top() + 4, inner.width(), half - 4)
            p.drawText(top, QtCore.Qt.AlignmentFlag.AlignCenter,
                       fm.elidedText(title, QtCore.Qt.TextElideMode.ElideRight, inner.width()))
            value = self._loss_text()
            p.setFont(self._bold(self._snap.loss is not None))
            p.setPen(text if self._snap.loss is not None else c["dim"])
            bottom = QtCore.QRectF(inner.left(), rect.top() + half, inner.width(), half - 4)
            p.drawText(bottom, QtCore.Qt.AlignmentFlag.AlignCenter, value)
            return
        detail = self._detail(name)
        title_w = fm.horizontalAdvance(title)
        detail_w = QtGui.QFontMetricsF(self.font()).horizontalAdvance(detail)
        p.setFont(title_font)
        p.setPen(text)
        if detail and title_w + 12 + detail_w <= inner.width():
            p.drawText(inner, QtCore.Qt.AlignmentFlag.AlignVCenter | QtCore.Qt.AlignmentFlag.AlignLeft, title)
            p.setFont(self.font())
            dim = QtGui.QColor(text)
            dim.setAlphaF(text.alphaF() * 0.7)
            p.setPen(dim)
            p.drawText(inner, QtCore.Qt.AlignmentFlag.AlignVCenter | QtCore.Qt.AlignmentFlag.AlignRight, detail)
        else:
            p.drawText(inner, QtCore.Qt.AlignmentFlag.AlignCenter,
                       fm.elidedText(title, QtCore.Qt.TextElideMode.ElideRight, inner.width()))

    def _draw_gru(self, p: QtGui.QPainter, g: _Geometry, c: dict[str, QtGui.QColor]) -> None:
        cell = g.blocks["cell"]
        state = self._state(("cell",))
        text = self._box(p, cell, state, c, hover=self._hover == "cell", radius=8, strong=0.12)
        # title row: "GRU cell" and "t = k / T"
        p.setFont(self._bold(True))
        p.setPen(text)
        p.drawText(g.gru_title, QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter,
                   f"{self._snap.cell.title} cell")
        step = self._snap.step
        T = self._snap.config.context_length
        if step is not None and step.phase == "cell":
            t_text, t_colour = f"t = {step.t} / {T}", c["text"]
        elif step is not None and step.phase == "backward":
            t_text, t_colour = f"∇ t = {step.t} / {T}", c["gradient"]
        elif self._snap.phase_complete("cell"):
            t_text, t_colour = f"t = {T - 1} / {T}", text
        else:
            t_text, t_colour = f"t = – / {T}", text
        p.setFont(self._bold(step is not None and step.phase in ("cell", "backward")))
        p.setPen(t_colour)
        p.drawText(g.gru_title, QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter, t_text)

        wire = QtGui.QColor(text)
        wire.setAlphaF(min(text.alphaF(), 0.65))
        p.setPen(QtGui.QPen(wire, 1.2))
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        gates, rows = g.gates, g.rows
        cx = cell.center().x()
        # x_t from the top of the cell to x2g
        x2g = gates["x2g"]
        entry_y = g.gru_title.bottom() + 1
        path = QtGui.QPainterPath(QtCore.QPointF(cx, cell.top()))
        path.lineTo(cx, entry_y)
        path.lineTo(x2g.center().x(), entry_y)
        p.drawPath(path)
        self._arrow_head(p, QtCore.QPointF(x2g.center().x(), x2g.top()), wire, down=True,
                         start=QtCore.QPointF(x2g.center().x(), entry_y))
        # each row feeds the next through a bus
        for upper, lower in zip(rows, rows[1:]):
            bus = (gates[upper[0]].bottom() + gates[lower[0]].top()) / 2
            xs = [gates[n].center().x() for n in upper + lower]
            for src in upper:
                r = gates[src]
                p.drawLine(QtCore.QPointF(r.center().x(), r.bottom()), QtCore.QPointF(r.center().x(), bus))
            if max(xs) > min(xs):
                p.drawLine(QtCore.QPointF(min(xs), bus), QtCore.QPointF(max(xs), bus))
            for dst in lower:
                r = gates[dst]
                self._arrow_head(p, QtCore.QPointF(r.center().x(), r.top()), wire, down=True,
                                 start=QtCore.QPointF(r.center().x(), bus))
        # h_t out of the bottom of the cell
        h = gates["h"]
        p.drawLine(QtCore.QPointF(h.center().x(), h.bottom()), QtCore.QPointF(h.center().x(), cell.bottom()))
        # recurrence: h_t → h_{t−1} into h2g
        h2g = gates["h2g"]
        loop = QtGui.QPainterPath(QtCore.QPointF(h.right(), h.center().y()))
        loop.lineTo(g.loop_x - 4, h.center().y())
        loop.quadTo(g.loop_x, h.center().y(), g.loop_x, h.center().y() - 4)
        loop.lineTo(g.loop_x, h2g.center().y() + 4)
        loop.quadTo(g.loop_x, h2g.center().y(), g.loop_x - 4, h2g.center().y())
        loop.lineTo(h2g.right() + 6, h2g.center().y())
        p.setPen(QtGui.QPen(wire, 1.2, QtCore.Qt.PenStyle.DashLine))
        p.drawPath(loop)
        self._arrow_head(p, QtCore.QPointF(h2g.right(), h2g.center().y()), wire, down=False,
                         start=QtCore.QPointF(h2g.right() + 8, h2g.center().y()))
        p.setFont(self.font())
        fm = QtGui.QFontMetricsF(self.font())
        label_w = self._sub_width(fm, "h", "t−1")
        label_x = g.loop_x - 6 - label_w
        if label_x > h.right() + 2:
            label = QtCore.QRectF(label_x, h.center().y() - fm.height() - 1, label_w, fm.height())
            self._draw_sub(p, label, "h", "t−1", wire)
        # the gate boxes
        for gate, r in gates.items():
            gs = self._gate_state(gate) if state != "pending" else "pending"
            self._draw_gate(p, r, gate, gs, c)

    def _draw_gate(self, p: QtGui.QPainter, r: QtCore.QRectF, gate: str, state: str,
                   c: dict[str, QtGui.QColor]) -> None:
        if state == "active":
            fill = QtGui.QColor(c["active"])
            p.setPen(QtGui.QPen(c["text"], 1.5))
            text = contrast_text(fill)
        elif state == "done":
            fill = mix(c["done"], c["background"], 0.30)
            p.setPen(QtGui.QPen(c["done"], 1.1))
            text = c["text"]
        else:
            fill = c["background"]
            p.setPen(QtGui.QPen(c["pending"], 1.1))
            text = QtGui.QColor(c["text"])
            text.setAlphaF(0.55)
        p.setBrush(fill)
        p.drawRoundedRect(r, 4, 4)
        p.setFont(self._bold(state == "active"))
        if gate == "h":
            self._draw_sub(p, r, "h", "t", text)
        else:
            p.setPen(text)
            p.drawText(r, QtCore.Qt.AlignmentFlag.AlignCenter, gate)

    def _sub_width(self, fm: QtGui.QFontMetricsF, base: str, sub: str) -> float:
        small = QtGui.QFont(self.font())
        small.setPointSizeF(FONT_PT * 0.75)
        return fm.horizontalAdvance(base) + QtGui.QFontMetricsF(small).horizontalAdvance(sub) + 1

    def _draw_sub(self, p: QtGui.QPainter, rect: QtCore.QRectF, base: str, sub: str, colour: QtGui.QColor) -> None:
        """``base`` with ``sub`` as a subscript, centred in ``rect``."""
        font = QtGui.QFont(p.font())
        small = QtGui.QFont(font)
        small.setPointSizeF(font.pointSizeF() * 0.75)
        fm, fms = QtGui.QFontMetricsF(font), QtGui.QFontMetricsF(small)
        w = fm.horizontalAdvance(base) + 1 + fms.horizontalAdvance(sub)
        x = rect.center().x() - w / 2
        baseline = rect.center().y() + (fm.ascent() - fm.descent()) / 2
        p.setPen(colour)
        p.drawText(QtCore.QPointF(x, baseline), base)
        p.setFont(small)
        p.drawText(QtCore.QPointF(x + fm.horizontalAdvance(base) + 1, baseline + fms.ascent() * 0.35), sub)
        p.setFont(font)

    def _arrow_head(self, p: QtGui.QPainter, tip: QtCore.QPointF, colour: QtGui.QColor, down: bool,
                    start: QtCore.QPointF | None = None, size: float = 5.0) -> None:
        """A filled arrow head at ``tip``; ``start`` draws the shaft too. down=False points left."""
        p.save()
        if start is not None:
            p.setPen(QtGui.QPen(colour, p.pen().widthF() or 1.2))
            p.drawLine(start, tip)
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        p.setBrush(colour)
        if down:
            pts = [tip, QtCore.QPointF(tip.x() - size * 0.7, tip.y() - size),
                   QtCore.QPointF(tip.x() + size * 0.7, tip.y() - size)]
        else:
            pts = [tip, QtCore.QPointF(tip.x() + size, tip.y() - size * 0.7),
                   QtCore.QPointF(tip.x() + size, tip.y() + size * 0.7)]
        p.drawPolygon(QtGui.QPolygonF(pts))
        p.restore()

    def _draw_arrows(self, p: QtGui.QPainter, g: _Geometry, c: dict[str, QtGui.QColor]) -> None:
        """The forward arrows between consecutive blocks."""
        names = [name for name, _ in BLOCKS]
        for upper, (lower, phases) in zip(names, BLOCKS[1:]):
            a, b = g.blocks[upper], g.blocks[lower]
            x = a.center().x()
            if lower == "stack":
                x = g.gates["h"].center().x()
            ran = self._state(phases) != "pending"
            colour = QtGui.QColor(c["text"] if ran else c["pending"])
            colour.setAlphaF(0.7 if ran else 1.0)
            p.setPen(QtGui.QPen(colour, 1.4))
            self._arrow_head(p, QtCore.QPointF(x, b.top() - 1), colour, down=True, start=QtCore.QPointF(x, a.bottom()))

    def _draw_side_labels(self, p: QtGui.QPainter, g: _Geometry, c: dict[str, QtGui.QColor]) -> None:
        fm_plain = QtGui.QFontMetricsF(self.font())
        # update
        rect = g.blocks["update"]
        state = self._state(("update",))
        text = self._box(p, rect, state, c, hover=self._hover == "update", radius=rect.height() / 2, dashed=True)
        p.setFont(self._bold(state == "active"))
        p.setPen(text)
        inner = rect.adjusted(8, 0, -8, 0)
        p.drawText(inner, QtCore.Qt.AlignmentFlag.AlignCenter,
                   QtGui.QFontMetricsF(p.font()).elidedText(self._update_text(), QtCore.Qt.TextElideMode.ElideRight,
                                                            inner.width()))
        # forward again
        rect = g.blocks["forward_after"]
        state = self._state(("forward_after",))
        radius = min(rect.height() / 2, 12.0)
        text = self._box(p, rect, state, c, hover=self._hover == "forward_after", radius=radius, dashed=True)
        head, value = self._forward_texts()
        p.setFont(self._bold(state == "active"))
        fm = QtGui.QFontMetricsF(p.font())
        inner = rect.adjusted(8, 0, -8, 0)
        p.setPen(text)
        if rect.height() < 2 * fm_plain.height() + 4:
            p.drawText(inner, QtCore.Qt.AlignmentFlag.AlignCenter,
                       fm.elidedText(f"{head} {value}", QtCore.Qt.TextElideMode.ElideRight, inner.width()))
        else:
            half = rect.height() / 2
            p.drawText(QtCore.QRectF(inner.left(), rect.top() + 3, inner.width(), half - 3),
                       QtCore.Qt.AlignmentFlag.AlignCenter, head)
            p.drawText(QtCore.QRectF(inner.left(), rect.top() + half, inner.width(), half - 3),
                       QtCore.Qt.AlignmentFlag.AlignCenter,
                       fm.elidedText(value, QtCore.Qt.TextElideMode.ElideRight, inner.width()))

    def _draw_gradients(self, p: QtGui.QPainter, g: _Geometry, c: dict[str, QtGui.QColor]) -> None:
        reach = self._gradient_reach()
        x = g.lane_x
        loss = g.blocks["loss"]
        top_block = g.blocks["embed"]
        if reach is None:
            # the path gradients will take, faint
            pen = QtGui.QPen(c["pending"], 1.2, QtCore.Qt.PenStyle.DashLine)
            if self._hover == "gradients":
                pen.setColor(c["gradient"])
            p.setPen(pen)
            p.drawLine(QtCore.QPointF(x, loss.center().y()), QtCore.QPointF(x, top_block.center().y()))
            return
        red = c["gradient"]
        kind, fraction = reach
        fm = QtGui.QFontMetricsF(self.font())
        if kind == "zero":
            p.setFont(self._bold(True))
            p.setPen(red)
            label = QtCore.QRectF(loss.right() + 2, loss.center().y() - fm.height() / 2,
                                  x + LANE_W / 2 - loss.right() - 2, fm.height())
            p.drawText(label, QtCore.Qt.AlignmentFlag.AlignCenter, "∇=0")
            return
        cell = g.blocks["cell"]
        if kind == "cell":
            top = cell.bottom() - 6 - fraction * (cell.height() - 12)
        else:
            top = top_block.center().y()
        bottom = loss.center().y()
        width = 2.6
        pen = QtGui.QPen(red, width)
        pen.setCapStyle(QtCore.Qt.PenCapStyle.FlatCap)
        p.setPen(pen)
        p.drawLine(QtCore.QPointF(loss.right() + 1, bottom), QtCore.QPointF(x, bottom))
        p.drawLine(QtCore.QPointF(x, bottom), QtCore.QPointF(x, top + 6))
        # arrow head pointing up at the tip
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        p.setBrush(red)
        p.drawPolygon(QtGui.QPolygonF([QtCore.QPointF(x, top - 2), QtCore.QPointF(x - 5.5, top + 7),
                                       QtCore.QPointF(x + 5.5, top + 7)]))
        # branches into the blocks the gradient has reached
        reached = ["head", "dropout_out", "stack"]
        if kind == "all":
            reached += ["dropout_in", "embed"]
        p.setPen(QtGui.QPen(red, 1.6))
        for name in reached:
            r = g.blocks[name]
            y = r.center().y()
            self._arrow_head(p, QtCore.QPointF(r.right() + 1, y), red, down=False,
                             start=QtCore.QPointF(x, y), size=5.0)
        # into the GRU cell, at the height back-propagation has got to
        y = min(top + 10, cell.bottom() - 6) if kind == "cell" else cell.center().y()
        self._arrow_head(p, QtCore.QPointF(cell.right() + 1, y), red, down=False, start=QtCore.QPointF(x, y), size=5.0)
        # a label along the lane
        length = bottom - top
        label = "gradients"
        if length > fm.horizontalAdvance(label) + 40:
            p.save()
            p.translate(x + LANE_W / 2 - 2, (top + bottom) / 2)
            p.rotate(-90)
            p.setFont(self.font())
            p.setPen(red)
            w = fm.horizontalAdvance(label)
            p.drawText(QtCore.QRectF(-w / 2, -fm.height(), w, fm.height()), QtCore.Qt.AlignmentFlag.AlignCenter, label)
            p.restore()

    # ------------------------------------------------------------ events
    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        self._geom_key = None
        super().resizeEvent(event)

    def retheme(self) -> None:
        """View → Theme: paint again (the picture keys hold the scheme's colours)."""
        self.update()

    def changeEvent(self, event: QtCore.QEvent) -> None:
        if event.type() in (QtCore.QEvent.Type.FontChange, QtCore.QEvent.Type.PaletteChange):
            self._geom_key = None
            self.update()
        super().changeEvent(event)

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        key = self.block_at(event.position()) if event.button() == QtCore.Qt.MouseButton.LeftButton else None
        if key is None:
            super().mousePressEvent(event)
            return
        event.accept()
        self.block_clicked.emit(key)

    def _hover_key(self, point):
        return self._name_at(point)

    def tooltip_text(self, point) -> str:
        name = self._name_at(point)
        if name is None:
            return ""
        help_text = cell_view(self._snap.config.cell).block_help if name == "cell" else BLOCK_HELP[name]
        target = self._targets.get(name)
        return help_text + (f"<br><i>click: show the {target} panel</i>" if target else "")

    def event(self, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.ToolTip:
            text = self.tooltip_text(event.pos())
            if text:
                QtWidgets.QToolTip.showText(event.globalPos(), text, self)
            else:
                QtWidgets.QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)
