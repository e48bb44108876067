"""Navigation, edits, undo and errors of the controller."""
import numpy as np
import pytest

from gru_debugger.core.base.config import Config
from gru_debugger.core.control.controller import Controller, ControllerError
from gru_debugger.core.model.phases import PHASES, Step


@pytest.fixture
def ctl():
    return Controller(Config(seed=11))


def labels(ctl, action, n):
    out = []
    for _ in range(n):
        action()
        out.append(ctl.snapshot().step.label)
    return out


def test_step_walks_phases_then_timesteps(ctl):
    got = labels(ctl, ctl.step, 6)
    assert got == ["Tokenize", "Batch", "Embed", "Dropout (input)", "GRU t=0", "GRU t=1"]


def test_step_into_visits_gate_substeps(ctl):
    ctl.run_to("dropout_in")
    assert labels(ctl, ctl.step_into, 6) == ["GRU t=0 (x2g)", "GRU t=0 (h2g)", "GRU t=0 (z)", "GRU t=0 (r)",
                                             "GRU t=0 (n)", "GRU t=0"]


def test_step_out_finishes_the_phase(ctl):
    ctl.run_to("cell", 2)
    ctl.step_out()
    assert ctl.snapshot().step == Step("cell", 7, "h")


def test_backward_goes_back_in_time(ctl):
    ctl.run_to("zero_grad")
    assert [ctl.snapshot().step.t for _ in range(3) if not ctl.step()] == [7, 6, 5]


def test_full_walk_counts_and_loss(ctl):
    n = 0
    while ctl.can_step():
        ctl.step()
        n += 1
    assert n == len(PHASES) - 2 + 8 + 8
    assert round(ctl.snapshot().loss, 4) == 3.5835
    with pytest.raises(ControllerError):
        ctl.step()


def test_not_computed_is_none_not_zero(ctl):
    snap = ctl.snapshot()
    assert snap.get("grad/h2g.weight") is None and snap.get("logits") is None
    ctl.run_to("cell", 3)
    mask = ctl.snapshot().time_mask("h")
    assert mask.tolist() == [True] * 4 + [False] * 4
    ctl.run_to("backward", 5)
    assert ctl.snapshot().time_mask("grad/h").tolist() == [False] * 5 + [True] * 3


def test_step_back_restores_exactly(ctl):
    ctl.run_to("head")
    before = ctl.snapshot()
    ctl.run_to_end()
    ctl.step_back()
    after = ctl.snapshot()
    assert after.cursor == before.cursor
    assert np.array_equal(after.get("logits"), before.get("logits"))
    assert after.get("loss") is None


def test_params_view_follows_update(ctl):
    ctl.run_to("backward")
    before = ctl.snapshot().param("h2g.weight")
    ctl.run_to("update")
    after = ctl.snapshot().param("h2g.weight")
    assert not np.array_equal(before, after)
    ctl.step_back()
    assert np.array_equal(ctl.snapshot().param("h2g.weight"), before)


def test_edit_keeps_cursor_and_recomputes(ctl):
    ctl.run_to("loss")
    loss = ctl.snapshot().loss
    ctl.set_param("lm_head.weight", (15, 0), 3.0)
    snap = ctl.snapshot()
    assert snap.step == Step("loss") and snap.loss != loss
    ctl.undo()
    assert ctl.snapshot().loss == loss
    ctl.redo()
    assert ctl.snapshot().loss == snap.loss


def test_learning_rate_applies_without_reset(ctl):
    ctl.run_to("update")
    params = {k: v.clone() for k, v in ctl.state.params.items()}
    grad = ctl.snapshot().get("grad/lm_head.weight")
    ctl.set_learning_rate(1.0)
    snap = ctl.snapshot()
    assert snap.step == Step("update")
    np.testing.assert_allclose(snap.get("update/lm_head.weight"), -1.0 * grad, rtol=1e-6)
    assert all(np.array_equal(params[k].numpy(), ctl.state.params[k].numpy()) for k in params)


def test_merge_key_merges_successive_edits(ctl):
    for lr in (1.0, 2.0, 3.0):
        ctl.set_learning_rate(lr, merge_key="lr-slider")
    assert ctl.undo_texts == ["Learning rate = 3"]
    ctl.undo()
    assert ctl.config.learning_rate == 5.0


def test_rewinding_never_redraws_masks(ctl):
    mask = ctl.snapshot().trace["dropout_in_mask"].copy()
    ctl.run_to_end()
    ctl.step_back()
    ctl.set_learning_rate(0.5)
    assert np.array_equal(ctl.snapshot().trace["dropout_in_mask"], mask)
    ctl.set_seed(12)
    assert not np.array_equal(ctl.snapshot().trace["dropout_in_mask"], mask)


