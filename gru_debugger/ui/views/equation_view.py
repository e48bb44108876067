"""The equation of the current step, with the numbers of one batch row b and
one hidden unit j substituted in.

Every number comes from the snapshot (``snapshot.get`` / ``snapshot.param``);
nothing is recomputed except the intermediate sums that an equation spells
out, and those are shown next to the recorded result. Values that do not
exist yet at the cursor are never shown.
"""
from __future__ import annotations

import html
import logging
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PySide6 import QtCore, QtWidgets

from ...core.config import PARAM_NAMES
from ..widgets import theme
from ..widgets.view_state import ViewState
from ..widgets.subscribe import subscribe

log = logging.getLogger(__name__)

EOT = "<|endoftext|>"
MINUS = "\u2212"
MAX_TERMS = 6        # terms of a written-out sum before it is elided
MAX_VECTOR = 8       # elements of a written-out vector before it is elided
MAX_LINES = 12       # per-timestep lines before the rest are elided

GATE_ROW = {"z": 0, "r": 1, "n": 2}   # block of x2g/h2g rows: z | r | n
GATE_NAMES = {"z": "update gate", "r": "reset gate", "n": "candidate"}


# ---------------------------------------------------------------- formatting
def fmt(value: float) -> str:
    """A number as the equations show it: 4 decimals, scientific when tiny or huge,
    a proper minus sign."""
    v = float(value)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "∞" if v > 0 else f"{MINUS}∞"
    if v == 0.0:
        return "0.0000"
    text = f"{v:.4f}" if 1e-3 <= abs(v) < 1e5 else f"{v:.3e}"
    return text.replace("-", MINUS)


def factor(value: float) -> str:
    """A number inside a product: negative ones in parentheses."""
    text = fmt(value)
    return f"({text})" if text.startswith(MINUS) else text


def signed(value: float) -> str:
    """' + 0.1234' or ' − 0.1234', to continue a sum."""
    text = fmt(value)
    return f" {MINUS} {text[1:]}" if text.startswith(MINUS) else f" + {text}"


def vector(values: Sequence[float] | np.ndarray) -> str:
    vals = [float(v) for v in np.asarray(values).ravel()]
    shown = [fmt(v) for v in vals[:MAX_VECTOR]]
    if len(vals) > MAX_VECTOR:
        shown.append(f"… ({len(vals) - MAX_VECTOR} more)")
    return "[" + ", ".join(shown) + "]"


def dot_terms(weights: np.ndarray, inputs: np.ndarray) -> str:
    """'w0·x0 + w1·x1 + …' for a weighted sum, elided after MAX_TERMS."""
    w = np.asarray(weights).ravel()
    x = np.asarray(inputs).ravel()
    terms = [f"{factor(w[i])}·{factor(x[i])}" for i in range(min(len(w), MAX_TERMS))]
    text = " + ".join(terms)
    if len(w) > MAX_TERMS:
        text += f" + … ({len(w) - MAX_TERMS} more terms)"
    return text


def visible(token: str) -> str:
    if token == EOT:
        return "⟨eot⟩"
    return token.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥")


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def sub(name: str, index: str) -> str:
    return f"{name}<sub>{index}</sub>"


@dataclass
class Line:
    label: str            # short name in the left column ("z", "x2g", "t=3"), rich text
    html: str             # the equation, as rich text
    current: bool = False # what this step just computed


@dataclass
class Page:
    title: str
    lines: list[Line]
    explanation: str      # rich text
    uses_j: bool = False  # whether the numbers depend on the selected unit j
    uses_b: bool = True   # whether they depend on the selected batch row b


