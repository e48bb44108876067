"""The Equation panel's pages: one per phase, built from a snapshot (no Qt).

Every number comes from the snapshot (``snapshot.get`` / ``snapshot.param``);
nothing is recomputed except the intermediate sums that an equation spells
out. The recurrent phase and backward pages ask the chosen cell's UI module
(``ui/cells``) for their lines.
"""
from __future__ import annotations

import numpy as np

from ...core.base.config import PARAM_NAMES
from ..cells import cell_view
from ..widgets.equation_format import (MAX_LINES, MAX_VECTOR, MINUS, ROUNDOFF_TEXT, Line, Page, bold, dot_terms, elide, esc,
                              factor, fmt, noise, signed, sub, tok, vector, visible)


def build_page(s, b: int, j: int) -> Page:
    step = s.step
    if step is None:
        return _start_page(s)
    builder = _BUILDERS[step.phase]
    return builder(s, step, b, j)


def _start_page(s) -> Page:
    view = cell_view(s.config.cell)
    lines = [Line("", esc(eq)) for eq in view.cell.equations]
    lines.append(Line("loss", "L = mean over b, t of −log softmax(lm_head(m<sub>out</sub> ⊙ h<sub>t</sub>))[y]"))
    return Page(f"Start: nothing has run yet ({view.title})", lines,
                f"These are the equations of one {view.title} timestep ({view.cell.long_title}), with "
                f"h<sub>−1</sub> = 0. {view.variant_note} Press F10 to run the first phase, the tokenizer; the "
                "numbers of the selected row b and unit j appear here as each step runs.", uses_b=False)


def _tokenize_page(s, step, b, j) -> Page:
    corpus = s.corpus
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
                "adjacent pair into a new token; when two pairs are equally frequent, the one that occurs first "
                "in the text wins. The texts are joined without a separator while the merges are learned, so a "
                "pair may span the end of one text and the start of the next; each text is then encoded on its "
                "own after an end-of-text token. Every position of the stream is one prediction the model can "
                "learn from.", uses_b=False)


def _batch_page(s, step, b, j) -> Page:
    cfg = s.config
    B, T, p = cfg.batch_size, cfg.context_length, s.state.position
    x, y = s.get("x"), s.get("y")
    xs, ys = [int(v) for v in x[b]], [int(v) for v in y[b]]

    def seq(ids: list[int]) -> str:
        shown = " ".join(tok(s, i) for i in ids[:24])
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
        lines.append(Line(f"t={t}", f"{sub('e', str(t))} = wte.weight[{tid}] (token {tok(s, tid)}) = "
                                   f"{vector(emb[b, t])}"))
    return Page("Embed", elide(lines, T),
                "Each input token id picks one row of the embedding table wte.weight; that row of E numbers is "
                f"what the {s.cell.title} sees for the token. Tokens with the same id get the same vector.")


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
    return Page("Dropout (input)", elide(lines, T),
                "During training each embedding number is zeroed with probability p and the survivors are scaled "
                "by 1/(1 − p), so the expected value stays the same. Look for the zeros: the "
                f"{s.cell.title} never sees those "
                "inputs in this iteration.")


def _pre_lines(s, b: int, j: int, t: int, src: str, current: bool) -> list[Line]:
    """x2g (src "x") or h2g (src "h") at timestep t: one line per block of the cell."""
    cell = s.cell
    view = cell_view(s.config.cell)
    H = s.config.hidden_size
    layer = "x2g" if src == "x" else "h2g"
    W, bias = s.param(f"{layer}.weight"), s.param(f"{layer}.bias")
    values = s.get("gx" if src == "x" else "gh")[b, t]
    if src == "x":
        inputs, name = s.get("x_in")[b, t], sub("x", "t")
    else:
        inputs = s.get("h")[b, t - 1] if t > 0 else np.zeros(H, dtype=np.float32)
        name = sub("h", "t−1")
    if not current:
        vals = ", ".join(fmt(values[k * H + j]) for k in range(cell.n_blocks))
        names = ", ".join(view.part(g, src) for g in cell.blocks)
        return [Line(layer, f"{names} = {layer}({name}) = {vals}")]
    lines = []
    for k, g in enumerate(cell.blocks):
        row = k * H + j
        if src == "h" and t == 0:
            body = (f"{view.part(g, 'h')} = h2g.weight[{row}]·{sub('h', '−1')} + h2g.bias[{row}] = "
                    f"0{signed(bias[row])} "
                    f"= <b>{fmt(values[row])}</b>&nbsp;&nbsp;({sub('h', '−1')} = 0)")
        else:
            body = (f"{view.part(g, src)} = {layer}.weight[{row}]·{name} + {layer}.bias[{row}] = "
                    f"{dot_terms(W[row], inputs)}{signed(bias[row])} = <b>{fmt(values[row])}</b>")
        lines.append(Line(view.part(g, src), body, True))
    return lines


