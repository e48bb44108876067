"""The undo/redo history: commands, groups and merge keys, bounded by a byte budget.

Each change of the model is a :class:`Command` holding the complete state from
before and after. A :class:`Group` (a training run) becomes one command when it
closes; a command with the same ``merge_key`` as the one on top (a dragged value)
replaces that one's "after". The history counts the bytes of the parameter
tensors its states keep, each storage once, and drops the oldest steps when
they exceed ``budget`` (the last change always stays undoable). It knows nothing
of traces, cursors or listeners: the controller installs states and tells.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ..model.engine import ModelState
from ..base.validation import ControllerError

__all__ = ["Command", "Group", "History"]


@dataclass
class Command:
    """One undoable change of the model."""

    text: str
    before: ModelState
    after: ModelState
    merge_key: Any = None
    kind: str = "edit"  # "edit", "iteration", "reset" or "group" (a training run)
    # next iteration / reset also move the cursor; edits keep it where it is
    cursor_before: int | None = None
    nav_before: list[int] = field(default_factory=list)
    # a group: how many changes it holds, and its last "next iteration" (so step
    # back can return into the run's last iteration)
    count: int = 0
    last: "Command | None" = None
    template: str = ""  # the group's text with {n} for its count

    @property
    def moves(self) -> bool:
        """Whether undoing it also moves the cursor back (next iteration, reset, a run of them)."""
        return self.cursor_before is not None

    def states(self) -> list[ModelState]:
        out = [self.before, self.after]
        if self.last is not None:
            out.append(self.last.before)
        return out


class Group:
    """An open ``grouped()`` block: its changes become one undo step. ``opened`` and ``closed`` are
    the owner's (the controller records where the cursor was, and tells listeners at the end)."""

    def __init__(self, text: str, merge_key: Any, opened: Callable[["Group"], None],
                 closed: Callable[["Group"], None]):
        self.text, self.merge_key = text, merge_key
        self._opened, self._closed = opened, closed
        self.before: ModelState | None = None
        self.cursor_before, self.nav_before = -1, []
        self.moves = False
        self.count = 0
        self.last: Command | None = None

    def __enter__(self) -> "Group":
        self._opened(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed(self)


class History:
    """The undo and redo stacks and the bytes their states keep."""

    def __init__(self, budget: int):
        self.budget = budget
        self.undo: list[Command] = []
        self.redo: list[Command] = []
        self.group: Group | None = None       # the open group, if any
        self.bytes = 0
        self.dropped = 0                       # oldest undo steps dropped to stay within budget
        self._kept: dict[int, list[int]] = {}  # storage address -> [references from the history, bytes]

    @property
    def top(self) -> Command | None:
        return self.undo[-1] if self.undo else None

    @property
    def note(self) -> str | None:
        """A line for the History panel when old steps were dropped, else None."""
        n = self.dropped
        return f"({n} older step{'s' if n != 1 else ''} dropped to save memory)" if n else None

    # ------------------------------------------------------------ recording
    def open(self, group: Group, state: ModelState, cursor: int, nav: list[int]) -> None:
        if self.group is not None:
            raise ControllerError("a group of changes is already open")
        group.before, group.cursor_before, group.nav_before = state, cursor, list(nav)
        self.group = group

    def record(self, cmd: Command) -> bool:
        """Record a change that is already installed (redo is cleared). Inside an open group it is
        counted there; otherwise it goes on the undo stack, merged into the top one if their merge
        keys match. Returns whether the undo stack changed."""
        for old in self.redo:
            self._unkeep(old)
        self.redo.clear()
        group = self.group
        if group is not None:  # one undo step when the group closes
            group.count += 1
            group.moves = group.moves or cmd.moves
            group.last = cmd if cmd.kind == "iteration" else None
            return False
        top = self.top
        if cmd.merge_key is not None and top is not None and top.merge_key == cmd.merge_key and top.kind != "group":
            self._unkeep(top)
            top.after, top.text = cmd.after, cmd.text
            self._keep(top)
        else:
            self._push(cmd)
        self._trim()
        return True

    def close(self, group: Group, after: ModelState) -> bool:
        """Close ``group`` (the state is now ``after``); returns whether the undo stack changed."""
        self.group = None
        if not group.count:
            return False
        assert group.before is not None
        top = self.top
        if (group.merge_key is not None and top is not None and top.kind == "group" and top.merge_key == group.merge_key
                and top.after is group.before and not self.redo):
            self._unkeep(top)
            top.after, top.count, top.last = after, top.count + group.count, group.last
            top.text = group.text.replace("{n}", str(top.count))
            self._keep(top)
        else:
            self._push(Command(group.text.replace("{n}", str(group.count)), group.before, after, group.merge_key,
                               "group", group.cursor_before if group.moves else None, group.nav_before, group.count,
                               group.last, group.text))
        self._trim()
        return True

    # ------------------------------------------------------------ undo and redo
    def to_undo(self) -> Command:
        """The command :meth:`undone` will move (the caller installs its "before" first)."""
        if self.group is not None:
            raise ControllerError("cannot undo while a group of changes is being recorded")
        if not self.undo:
            raise ControllerError("nothing to undo")
        return self.undo[-1]

    def to_redo(self) -> Command:
        if self.group is not None:
            raise ControllerError("cannot redo while a group of changes is being recorded")
        if not self.redo:
            raise ControllerError("nothing to redo")
        return self.redo[-1]

    def undone(self) -> None:
        self.redo.append(self.undo.pop())

    def redone(self) -> None:
        self.undo.append(self.redo.pop())

    def split_group(self) -> None:
        """Turn the training run on top of the undo stack into the run without its last iteration
        plus that iteration (same states, so the numbers are the same)."""
        group = self.undo.pop()
        last = group.last
        assert last is not None
        self._unkeep(group)
        if group.count > 1 and last.before is not group.before:
            self._push(Command(group.template.replace("{n}", str(group.count - 1)), group.before, last.before,
                               group.merge_key, "group", group.cursor_before, list(group.nav_before),
                               group.count - 1, None, group.template))
        self._push(last)

    # ------------------------------------------------------------ byte budget
    def _push(self, cmd: Command) -> None:
        self.undo.append(cmd)
        self._keep(cmd)

    @staticmethod
    def _tensors(cmd: Command) -> Iterator[Any]:
        seen: set[int] = set()
        for state in cmd.states():
            for tensor in state.params.values():
                if id(tensor) not in seen:
                    seen.add(id(tensor))
                    yield tensor

    def _keep(self, cmd: Command) -> None:
        for tensor in self._tensors(cmd):
            storage = tensor.untyped_storage()
            entry = self._kept.setdefault(storage.data_ptr(), [0, storage.nbytes()])
            if entry[0] == 0:
                self.bytes += entry[1]
            entry[0] += 1

    def _unkeep(self, cmd: Command) -> None:
        for tensor in self._tensors(cmd):
            address = tensor.untyped_storage().data_ptr()
            entry = self._kept[address]
            entry[0] -= 1
            if entry[0] == 0:
                self.bytes -= entry[1]
                del self._kept[address]

    def _trim(self) -> None:
        """Drop the oldest undo steps until the history fits its budget (the last change always
        stays undoable)."""
        while self.bytes > self.budget and len(self.undo) > 1:
            self._unkeep(self.undo.pop(0))
            self.dropped += 1