# ---------------------------------------------------------------- the widget
class EquationView(QtWidgets.QWidget):
    """The current step's equation(s) with live numbers for row b and unit j."""

    def __init__(self, controller, view_state: ViewState, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._controller = controller
        self._view_state = view_state
        self._snapshot = None
        self._html = ""
        self._shown_cursor: int | None = None

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        header = QtWidgets.QHBoxLayout()
        layout.addLayout(header)
        self._b_label = QtWidgets.QLabel("Row b =", self)
        header.addWidget(self._b_label)
        self._b_spin = QtWidgets.QSpinBox(self)
        self._b_spin.setToolTip("Batch row b whose numbers the equations show")
        header.addWidget(self._b_spin)
        self._j_label = QtWidgets.QLabel(", unit j =", self)
        header.addWidget(self._j_label)
        self._j_spin = QtWidgets.QSpinBox(self)
        self._j_spin.setToolTip("Hidden unit j whose numbers the equations show")
        header.addWidget(self._j_spin)
        self._hint = QtWidgets.QLabel(self)
        self._hint.setEnabled(False)  # drawn in the muted colour
        header.addWidget(self._hint)
        header.addStretch(1)
        self._b_label.setBuddy(self._b_spin)
        self._j_label.setBuddy(self._j_spin)

        self._browser = QtWidgets.QTextBrowser(self)
        self._browser.setOpenLinks(False)
        self._browser.setOpenExternalLinks(False)
        layout.addWidget(self._browser, 1)

        self._b_spin.valueChanged.connect(self._on_b_spin)
        self._j_spin.valueChanged.connect(self._on_j_spin)
        subscribe(controller.changed, self, self._on_changed)
        view_state.changed.connect(self._on_view_changed)
        self._snapshot = controller.snapshot()
        self._refresh()

    # ------------------------------------------------------------ public
    def plain_text(self) -> str:
        """The shown equations and explanation as plain text."""
        return self._browser.toPlainText()

    def html(self) -> str:
        return self._html

    def selection(self) -> tuple[int, int]:
        """(b, j) as shown: the view state's selection, clamped to B and H."""
        cfg = self._snapshot.config
        return (min(max(self._view_state.batch_row, 0), cfg.batch_size - 1),
                min(max(self._view_state.unit, 0), cfg.hidden_size - 1))

    # ------------------------------------------------------------ slots
    def _on_changed(self, snapshot) -> None:
        try:
            self._snapshot = snapshot
            self._refresh()
        except Exception:  # never raise out of a slot
            log.exception("EquationView could not update")

    def _on_view_changed(self) -> None:
        try:
            self._refresh()
        except Exception:  # never raise out of a slot
            log.exception("EquationView could not update")

    def _on_b_spin(self, value: int) -> None:
        try:
            self._view_state.select(batch_row=int(value))
        except Exception:
            log.exception("could not select batch row")

    def _on_j_spin(self, value: int) -> None:
        try:
            self._view_state.select(unit=int(value))
        except Exception:
            log.exception("could not select unit")

    # ------------------------------------------------------------ rendering
    def _refresh(self) -> None:
        snap = self._snapshot
        if snap is None:
            return
        cfg = snap.config
        b, j = self.selection()
        with QtCore.QSignalBlocker(self._b_spin):
            self._b_spin.setRange(0, cfg.batch_size - 1)
            self._b_spin.setValue(b)
        with QtCore.QSignalBlocker(self._j_spin):
            self._j_spin.setRange(0, cfg.hidden_size - 1)
            self._j_spin.setValue(j)
        try:
            page = build_page(snap, b, j)
        except Exception as exc:  # show the problem instead of raising out of a slot
            log.exception("equations failed")
            page = Page("Equations unavailable", [], f"Could not show the equations for this step: {esc(str(exc))}",
                        uses_b=False)
        # Greyed out: the selection does not change what this phase shows.
        self._b_spin.setEnabled(page.uses_b)
        self._b_label.setEnabled(page.uses_b)
        self._j_spin.setEnabled(page.uses_j)
        self._j_label.setEnabled(page.uses_j)
        if not page.uses_b:
            self._hint.setText("(no per-row numbers in this phase)")
        else:
            self._hint.setText("" if page.uses_j else "(this phase does not depend on j)")
        html_text = render_html(page, b, j)
        if html_text == self._html:
            return
        # Keep the scroll position while only b or j changes; start at the top on a new step.
        same_step = snap.cursor == self._shown_cursor
        self._shown_cursor = snap.cursor
        self._html = html_text
        bar = self._browser.verticalScrollBar()
        keep = bar.value()
        self._browser.setHtml(self._html)
        bar.setValue(keep if same_step else 0)


def render_html(page: Page, b: int = 0, j: int = 0) -> str:
    scheme = theme.current()
    fg = scheme.foreground
    muted = "#9aa0a6" if scheme.dark else "#5f6368"
    current_bg = "#3b3320" if scheme.dark else "#fff1dc"
    label_colour = scheme.active
    rows = []
    for line in page.lines:
        bg = f' style="background-color: {current_bg};"' if line.current else ""
        marker = "▶" if line.current else ""
        rows.append(
            f'<tr{bg}><td style="color: {label_colour}; padding-right: 6px;" width="14">{marker}</td>'
            f'<td style="color: {muted};" width="64">{line.label}</td>'
            f'<td style="font-family: \'DejaVu Serif\', \'Cambria Math\', serif; font-size: 12pt;">{line.html}</td>'
            f'</tr>')
    where = ""
    if page.uses_b:
        where = f"row b = {b}" + (f", unit j = {j}" if page.uses_j else "")
        where = f'<span style="color: {muted};">&nbsp;&nbsp;&nbsp;({where})</span>'
    table = (f'<table cellspacing="0" cellpadding="3" width="100%">{"".join(rows)}</table>' if rows else "")
    return (f'<html><body style="color: {fg};">'
            f'<p><span style="font-size: 13pt; font-weight: bold;">{page.title}</span>{where}</p>{table}'
            f'<p style="margin-top: 12px;">{page.explanation}</p></body></html>')


# ---------------------------------------------------------------- the pages
def build_page(s, b: int, j: int) -> Page:
    step = s.step
    if step is None:
        return _start_page(s)
    builder = _BUILDERS[step.phase]
    return builder(s, step, b, j)


def _tok(s, token_id: int) -> str:
    vocab = s.vocab
    text = vocab[token_id] if 0 <= token_id < len(vocab) else "?"
    return f"'{esc(visible(text))}'"


def _elide(lines: list[Line], total: int) -> list[Line]:
    if total > MAX_LINES:
        kept = lines[:MAX_LINES]
        kept.append(Line("…", f"{total - MAX_LINES} more timesteps not shown"))
        return kept
    return lines


def _start_page(s) -> Page:
    lines = [
        Line("gates", f"zx, rx, nx = x2g({sub('x', 't')})&nbsp;&nbsp;&nbsp; zh, rh, nh = h2g({sub('h', 't−1')})"),
        Line("z, r", "z = σ(zx + zh)&nbsp;&nbsp;&nbsp; r = σ(rx + rh)"),
        Line("n", "n = tanh(nx + r ⊙ nh)"),
        Line("h", f"{sub('h', 't')} = (1 − z) ⊙ n + z ⊙ {sub('h', 't−1')},&nbsp;&nbsp; {sub('h', '−1')} = 0"),
        Line("loss", "L = mean over b, t of −log softmax(lm_head(h<sub>t</sub>))[y]"),
    ]
    return Page("Start: nothing has run yet", lines,
                "These are the equations of one GRU timestep. Press F10 to run the first phase, "
                "the tokenizer; the numbers of the selected row b and unit j appear here as each step runs.",
                uses_b=False)


def _tokenize_page(s, step, b, j) -> Page:
    corpus = s.trace.corpus
    V, M = len(corpus.vocab), len(corpus.merges)
    n_chars = V - M - 1
    merges = ", ".join(f"'{esc(visible(a))}' + '{esc(visible(c))}' → '{esc(visible(a + c))}'"
                       for a, c in corpus.merges[:8])
    if M > 8:
        merges += f", … ({M - 8} more)"
    n = len(corpus.tokens)
    texts = len(s.config.corpus)
    lines = [
        Line("vocab", f"V = {n_chars} characters + {M} merges + ⟨eot⟩ = <b>{V}</b> tokens", True),
        Line("merges", merges or "no merges"),
        Line("stream", f"N = <b>{n}</b> tokens ({texts} text{'s' if texts != 1 else ''}, "
                       f"each starting and ending with ⟨eot⟩)"),
    ]
    return Page("Tokenize", lines,
                "The byte-pair tokenizer starts from single characters and repeatedly merges the most frequent "
                "adjacent pair into a new token. Look at which pairs were merged and how long the token stream "
                "became: every position of the stream is one prediction the model can learn from.", uses_b=False)


def _batch_page(s, step, b, j) -> Page:
    cfg = s.config
    B, T, p = cfg.batch_size, cfg.context_length, s.state.position
    x, y = s.get("x"), s.get("y")
    xs, ys = [int(v) for v in x[b]], [int(v) for v in y[b]]

    def seq(ids: list[int]) -> str:
        shown = " ".join(_tok(s, i) for i in ids[:24])
        return shown + (" …" if len(ids) > 24 else "")

    def id_list(ids: list[int]) -> str:
        return "[" + ", ".join(str(i) for i in ids[:24]) + (", …" if len(ids) > 24 else "") + "]"

    start = p + b * T
    lines = [
        Line("where", f"position p = {p}, B = {B} rows × T = {T} tokens; row b starts at p + b·T = {start}"),
        Line(f"x[{b}]", f"tokens[{start} … {start + T - 1}] = {seq(xs)}", True),
        Line("ids", id_list(xs)),
        Line(f"y[{b}]", f"tokens[{start + 1} … {start + T}] = {seq(ys)}", True),
        Line("ids", id_list(ys)),
    ]
    return Page("Batch", lines,
                "The batch cuts B rows of T consecutive tokens out of the stream. The targets y are the same "
                "tokens shifted one to the left: at every timestep t the model must predict y[b, t], the token "
                "that follows x[b, t].")


def _embed_page(s, step, b, j) -> Page:
    x = s.get("x")
    emb = s.get("embedded")
    T = x.shape[1]
    lines = []
    for t in range(min(T, MAX_LINES)):
        tid = int(x[b, t])
        lines.append(Line(f"t={t}", f"{sub('e', str(t))} = wte.weight[{tid}] (token {_tok(s, tid)}) = "
                                   f"{vector(emb[b, t])}"))
    return Page("Embed", _elide(lines, T),
                "Each input token id picks one row of the embedding table wte.weight; that row of E numbers is "
                "what the GRU sees for the token. Tokens with the same id get the same vector.")


def _dropout_in_page(s, step, b, j) -> Page:
    cfg = s.config
    p = cfg.dropout
    emb, mask, x_in = s.get("embedded"), s.get("dropout_in_mask"), s.get("x_in")
    T = emb.shape[1]
    active = cfg.train_mode and p > 0
    keep = 1.0 / (1.0 - p)
    lines = [Line("mask", f"m = 0 with probability p = {p:g}, else 1/(1 − p) = {fmt(keep)}" if active
                  else "eval mode or p = 0: m = 1 everywhere (nothing is dropped)")]
    for t in range(min(T, MAX_LINES)):
        dropped = int(np.sum(mask[b, t] == 0))
        lines.append(Line(f"t={t}", f"{sub('x', t)} = {sub('e', t)} ⊙ {vector(mask[b, t])} = "
                                   f"{vector(x_in[b, t])}" + (f"&nbsp;&nbsp;({dropped} dropped)" if dropped else "")))
    return Page("Dropout (input)", _elide(lines, T),
                "During training each embedding number is zeroed with probability p and the survivors are scaled "
                "by 1/(1 − p), so the expected value stays the same. Look for the zeros: the GRU never sees those "
                "inputs in this iteration.")


def _gru_lines(s, b: int, j: int, t: int, upto: str) -> list[Line]:
    """The equations of timestep t for row b, unit j, up to sub-step ``upto``."""
    from_order = ("x2g", "h2g", "z", "r", "n", "h")
    done = from_order[: from_order.index(upto) + 1]
    H = s.config.hidden_size
    x = s.get("x")
    x_in = s.get("x_in")[b, t]
    lines = [Line(sub("x", "t"), f"{sub('x', t)} = dropout(wte[{_tok(s, int(x[b, t]))}]) = {vector(x_in)}")]
    hp = sub("h", "t−1")
    h_all = s.get("h")
    h_prev = float(h_all[b, t - 1, j]) if t > 0 else 0.0
    if t > 0:
        lines.append(Line(hp, f"{sub('h', t - 1)} = {vector(h_all[b, t - 1])}"))
    if upto == "x2g":
        W, bias = s.param("x2g.weight"), s.param("x2g.bias")
        for g in ("z", "r", "n"):
            row = GATE_ROW[g] * H + j
            value = float(s.get(f"{g}x")[b, t, j])
            lines.append(Line(f"{g}x", f"{g}x = x2g.weight[{row}]·{sub('x', 't')} + x2g.bias[{row}] = "
                                       f"{dot_terms(W[row], x_in)}{signed(bias[row])} = <b>{fmt(value)}</b>", True))
    elif "x2g" in done:
        vals = ", ".join(fmt(s.get(f"{g}x")[b, t, j]) for g in ("z", "r", "n"))
        lines.append(Line("x2g", f"zx, rx, nx = x2g({sub('x', 't')}) = {vals}"))
    if upto == "h2g":
        U, c = s.param("h2g.weight"), s.param("h2g.bias")
        prev = h_all[b, t - 1] if t > 0 else np.zeros(H, dtype=np.float32)
        for g in ("z", "r", "n"):
            row = GATE_ROW[g] * H + j
            value = float(s.get(f"{g}h")[b, t, j])
            if t == 0:
                body = (f"{g}h = h2g.weight[{row}]·{sub('h', '−1')} + h2g.bias[{row}] = 0{signed(c[row])} "
                        f"= <b>{fmt(value)}</b>&nbsp;&nbsp;({sub('h', '−1')} = 0)")
            else:
                body = (f"{g}h = h2g.weight[{row}]·{hp} + h2g.bias[{row}] = "
                        f"{dot_terms(U[row], prev)}{signed(c[row])} = <b>{fmt(value)}</b>")
            lines.append(Line(f"{g}h", body, True))
    elif "h2g" in done:
        vals = ", ".join(fmt(s.get(f"{g}h")[b, t, j]) for g in ("z", "r", "n"))
        lines.append(Line("h2g", f"zh, rh, nh = h2g({hp}) = {vals}"))
    if "z" in done:
        zx, zh, z = (float(s.get(k)[b, t, j]) for k in ("zx", "zh", "z"))
        lines.append(Line("z", f"z = σ(zx + zh) = σ({fmt(zx)}{signed(zh)}) = <b>{fmt(z)}</b>", upto == "z"))
    if "r" in done:
        rx, rh, r = (float(s.get(k)[b, t, j]) for k in ("rx", "rh", "r"))
        lines.append(Line("r", f"r = σ(rx + rh) = σ({fmt(rx)}{signed(rh)}) = <b>{fmt(r)}</b>", upto == "r"))
    if "n" in done:
        nx, nh, r, n = (float(s.get(k)[b, t, j]) for k in ("nx", "nh", "r", "n"))
        lines.append(Line("n", f"n = tanh(nx + r ⊙ nh) = tanh({fmt(nx)} + {factor(r)}·{factor(nh)}) "
                               f"= <b>{fmt(n)}</b>", upto == "n"))
    if "h" in done:
        z, n, h = (float(s.get(k)[b, t, j]) for k in ("z", "n", "h"))
        lines.append(Line("h", f"{sub('h', 't')} = (1 − z) ⊙ n + z ⊙ {hp} = (1 − {fmt(z)})·{factor(n)} + "
                               f"{fmt(z)}·{factor(h_prev)} = <b>{fmt(h)}</b>", upto == "h"))
    return lines


_GRU_TEXT = {
    "x2g": "The input x<sub>t</sub> goes through x2g once, giving three pre-activations: one each for the "
           "update gate z, the reset gate r and the candidate n. They depend only on the current token.",
    "h2g": "The previous hidden state goes through h2g, giving the same three pre-activations from memory. "
           "At t = 0 the previous state is zero, so only the bias is left.",
    "z": "The update gate z (between 0 and 1) decides how much of the old state to keep: near 1 the unit "
         "keeps its memory, near 0 it takes the new candidate.",
    "r": "The reset gate r (between 0 and 1) decides how much of the old state may shape the candidate: "
         "near 0 the candidate ignores memory.",
    "n": "The candidate n (between −1 and 1) is the new value the unit proposes, from the input and the "
         "reset-scaled memory.",
    "h": "The new hidden state blends the candidate and the old state with weights (1 − z) and z. "
         "Compare h<sub>t</sub> with h<sub>t−1</sub>: a large z keeps it close to the old value.",
}


def _gru_page(s, step, b, j) -> Page:
    t, subname = step.t, step.sub or "h"
    lines = _gru_lines(s, b, j, t, subname)
    title = f"GRU · timestep t = {t}"
    if subname != "h":
        title += f" · {subname}" + (f" ({GATE_NAMES[subname]})" if subname in GATE_NAMES else "")
    text = _GRU_TEXT[subname]
    if subname == "h":
        text = ("All the equations of this timestep, in the order they run. " + text)
    return Page(title, lines, text, True)


def _stack_page(s, step, b, j) -> Page:
    h = s.get("h")
    T = h.shape[1]
    values = ", ".join(fmt(v) for v in h[b, :MAX_VECTOR * 2, j])
    lines = [Line("H", f"H[b, :, j] = [{sub('h', 0)}, …, {sub('h', 'T−1')}] = [{values}"
                       + (", …]" if T > MAX_VECTOR * 2 else "]"), True),
             Line("shape", f"H has shape (B, T, H) = {tuple(h.shape)}")]
    return Page("Stack", lines,
                "The hidden states of all timesteps are collected into one (B, T, H) tensor so that the output "
                "head can score every position at once. Nothing is computed here; this is the unit's trajectory "
                "over time.", True)


def _dropout_out_page(s, step, b, j) -> Page:
    cfg = s.config
    h, mask, h_out = s.get("h"), s.get("dropout_out_mask"), s.get("h_out")
    T = h.shape[1]
    active = cfg.train_mode and cfg.dropout > 0
    lines = [Line("mask", f"m = 0 with probability p = {cfg.dropout:g}, else 1/(1 − p) = "
                          f"{fmt(1.0 / (1.0 - cfg.dropout))}" if active else "eval mode or p = 0: m = 1")]
    for t in range(min(T, MAX_LINES)):
        m = float(mask[b, t, j])
        lines.append(Line(f"t={t}", f"h_out = {sub('h', t)} ⊙ m = {factor(h[b, t, j])}·{fmt(m)} = "
                                   f"<b>{fmt(h_out[b, t, j])}</b>" + ("&nbsp;&nbsp;(dropped)" if m == 0 else "")))
    return Page("Dropout (output)", _elide(lines, T),
                "The hidden states are dropped out the same way as the inputs before they reach the head. "
                "A dropped unit contributes nothing to that position's prediction.", True)


def _head_page(s, step, b, j) -> Page:
    y, h_out, logits = s.get("y"), s.get("h_out"), s.get("logits")
    W = s.param("lm_head.weight")
    T = y.shape[1]
    lines = [Line("logit", "logit[y] = lm_head.weight[y] · h_out<sub>t</sub>&nbsp;&nbsp; (y = the target y[b, t])")]
    for t in range(min(T, MAX_LINES)):
        tgt = int(y[b, t])
        lines.append(Line(f"t={t}", f"y = {_tok(s, tgt)} ({tgt}): {dot_terms(W[tgt], h_out[b, t])} = "
                                   f"<b>{fmt(logits[b, t, tgt])}</b>"))
    return Page("Head (logits)", lines[:1] + _elide(lines[1:], T),
                "The head turns each hidden state into one score (logit) per vocabulary token. Shown is the "
                "score of the token that really comes next; training wants it to be high relative to the others.")


def _loss_page(s, step, b, j) -> Page:
    y, logits, probs, lpp = s.get("y"), s.get("logits"), s.get("probs"), s.get("loss_per_position")
    cfg = s.config
    T = y.shape[1]
    lines = [Line("p", "p(y) = softmax(logits)[y] = exp(logit<sub>y</sub> − log Σ<sub>v</sub> exp logit<sub>v</sub>)")]
    for t in range(min(T, MAX_LINES)):
        tgt = int(y[b, t])
        lse = float(np.log(np.sum(np.exp(logits[b, t].astype(np.float64) - logits[b, t].max())))
                    + logits[b, t].max())
        lines.append(Line(f"t={t}", f"p(y = {_tok(s, tgt)}) = exp({fmt(logits[b, t, tgt])} − {fmt(lse)}) = "
                                   f"{fmt(probs[b, t, tgt])},&nbsp;&nbsp; −log p = <b>{fmt(lpp[b, t])}</b>"))
    lines = lines[:1] + _elide(lines[1:], T)
    n = cfg.batch_size * cfg.context_length
    lines.append(Line("L", f"L = mean of −log p over B·T = {n} positions = <b>{fmt(s.get('loss'))}</b>", True))
    return Page("Loss", lines,
                "Softmax turns the logits into probabilities; the loss at a position is −log of the probability "
                "given to the true next token, and L is their mean. With all logits equal the loss is ln V: the "
                "model is guessing uniformly.")


def _zero_grad_page(s, step, b, j) -> Page:
    count = sum(int(np.asarray(s.param(name)).size) for name in PARAM_NAMES)
    lines = [Line("grad", f"∂L/∂θ ← 0 for θ in {', '.join(PARAM_NAMES)}", True),
             Line("size", f"{count} numbers set to zero")]
    return Page("Zero grad", lines,
                "PyTorch adds new gradients to whatever is stored, so they are cleared before back-propagation. "
                "Forgetting this would mix in the gradients of an earlier batch.", uses_b=False)


def _backward_page(s, step, b, j) -> Page:
    t = step.t
    cfg = s.config
    T = cfg.context_length
    gh_t = float(s.get("grad/h")[b, t, j])
    W_head = s.param("lm_head.weight")
    g_logits = s.get("grad/logits")
    m_out = float(s.get("dropout_out_mask")[b, t, j])
    head_sum = float(np.dot(g_logits[b, t].astype(np.float64), W_head[:, j]))
    direct = m_out * head_sum
    dh = "∂L/∂" + sub("h", "t")
    lines = [Line("head", f"{dh} (from the head) = m_out · Σ<sub>v</sub> ∂L/∂logit<sub>v</sub>·lm_head.weight[v, {j}] "
                          f"= {fmt(m_out)}·{factor(head_sum)} = {fmt(direct)}")]
    if t == T - 1:
        lines.append(Line("later", f"{dh} (from {sub('h', 't+1')}) = 0 (t = T − 1 is the last timestep)"))
        total = f"{fmt(direct)} + 0"
    else:
        g_next = float(s.get("grad/h")[b, t + 1, j])
        z_next = float(s.get("z")[b, t + 1, j])
        g_gh = s.get("grad/gh")[b, t + 1]
        via_gates = float(np.dot(g_gh.astype(np.float64), s.param("h2g.weight")[:, j]))
        from_next = g_next * z_next + via_gates
        lines.append(Line("later", f"{dh} (from {sub('h', 't+1')}) = ∂L/∂{sub('h', 't+1')}·{sub('z', 't+1')} + "
                                   f"Σ<sub>g</sub> ∂L/∂gh<sub>t+1</sub>[g]·h2g.weight[g, {j}] = {factor(g_next)}·"
                                   f"{fmt(z_next)}{signed(via_gates)} = {fmt(from_next)}"))
        total = f"{fmt(direct)}{signed(from_next)}"
    lines.append(Line(sub("dh", "t"), f"{dh} = {total} = <b>{fmt(gh_t)}</b>", True))
    z, n, nh = (float(s.get(k)[b, t, j]) for k in ("z", "n", "nh"))
    h_prev = float(s.get("h")[b, t - 1, j]) if t > 0 else 0.0
    gn, gz, gr = (float(s.get(k)[b, t, j]) for k in ("grad/n", "grad/z", "grad/r"))
    lines.append(Line("dn", f"∂L/∂n = {dh} ⊙ (1 − z) = {factor(gh_t)}·(1 − {fmt(z)}) = <b>{fmt(gn)}</b>"))
    lines.append(Line("dz", f"∂L/∂z = {dh} ⊙ ({sub('h', 't−1')} − n) = {factor(gh_t)}·({fmt(h_prev)}"
                            f"{signed(-n)}) = <b>{fmt(gz)}</b>"))
    lines.append(Line("dr", f"∂L/∂r = ∂L/∂n ⊙ (1 − n²) ⊙ nh = {factor(gn)}·(1 − {factor(n)}²)·{factor(nh)} "
                            f"= <b>{fmt(gr)}</b>"))
    g_w = s.get("grad/h2g.weight")
    if g_w is not None:
        lines.append(Line("sum", f"∂L/∂h2g.weight[{j}, 0] summed over timesteps {t} … {T - 1} so far = "
                                 f"{fmt(g_w[j, 0])}"))
    noise = ""
    scale = float(np.max(np.abs(s.get("grad/h")[:, t:]))) if T else 0.0
    if scale < 1e-6:
        noise = (" <i>All gradients here are below 10<sup>−6</sup>: that is float32 rounding noise around zero "
                 "(for example when every logit is equal, no change of h can change the loss), so the last digits "
                 "need not add up.</i>")
    return Page(f"Backward · timestep t = {t}", lines,
                "Back-propagation walks from the last timestep to the first. The gradient reaching h<sub>t</sub> has "
                "two parts: from this position's prediction (the head) and from the future, through "
                "h<sub>t+1</sub>. It then "
                "splits into the gradients of the gates; parameter gradients add up over the timesteps." + noise, True)


def _update_page(s, step, b, j) -> Page:
    cfg = s.config
    lr = cfg.learning_rate
    y, x = s.get("y"), s.get("x")
    tgt, src = int(y[b, 0]), int(x[b, 0])
    cells = [("h2g.weight", (j, 0), f"h2g.weight[{j}, 0]"),
             ("x2g.bias", (j,), f"x2g.bias[{j}] (z row)"),
             ("lm_head.weight", (tgt, j), f"lm_head.weight[{tgt}, {j}] (y = {_tok(s, tgt)})"),
             ("wte.weight", (src, 0), f"wte.weight[{src}, 0] (x = {_tok(s, src)})")]
    lines = [Line("rule", f"p ← p − lr · ∂L/∂p,&nbsp;&nbsp; lr = {lr:g}")]
    for name, index, label in cells:
        before = float(s.get(f"param/{name}")[index])
        grad = float(s.get(f"grad/{name}")[index])
        after = float(s.get(f"updated/{name}")[index])
        lines.append(Line(name.split(".")[0], f"{label}: {fmt(before)} − {lr:g}·{factor(grad)} = <b>{fmt(after)}</b>"))
    return Page("Update (SGD)", lines,
                "Every weight moves against its gradient, scaled by the learning rate. Weights whose gradient "
                "is zero (for example rows of tokens that did not occur) do not move.", True)


def _forward_after_page(s, step, b, j) -> Page:
    before, after = float(s.get("loss")), float(s.get("loss_after"))
    gain = float(s.get("loss_improvement"))
    pct = 100.0 * gain / before if before else 0.0
    lines = [Line("loss", f"L: {fmt(before)} → <b>{fmt(after)}</b>", True),
             Line("gain", f"improvement = {fmt(before)} − {fmt(after)} = <b>{fmt(gain)}</b> "
                          f"({pct:.1f} % of the loss)".replace("-", MINUS), True)]
    return Page("Forward after the update", lines,
                "The same batch goes through the updated weights (with freshly drawn dropout masks). A lower loss "
                "means the step helped on this batch; a higher one usually means the learning rate is too large.",
                uses_b=False)


_BUILDERS = {
    "tokenize": _tokenize_page, "batch": _batch_page, "embed": _embed_page, "dropout_in": _dropout_in_page,
    "cell": _gru_page, "stack": _stack_page, "dropout_out": _dropout_out_page, "head": _head_page,
    "loss": _loss_page, "zero_grad": _zero_grad_page, "backward": _backward_page, "update": _update_page,
    "forward_after": _forward_after_page,
}
