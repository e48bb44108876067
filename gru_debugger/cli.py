"""Command line: ``gru-debugger`` / ``python main.py [export|screenshots|bench]``.

Errors a user can fix print one line on stderr and exit with code 2.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Sequence

USAGE_ERROR = 2
NOT_CONVERGED_EXIT = 3  # gradcheck: nothing disagrees, but some finite differences did not converge
WEIGHTS_HELP = ("start from these weights: .safetensors, or .pt/.pth/.bin (tensors only), with this program's "
                "names or a plain PyTorch model's (see README)")


class CliError(Exception):
    """A problem with the user's arguments or files: one line, exit code 2."""


def _export(args: argparse.Namespace) -> int:
    from .core.storage.config_load import load_config
    from .core.control.controller import Controller, ControllerError
    from .core.storage.export import trace_arrays, write_npz

    out = Path(args.out)
    if out.suffix != ".npz":
        raise CliError(f"--out must name a .npz file, got {args.out}")
    if not out.parent.is_dir():
        raise CliError(f"the folder {out.parent} does not exist")
    if args.session is not None and args.config is not None:
        raise CliError("give --config or --session, not both")
    if args.session is not None:
        controller = Controller.load(args.session)  # its errors name the file
    else:
        config = load_config(args.config)
        try:
            controller = Controller(config)
        except ControllerError as exc:
            raise CliError(f"config {args.config}: {exc}" if args.config else str(exc)) from None
    if args.weights is not None:
        controller.import_weights(args.weights)  # a refusal names the file: one error line, exit 2
    write_npz(out, trace_arrays(controller.snapshot().trace))
    print(f"wrote {out} (loss {float(controller.snapshot().trace['loss']):.4f} -> "
          f"{float(controller.snapshot().trace['loss_after']):.4f})")
    unresolved = controller.snapshot().precision
    if unresolved is not None:
        print(f"note: {unresolved.message}", file=sys.stderr)
    return 0


def _gradcheck(args: argparse.Namespace) -> int:
    import json

    from .core.storage.config_load import load_config
    from .core.model.edits import fresh_state
    from .core.analysis.gradcheck import format_table, gradient_check

    if args.samples < 1:
        raise CliError(f"--samples must be at least 1, got {args.samples}")
    if args.seed < 0:
        raise CliError(f"--seed must be a whole number >= 0, got {args.seed}")
    out = Path(args.json) if args.json else None
    if out is not None and not out.absolute().parent.is_dir():
        raise CliError(f"the folder {out.absolute().parent} does not exist")
    if out is not None and out.is_dir():
        raise CliError(f"--json must name a file; {out} is a folder")
    config = load_config(args.config)
    state = fresh_state(config)
    report = gradient_check(state, samples=args.samples, seed=args.seed)
    report["config"] = args.config
    report["base_seed"] = state.base_seed
    report["config_dtype"] = config.dtype  # the check itself always runs in float64
    print(format_table(report))
    if out is not None:
        from .core.storage.atomic_write import write_atomic

        try:
            write_atomic(out, (json.dumps(report, indent=2) + "\n").encode("utf-8"))
        except OSError as exc:
            raise CliError(f"cannot write {out}: {exc.strerror or exc}") from None
        print(f"wrote {out}")
    return 0 if report["ok"] else 1 if report["counts"]["disagrees"] else NOT_CONVERGED_EXIT


def _bench(args: argparse.Namespace) -> int:
    from .devtools.bench import run_benchmarks

    if args.clicks < 2:
        raise CliError("--clicks must be at least 2")
    if args.json is not None:
        out = Path(args.json)
        if not out.absolute().parent.is_dir():
            raise CliError(f"the folder {out.absolute().parent} does not exist")
        if out.is_dir():
            raise CliError(f"--json must name a file; {out} is a folder")
    return run_benchmarks(args.clicks, quick=args.quick, json_out=args.json)


