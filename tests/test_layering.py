"""The engine and controller never import Qt (scripts and CI use them bare)."""
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "gru_debugger" / "core"


def test_core_imports_no_qt():
    modules = [f"gru_debugger.core.{p.stem}" for p in CORE.glob("*.py") if p.stem != "__init__"]
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules) +
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph')]\n"
            "print(','.join(bad))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert len(modules) >= 8
    assert proc.stdout.strip() == ""
