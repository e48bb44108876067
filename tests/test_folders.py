"""core/ is grouped in folders; the scripting API's documented import paths still work."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "gru_debugger" / "core"


def test_documented_paths_are_the_real_objects():
    from gru_debugger.core.base import config as real_config
    from gru_debugger.core.config import Config, ConfigError, read_config, validate
    from gru_debugger.core.control import controller as real_controller
    from gru_debugger.core.controller import Controller, ControllerError

    assert Config is real_config.Config and validate is real_config.validate
    assert read_config is real_config.read_config and ConfigError is real_config.ConfigError
    assert Controller is real_controller.Controller and ControllerError is real_controller.ControllerError
    from gru_debugger.core.config import load_config   # scripts imported it from here before it moved
    from gru_debugger.core.storage.config_load import load_config as real_load_config
    assert load_config is real_load_config


def test_the_documented_config_path_loads_no_engine():
    """The re-export adds nothing below config: reading a config through it tokenizes nothing."""
    code = ("import sys\nfrom gru_debugger.core.config import Config, validate\nvalidate(Config())\n"
            "print([m for m in sys.modules if m.startswith(('gru_debugger.core.model.engine', "
            "'gru_debugger.core.text', 'gru_debugger.core.control'))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_core_top_level_holds_only_the_documented_paths_and_each_folder_says_what_it_holds():
    assert sorted(p.name for p in CORE.glob("*.py")) == ["__init__.py", "config.py", "controller.py"]
    folders = [p for p in CORE.iterdir() if p.is_dir() and p.name != "__pycache__"]
    assert {p.name for p in folders} == {"base", "text", "model", "analysis", "storage", "control"}
    for folder in folders + [ROOT / "gru_debugger" / "devtools"]:
        text = (folder / "__init__.py").read_text(encoding="utf-8")
        assert text.startswith('"""') and len(text) > 120, folder


def test_developer_tools_are_out_of_the_packages_top_level():
    top = {p.stem for p in (ROOT / "gru_debugger").glob("*.py")}
    assert not top & {"bench", "bench_bpe", "soak"}
    assert {p.stem for p in (ROOT / "gru_debugger" / "devtools").glob("*.py")} >= {"bench", "bench_bpe", "soak"}


def test_each_folder_of_core_imports_only_the_folders_listed_before_it():
    """The order the README's Layout and core/__init__ give: base (with the cells' registry it
    reads), text, model, analysis, storage, control."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_import_graph import import_graph, module_files, package_graph

    graph = package_graph(import_graph(), module_files())
    order = [f"gru_debugger.core.{name}" for name in
             ("model.cells", "base", "text", "model", "analysis", "storage", "control")]
    for i, folder in enumerate(order):
        upward = {t for t in graph.get(folder, ()) if t.startswith("gru_debugger.core") and t not in order[:i]}
        assert upward == set(), f"{folder} imports {sorted(upward)}"