def _screenshots(args: argparse.Namespace) -> int:
    import time

    from .core.model.phases import PHASES

    started = time.perf_counter()
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CliError(f"--out must name a folder; {out} is a file")
    parent = out.absolute().parent
    if not parent.is_dir():
        raise CliError(f"cannot write into {parent}: " + ("it is a file, not a folder" if parent.exists()
                                                          else "no such folder"))
    if not os.access(parent, os.W_OK) or (out.is_dir() and not os.access(out, os.W_OK)):
        raise CliError(f"cannot write into {out if out.is_dir() else parent}: permission denied")
    unknown = [p for p in args.phases or () if p not in PHASES]
    if unknown:
        raise CliError(f"unknown phase(s) {', '.join(unknown)}; phases are: {', '.join(PHASES)}")
    from .ui.docs.screenshots import MAX_SIZE, MIN_SIZE, files_written, generate
    from .ui.docs.animate import animated_note

    match = re.fullmatch(r"(\d{1,5})[xX](\d{1,5})", args.size)
    if not match:
        raise CliError(f"--size must look like WIDTHxHEIGHT, e.g. 1600x1000; got {args.size!r}")
    size = int(match.group(1)), int(match.group(2))
    if not (MIN_SIZE[0] <= size[0] <= MAX_SIZE[0] and MIN_SIZE[1] <= size[1] <= MAX_SIZE[1]):
        raise CliError(f"--size {args.size}: the width must be {MIN_SIZE[0]}..{MAX_SIZE[0]} and the height "
                       f"{MIN_SIZE[1]}..{MAX_SIZE[1]}")
    try:
        result = generate(out, args.config, fmt=args.format, size=size, theme=args.theme, scale=args.scale,
                          phases=args.phases, animate=args.animate, frame_ms=args.frame_ms, stops=args.stops,
                          frames_only=args.frames_only, backward_config=args.backward_config)
    except ValueError as exc:  # arguments the window cannot honour (e.g. a size below its minimum)
        raise CliError(str(exc)) from None
    print(f"wrote {files_written(result, args.theme == 'both')} to {out} in {time.perf_counter() - started:.1f} s")
    if args.animate:
        print(animated_note(out))
    if result.too_narrow:
        lacking = ", ".join(f"{title} ({px} px)" for title, px in result.too_narrow.items())
        print(f"note: at {size[0]}x{size[1]} some panels are narrower than their plots and cut off on the right: "
              f"{lacking}; a wider --size shows them whole", file=sys.stderr)
    return 0


def _soak(args: argparse.Namespace) -> int:
    from .devtools.soak import soak

    if args.iterations < 1:
        raise CliError("--iterations must be at least 1")
    try:
        soak(args.iterations, args.text)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return 0