def test_next_iteration_uses_updated_weights_and_step_back_returns(ctl):
    ctl.run_to_end()
    updated = ctl.snapshot().trace["updated/x2g.weight"].copy()
    ctl.next_iteration()
    assert ctl.cursor == -1 and ctl.state.iteration == 1 and ctl.state.position == 16
    assert np.array_equal(ctl.state.params["x2g.weight"].numpy(), updated)
    ctl.step_back()
    assert ctl.state.iteration == 0 and ctl.cursor == ctl.last


def test_changing_T_clamps_the_cursor(ctl):
    ctl.run_to("cell", 6)
    ctl.set_batch(2, 4)
    assert ctl.snapshot().step == Step("cell", 3, "h")
    ctl.undo()
    assert ctl.snapshot().step == Step("cell", 3, "h") and ctl.config.context_length == 8


def test_vocab_change_reinitialises_only_vocab_sized_params(ctl):
    ctl.set_param("h2g.weight", (1, 1), 0.9)
    ctl.set_tokenizer(num_merges=8, lowercase=True)
    assert ctl.state.params["wte.weight"].shape[0] == 39
    assert float(ctl.state.params["h2g.weight"][1, 1]) == pytest.approx(0.9)


@pytest.mark.parametrize("bad", [
    lambda c: c.set_param("h2g.weight", (6, 0), 1.0),
    lambda c: c.set_param("nope", (0, 0), 1.0),
    lambda c: c.set_param("h2g.weight", (0, 0), float("nan")),
    lambda c: c.set_param("h2g.weight", (0, 0), "abc"),
    lambda c: c.set_learning_rate(float("inf")),
    lambda c: c.set_dropout(1.0),
    lambda c: c.set_batch(64, 64),
    lambda c: c.set_corpus(["too short"]),
    lambda c: c.set_corpus([]),
    lambda c: c.set_position(10_000),
    lambda c: c.set_init("x2g.bias", {"scheme": "orthogonal"}),
    lambda c: c.set_init("x2g.weight", {"scheme": "normal", "std": -1}),
    lambda c: c.set_sizes(4096, 4096),
    lambda c: c.run_to("nowhere"),
    lambda c: c.run_to("cell", 99),
    lambda c: c.toggle_breakpoint("nowhere"),
])
def test_bad_requests_raise_and_change_nothing(ctl, bad):
    ctl.run_to("loss")
    snap = ctl.snapshot()
    with pytest.raises(ControllerError):
        bad(ctl)
    after = ctl.snapshot()
    assert after.state is snap.state and after.cursor == snap.cursor and not ctl.can_redo()
    assert ctl.undo_texts == []


def test_continue_stops_at_breakpoints(ctl):
    ctl.toggle_breakpoint("head")
    ctl.toggle_breakpoint("update")
    ctl.continue_()
    assert ctl.snapshot().step == Step("head")
    ctl.continue_()
    assert ctl.snapshot().step == Step("update")
    ctl.continue_()
    assert ctl.snapshot().at_end


def test_signals_carry_snapshots(ctl):
    seen = []
    ctl.changed.connect(seen.append)
    ctl.step()
    ctl.set_learning_rate(2.0)
    assert seen[0].reasons == {"cursor"} and "model" in seen[1].reasons
    with pytest.raises(ValueError):
        seen[1].get("param/h2g.weight")[...] = 1.0  # snapshot arrays are read-only


def test_reset_is_undoable(ctl):
    ctl.run_to_end()
    ctl.next_iteration()
    ctl.reset()
    assert ctl.state.iteration == 0 and ctl.cursor == -1
    ctl.undo()
    assert ctl.state.iteration == 1


def test_batched_sends_one_notification(ctl):
    seen, history = [], []
    ctl.changed.connect(seen.append)
    ctl.history_changed.connect(lambda: history.append(1))
    with ctl.batched():
        for _ in range(3):
            ctl.run_to_end()
            ctl.next_iteration()
    assert len(seen) == 1 and seen[0].reasons == {"cursor", "model"} and len(history) == 1
    assert ctl.state.iteration == 3


def test_training_lowers_the_loss():
    from gru_debugger.core.control.training import train_iterations
    ctl = Controller(Config(seed=0))  # the notebook's settings, lr = 5
    points = train_iterations(ctl, 60)
    assert len(points) == 60 and ctl.state.iteration == 60
    assert all(p.loss_after < p.loss for p in points[:5])
    first = sum(p.loss for p in points[:10]) / 10
    last = sum(p.loss for p in points[-10:]) / 10
    assert last < first
    assert ctl.undo_texts == ["Training run (60 iterations)"]  # one undo step, however long the run
    ctl.undo()
    assert ctl.state.iteration == 0 and not ctl.can_undo()
    ctl.redo()
    assert ctl.state.iteration == 60
