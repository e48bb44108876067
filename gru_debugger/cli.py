"""Command line: ``gru-debugger`` / ``python main.py [export|screenshots|bench]``.

Errors a user can fix print one line on stderr and exit with code 2.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

USAGE_ERROR = 2


class CliError(Exception):
    """A problem with the user's arguments or files: one line, exit code 2."""


def _export(args: argparse.Namespace) -> int:
    from .core.config import load_config
    from .core.controller import Controller
    from .core.export import trace_arrays, write_npz

    out = Path(args.out)
    if out.suffix != ".npz":
        raise CliError(f"--out must name a .npz file, got {args.out}")
    if not out.parent.is_dir():
        raise CliError(f"the folder {out.parent} does not exist")
    controller = Controller(load_config(args.config))
    write_npz(out, trace_arrays(controller.snapshot().trace))
    print(f"wrote {out} (loss {float(controller.snapshot().trace['loss']):.4f} -> "
          f"{float(controller.snapshot().trace['loss_after']):.4f})")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from .bench import run_benchmarks

    if args.clicks < 2:
        raise CliError("--clicks must be at least 2")
    return run_benchmarks(args.clicks, quick=args.quick)


def _gui(args: argparse.Namespace) -> int:
    from .ui.app import run

    return run(args.config)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (not usage text + exit)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gru-debugger", description="Step through one training "
                                     "iteration of a tiny GRU language model.")
    parser.add_argument("--config", help="JSON config (every key optional; defaults: the notebook's example)")
    sub = parser.add_subparsers(dest="command")
    exp = sub.add_parser("export", help="run one iteration headlessly and write every array to a .npz")
    exp.add_argument("--config", help="JSON config file")
    exp.add_argument("--out", required=True, help="the .npz file to write")
    exp.set_defaults(func=_export)
    bench = sub.add_parser("bench", help="measure how fast a click repaints the window (offscreen)")
    bench.add_argument("--clicks", type=int, default=40, help="clicks to time per configuration")
    bench.add_argument("--quick", action="store_true", help="the notebook's sizes only")
    bench.set_defaults(func=_bench)
    parser.set_defaults(func=_gui)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .core.config import ConfigError
    from .core.controller import ControllerError

    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except (CliError, ConfigError, ControllerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return USAGE_ERROR