def cell_lines(s, b: int, j: int, t: int, upto: str) -> list[Line]:
    """The equations of timestep t for row b, unit j, up to sub-step ``upto``."""
    view = cell_view(s.config.cell)
    order = view.cell.substeps
    done = order[: order.index(upto) + 1]
    x = s.get("x")
    lines = [Line(sub("x", "t"), f"{sub('x', t)} = dropout(wte[{tok(s, int(x[b, t]))}]) = {vector(s.get('x_in')[b, t])}")]
    if t > 0:
        for state in view.cell.state:
            lines.append(Line(sub(state, "t−1"), f"{sub(state, t - 1)} = {vector(s.get(state)[b, t - 1])}"))
    lines += _pre_lines(s, b, j, t, "x", upto == "x2g")
    if "h2g" in done:
        lines += _pre_lines(s, b, j, t, "h", upto == "h2g")
    for gate in order[2:]:
        if gate in done:
            lines.append(view.gate_line(s, b, j, t, gate, upto == gate))
    return lines


def _cell_page(s, step, b, j) -> Page:
    view = cell_view(s.config.cell)
    t, subname = step.t, step.sub or "h"
    lines = cell_lines(s, b, j, t, subname)
    title = f"{view.title} · timestep t = {t}"
    if subname != "h":
        title += f" · {subname}" + (f" ({view.gate_names[subname]})" if subname in view.gate_names else "")
    text = view.substep_text[subname]
    if subname == "h":  # what this timestep did with its numbers first: the part no other timestep shares
        text = (f"<b>This timestep:</b> {view.timestep_facts(s, b, j, t)}<br>All the equations of this timestep, "
                f"in the order they run. {text}")
    else:
        text = f"{text} {view.substep_facts(s, b, j, t, subname)}"
    return Page(title, lines, text, True)


def _backward_page(s, step, b, j) -> Page:
    view = cell_view(s.config.cell)
    t = step.t
    T = s.config.context_length
    gh_t = float(s.get("grad/h")[b, t, j])
    dh = "∂L/∂" + sub("h", "t")
    head_line, direct = view.head_part(s, b, j, t)
    noise = view.head_roundoff(s, b, j, t)      # round-off prints as a grey ≈0 (equation_format.noise)
    lines = [head_line]
    if t == T - 1:
        lines.append(Line("later", f"{dh} (from {sub('h', 't+1')}) = 0 (t = T − 1 is the last timestep)"))
        total = f"{fmt(direct, noise)} + 0"
    else:
        text, from_next = view.from_future(s, b, j, t)
        later = view.future_roundoff(s, b, j, t)
        lines.append(Line("later", f"{dh} (from {sub('h', 't+1')}) = {text} = {fmt(from_next, later)}"))
        total = f"{fmt(direct, noise)}{signed(from_next, later)}"
    lines.append(Line(sub("dh", "t"), f"{dh} = {total} = {bold(gh_t, view.roundoff(s, 'grad/h', b, t, j))}", True))
    lines += view.backward_lines(s, b, j, t)
    g_w = s.get("grad/h2g.weight")
    if g_w is not None:
        lines.append(Line("sum", f"∂L/∂h2g.weight[{j}, 0] summed over timesteps {t} … {T - 1} so far = "
                                 f"{fmt(g_w[j, 0], view.roundoff(s, 'grad/h2g.weight', j, 0))}"))
    note = ""
    if _is_roundoff(s, "grad/h"):
        why = _diagnosis_text(s)
        note = (" <i>In exact arithmetic every gradient on this page is zero" + (f": {why}" if why else "")
                + " The numbers shown are float32 round-off (marked in the panels), so their last digits need "
                  "not add up.</i>")
    facts = f"<b>This timestep:</b> {view.backward_facts(s, b, j, t)}<br>"
    return Page(f"Backward · timestep t = {t}", lines, facts + view.backward_text + note, True)


def _is_roundoff(s, key: str) -> bool:
    check = getattr(s, "is_roundoff", None)
    return bool(check(key)) if check is not None else False


def _diagnosis_text(s) -> str:
    found = s.diagnosis()
    return found.text if found is not None else ""


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
    return Page("Dropout (output)", elide(lines, T),
                "The hidden states are dropped out the same way as the inputs before they reach the head. "
                "A dropped unit contributes nothing to that position's prediction.", True)


