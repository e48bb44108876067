"""PyTorch's own modules and unrolled cells on a recorded iteration: the reference every cell is checked
against (in the trace's precision)."""
import torch
import torch.nn.functional as F

MODULES = {"gru": (torch.nn.GRU, torch.nn.GRUCell), "lstm": (torch.nn.LSTM, torch.nn.LSTMCell),
           "rnn": (torch.nn.RNN, torch.nn.RNNCell)}


def _swap(cell, H):
    """This project's block order <-> PyTorch's (the GRU's z | r | n is nn.GRU's r | z | n)."""
    if cell == "gru":
        return lambda w: torch.cat([w[H:2 * H], w[:H], w[2 * H:]])
    return lambda w: w


def _unrolled(cell, step, x_in, m_out, head, y, last_only):
    """Unroll a torch cell; return h_t and c_t (LSTM) with their gradients for the full loss or the last one."""
    B, T, _ = x_in.shape
    H = head.shape[1]
    h = torch.zeros(B, H, dtype=x_in.dtype)
    c = torch.zeros(B, H, dtype=x_in.dtype)
    hs, cs = [], []
    for t in range(T):
        if cell == "lstm":
            h, c = step(x_in[:, t], (h, c))
            c.retain_grad()
            cs.append(c)
        else:
            h = step(x_in[:, t], h)
        h.retain_grad()
        hs.append(h)
    logits = (torch.stack(hs, 1) * m_out) @ head.T
    if last_only:
        loss = F.cross_entropy(logits[:, -1], y[:, -1])
    else:
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    loss.backward()
    return hs, cs


def reference(cell, trace, params):
    p = {k: v.detach().clone() for k, v in params.items()}
    H, E = p["h2g.weight"].shape[1], p["x2g.weight"].shape[1]
    swap = _swap(cell, H)
    module_cls, step_cls = MODULES[cell]
    dtype = p["wte.weight"].dtype
    module, step = module_cls(E, H, batch_first=True).to(dtype), step_cls(E, H).to(dtype)
    with torch.no_grad():
        for mod, suffix in ((module, "_l0"), (step, "")):
            getattr(mod, "weight_ih" + suffix).copy_(swap(p["x2g.weight"]))
            getattr(mod, "bias_ih" + suffix).copy_(swap(p["x2g.bias"]))
            getattr(mod, "weight_hh" + suffix).copy_(swap(p["h2g.weight"]))
            getattr(mod, "bias_hh" + suffix).copy_(swap(p["h2g.bias"]))
    wte = p["wte.weight"].clone().requires_grad_(True)
    head = p["lm_head.weight"].clone().requires_grad_(True)
    x, y = torch.from_numpy(trace["x"].copy()), torch.from_numpy(trace["y"].copy())
    m_in, m_out = (torch.from_numpy(trace[k].copy()) for k in ("dropout_in_mask", "dropout_out_mask"))
    x_in = F.embedding(x, wte) * m_in
    out = module(x_in)
    hs = out[0]
    logits = (hs * m_out) @ head.T
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    loss.backward()
    ref = {"h": hs.detach(), "logits": logits.detach(), "loss": loss.detach()}
    for name, w in (("wte.weight", wte), ("lm_head.weight", head)):
        ref[f"grad/{name}"] = w.grad
    for ours, theirs in (("x2g.weight", "weight_ih_l0"), ("x2g.bias", "bias_ih_l0"),
                         ("h2g.weight", "weight_hh_l0"), ("h2g.bias", "bias_hh_l0")):
        ref[f"grad/{ours}"] = swap(getattr(module, theirs).grad)
    # gates, from the torch module's weights and its own hidden states (independent of the engine)
    x_det, h_prev = x_in.detach(), torch.cat([torch.zeros_like(hs[:, :1]), hs[:, :-1]], 1).detach()
    gx = x_det @ module.weight_ih_l0.detach().T + module.bias_ih_l0.detach()
    gh = h_prev @ module.weight_hh_l0.detach().T + module.bias_hh_l0.detach()
    if cell == "gru":
        r, z = torch.sigmoid(gx[..., :H] + gh[..., :H]), torch.sigmoid(gx[..., H:2 * H] + gh[..., H:2 * H])
        ref.update(z=z, r=r, n=torch.tanh(gx[..., 2 * H:] + r * gh[..., 2 * H:]))
    elif cell == "lstm":
        i, f, g, o = (gx + gh).chunk(4, -1)
        ref.update(i=torch.sigmoid(i), f=torch.sigmoid(f), g=torch.tanh(g), o=torch.sigmoid(o))
    hs_u, cs_u = _unrolled(cell, step, x_det, m_out, head.detach(), y, last_only=False)
    ref["grad/h"] = torch.stack([h.grad for h in hs_u], 1)
    if cell == "lstm":
        ref["c"] = torch.stack([c.detach() for c in cs_u], 1)
        ref["grad/c"] = torch.stack([c.grad for c in cs_u], 1)
    hs_l, _ = _unrolled(cell, step, x_det, m_out, head.detach(), y, last_only=True)
    ref["grad/h_last"] = torch.stack([h.grad if h.grad is not None else torch.zeros_like(h) for h in hs_l], 1)
    return ref
