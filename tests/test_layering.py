"""The engine and controller never import Qt (scripts and CI use them bare)."""
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "gru_debugger" / "core"
PACKAGE_ROOT = CORE.parents[1]


def test_core_imports_no_qt():
    modules = [".".join(p.relative_to(PACKAGE_ROOT).with_suffix("").parts).removesuffix(".__init__")
               for p in CORE.rglob("*.py")]
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules) +
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph')]\n"
            "print(','.join(bad))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert len(modules) >= 40  # every module of every folder of core
    assert proc.stdout.strip() == ""


def test_views_read_numbers_only_through_the_snapshots_accessors():
    """No UI module reaches into a snapshot's trace: get(), final(), param(), … are the read path."""
    import pathlib
    import re

    ui = pathlib.Path(__file__).resolve().parents[1] / "gru_debugger" / "ui"
    offenders = [f"{p.relative_to(ui)}:{n}" for p in ui.rglob("*.py")
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"\.trace\b", line)]
    assert offenders == []


def test_pure_layout_and_page_modules_import_no_qt():
    import subprocess
    import sys

    code = ("import sys; import gru_debugger.ui.views.diagram_layout, gru_debugger.ui.views.timeline_layout, "
            "gru_debugger.ui.views.equation_pages, gru_debugger.ui.cells; "
            "print([m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'pyqtgraph'))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