def _gui(args: argparse.Namespace) -> int:
    from .ui.app import no_display_reason, run

    if args.session is not None and args.config is not None:
        raise CliError("give --config or --session, not both")
    reason = no_display_reason()
    if reason:
        if args.config is not None:  # a mistake in the config is the one to fix first (here it is cheap to find)
            from .core.storage.config_load import load_config
            load_config(args.config)  # a ConfigError names the file: one error line, exit 2
        raise CliError(reason)
    return run(args.config, weights=args.weights, session=args.session)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (not usage text + exit)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gru-debugger", description="Step through one training "
                                     "iteration of a tiny recurrent language model (GRU, LSTM or plain RNN).")
    parser.add_argument("--config", help="JSON config (every key optional; defaults: the notebook's example)")
    parser.add_argument("--weights", metavar="FILE", help=WEIGHTS_HELP)
    parser.add_argument("--session", help="open a saved session (.grus) instead of a config")
    sub = parser.add_subparsers(dest="command")
    exp = sub.add_parser("export", help="run one iteration headlessly and write every array to a .npz")
    exp.add_argument("--config", help="JSON config file")
    exp.add_argument("--weights", metavar="FILE", help=WEIGHTS_HELP)
    exp.add_argument("--session", help="a saved session (.grus): export its current iteration")
    exp.add_argument("--out", required=True, help="the .npz file to write")
    exp.set_defaults(func=_export)
    check = sub.add_parser("gradcheck", help="compare every gradient with float64 finite differences, ε shrunk "
                                               "until they converge (exit 0 if all agree, 1 if some disagree, "
                                               "3 if none disagrees but some did not converge)")
    check.add_argument("--config", help="JSON config file")
    check.add_argument("--json", help="also write the report to this JSON file")
    check.add_argument("--samples", type=int, default=200,
                       help="check at most this many elements per parameter, drawn at random (default 200)")
    check.add_argument("--seed", type=int, default=0, help="seed for choosing the elements (default 0)")
    check.set_defaults(func=_gradcheck)
    bench = sub.add_parser("bench", help="measure how fast a click repaints the window (offscreen)")
    bench.add_argument("--clicks", type=int, default=60,
                       help="at least this many Step clicks per configuration, in whole iterations (default 60)")
    bench.add_argument("--quick", action="store_true",
                       help="the notebook's sizes only (no large sizes, tokenizer, start-up or screenshots)")
    bench.add_argument("--json", metavar="OUT.json", help="also write every figure to this JSON file")
    bench.set_defaults(func=_bench)
    shots = sub.add_parser("screenshots", help="walk one iteration offscreen and save an image of every step, "
                                                "with index.md (for the docs)")
    shots.add_argument("--out", required=True, help="folder to write (created; our files in it are replaced)")
    shots.add_argument("--config", help="JSON config file (a null seed becomes 0, so images are reproducible)")
    shots.add_argument("--format", choices=("png", "svg"), default="png", help="image format (default png)")
    shots.add_argument("--size", default="1600x1000", help="window size WIDTHxHEIGHT (default 1600x1000)")
    shots.add_argument("--theme", choices=("light", "dark", "both"), default="light",
                       help="colour theme (default light); both: NAME.png and NAME-dark.png, index.md picks by "
                            "the reader's theme")
    shots.add_argument("--scale", type=int, default=1, metavar="N",
                       help="device pixel ratio of the images: N times the pixels each way (1..4, default 1)")
    shots.add_argument("--phases", nargs="+", metavar="PHASE", help="only these phases (default: all, from the start)")
    shots.add_argument("--stops", nargs="+", metavar="STOP",
                       help="only these stops of the walk, e.g. gru-t03 backward-t04 (names as in the full walk, "
                            "with or without the number), and no panel images")
    shots.add_argument("--frames-only", action="store_true",
                       help="write the composed frames (NN-name-frame) only, no whole-window images")
    shots.add_argument("--backward-config", metavar="C.json",
                       help="a second config for the steps from backward on (backward, update, forward after, and "
                            "the panel images taken there), e.g. one whose gradients are not round-off; same cell "
                            "and context length")
    shots.add_argument("--animate", action="store_true", help="also write walkthrough.gif, the walk as one animation")
    shots.add_argument("--frame-ms", type=int, metavar="MS", help="--animate: milliseconds per frame (default 900; "
                       "the first and last frame stay three times as long)")
    shots.set_defaults(func=_screenshots)
    soak = sub.add_parser("soak", help="train many iterations at the large size and report memory")
    soak.add_argument("--iterations", type=int, default=500, help="iterations to run (default 500)")
    soak.add_argument("--text", nargs="+", metavar="FILE", help="text files to train on (default: license texts)")
    soak.set_defaults(func=_soak)
    parser.set_defaults(func=_gui)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .core.control.memory import limit_heap_fragmentation
    from . import startup_gc

    limit_heap_fragmentation()  # freed traces go back to the system (see core/control/memory.py)
    try:
        args = build_parser().parse_args(argv)  # (before torch loads: a usage error is quick)
    except CliError as exc:
        _error(str(exc))
        return USAGE_ERROR
    if args.func is _gui:
        startup_gc.pause()  # until the window has painted (see startup_gc.py)
    try:
        from .core.base.config import ConfigError
        from .core.control.controller import ControllerError
        try:
            return args.func(args)
        except (CliError, ConfigError, ControllerError) as exc:
            _error(str(exc))
            return USAGE_ERROR
        except OSError as exc:
            _error(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
            return USAGE_ERROR
    finally:
        startup_gc.resume()  # (if the window did not get to paint)


def _error(message: str) -> None:
    """One line on stderr, however the message came about."""
    print("error: " + " ".join(message.split()), file=sys.stderr)