def _head_page(s, step, b, j) -> Page:
    y, h_out, logits = s.get("y"), s.get("h_out"), s.get("logits")
    W = s.param("lm_head.weight")
    T = y.shape[1]
    lines = [Line("logit", "logit[y] = lm_head.weight[y] · h_out<sub>t</sub>&nbsp;&nbsp; (y = the target y[b, t])")]
    for t in range(min(T, MAX_LINES)):
        tgt = int(y[b, t])
        lines.append(Line(f"t={t}", f"y = {tok(s, tgt)} ({tgt}): {dot_terms(W[tgt], h_out[b, t])} = "
                                   f"<b>{fmt(logits[b, t, tgt])}</b>"))
    return Page("Head (logits)", lines[:1] + elide(lines[1:], T),
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
        lines.append(Line(f"t={t}", f"p(y = {tok(s, tgt)}) = exp({fmt(logits[b, t, tgt])} − {fmt(lse)}) = "
                                   f"{fmt(probs[b, t, tgt])},&nbsp;&nbsp; −log p = <b>{fmt(lpp[b, t])}</b>"))
    lines = lines[:1] + elide(lines[1:], T)
    n = cfg.batch_size * cfg.context_length
    lines.append(Line("L", f"L = mean of −log p over B·T = {n} positions = <b>{fmt(s.get('loss'))}</b>", True))
    return Page("Loss", lines,
                "Softmax turns the logits into probabilities; the loss at a position is −log of the probability "
                "given to the true next token, and L is their mean over all B·T positions. With all logits equal "
                "the loss is ln V: the model is guessing uniformly. The gradient of L with respect to a logit is "
                "(p<sub>v</sub> − [v = y]) / (B·T): softmax and cross-entropy together give this simple form, and "
                "the mean contributes the 1/(B·T).")


def _zero_grad_page(s, step, b, j) -> Page:
    count = sum(int(np.asarray(s.param(name)).size) for name in PARAM_NAMES)
    lines = [Line("grad", f"∂L/∂θ ← 0 for θ in {', '.join(PARAM_NAMES)}", True),
             Line("size", f"{count} numbers set to zero")]
    return Page("Zero grad", lines,
                "PyTorch adds new gradients to whatever is stored, so they are cleared before back-propagation. "
                "Forgetting this would mix in the gradients of an earlier batch.", uses_b=False)


def _update_page(s, step, b, j) -> Page:
    cfg = s.config
    lr = cfg.learning_rate
    y, x = s.get("y"), s.get("x")
    tgt, src = int(y[b, 0]), int(x[b, 0])
    cells = [("h2g.weight", (j, 0), f"h2g.weight[{j}, 0]"),
             ("x2g.bias", (j,), f"x2g.bias[{j}]" + (f" ({s.cell.blocks[0]} row)" if s.cell.n_blocks > 1 else "")),
             ("lm_head.weight", (tgt, j), f"lm_head.weight[{tgt}, {j}] (y = {tok(s, tgt)})"),
             ("wte.weight", (src, 0), f"wte.weight[{src}, 0] (x = {tok(s, src)})")]
    lines = [Line("rule", f"p ← p − lr · ∂L/∂p,&nbsp;&nbsp; lr = {lr:g}")]
    view = cell_view(cfg.cell)
    for name, index, label in cells:
        before = float(s.get(f"param/{name}")[index])
        grad = float(s.get(f"grad/{name}")[index])
        after = float(s.get(f"updated/{name}")[index])
        lines.append(Line(name.split(".")[0], f"{label}: {fmt(before)} − {lr:g}·"
                                              f"{factor(grad, view.roundoff(s, f'grad/{name}', *index))} = "
                                              f"{_after(s, name, index, before, after)}"))
    return Page("Update (SGD)", lines,
                "Every weight moves against its gradient, scaled by the learning rate. Weights whose gradient "
                "is zero (for example rows of tokens that did not occur) do not move.", True)


def _after(s, name: str, index: tuple[int, ...], before: float, after: float) -> str:
    """A weight after the update; one that only round-off moved keeps its value in exact arithmetic:
    that value, marked, or (from 0) the grey ≈0 of round-off."""
    check = getattr(s, "change_roundoff_mask", None)
    moved = check(name) if check is not None else None
    if moved is None or not moved[index]:
        return bold(after)
    if before == 0.0:
        return bold(after, True)
    return f"<b>{fmt(before)}</b> {noise().replace(ROUNDOFF_TEXT, '(+ round-off)')}"


def _forward_after_page(s, step, b, j) -> Page:
    before, after = float(s.get("loss")), float(s.get("loss_after"))
    gain = float(s.get("loss_improvement"))
    pct = 100.0 * gain / before if before else 0.0
    same = float(s.get("loss_after_same_masks"))
    lines = [Line("fresh", f"L: {fmt(before)} → <b>{fmt(after)}</b> with fresh dropout masks (as the notebook)", True),
             Line("gain", f"improvement = {fmt(before)} − {fmt(after)} = <b>{fmt(gain)}</b> "
                          f"({pct:.1f} % of the loss)".replace("-", MINUS), True),
             Line("same", f"L: {fmt(before)} → <b>{fmt(same)}</b> with the first pass's masks "
                          f"(the step's effect alone: {fmt(before - same)})")]
    return Page("Forward after the update", lines,
                "The same batch goes through the updated weights. With freshly drawn dropout masks (the notebook's "
                "way) the change mixes the step's effect with different dropout noise, so it can even go up at a "
                "sound learning rate; with the first pass's masks it shows the step alone. Either way this is the "
                "batch the step was computed on: a lower loss here measures how well the step fitted (memorised) "
                "this batch, not how the model does on text it has not seen.",
                uses_b=False)


_BUILDERS = {
    "tokenize": _tokenize_page, "batch": _batch_page, "embed": _embed_page, "dropout_in": _dropout_in_page,
    "cell": _cell_page, "stack": _stack_page, "dropout_out": _dropout_out_page, "head": _head_page,
    "loss": _loss_page, "zero_grad": _zero_grad_page, "backward": _backward_page, "update": _update_page,
    "forward_after": _forward_after_page,
}

