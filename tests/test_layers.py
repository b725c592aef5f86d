"""The layers point one way: no import circles, ``ai`` knows no game, the simulation is headless.

The import graph is read from the source (``ast``), so every module counts, not only the
ones a test run happens to import.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("game", "ai")
MAY_IMPORT = {
    "game": ("game.sim",),
    "game.errors": (),
    "game.sim": ("game.sim", "game.errors"),
    "game.play": ("game.sim", "game.play", "game.errors", "ai.mlp", "ai.protocol",
                  "ai.process.child"),
    "game.wiring": ("game.sim", "game.play", "game.wiring", "game.errors", "ai"),
    "game.ui": ("game.sim", "game.play", "game.wiring", "game.ui", "game.errors", "ai"),
    "game.commands": ("game", "ai"),
    "ai": ("ai",),
}
"""What each layer may import, by dotted prefix; each folder's ``__init__`` says the same."""
MAX_MODULES = 16
"""Most modules directly in one folder (``__init__`` not counted)."""


def modules() -> dict[str, Path]:
    """Every module of the two packages by dotted name."""
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _layer(name: str) -> str:
    """The key of ``MAY_IMPORT`` that ``name`` belongs to (the longest matching prefix)."""
    return max((k for k in MAY_IMPORT if name == k or name.startswith(k + ".")), key=len)


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(path: Path, known: set[str], top_level_only: bool) -> set[str]:
    """The project modules ``path`` imports (``from a import b`` counts ``a.b`` if a module).

    Imports under ``if TYPE_CHECKING`` never run and never count. With ``top_level_only``
    only imports that run when the module is imported count, not those inside functions.
    """
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child) or (top_level_only and isinstance(
                    child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))):
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                for a in child.names:
                    sub = f"{child.module}.{a.name}"
                    found.add(sub if sub in known else child.module)
            visit(child)

    visit(tree)
    return {m for m in found if m in known or m.split(".")[0] in PACKAGES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles of ``graph`` (one path per circle found by depth-first search)."""
    found, state = [], {}

    def walk(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                walk(nxt, [*stack, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            walk(node, [node])
    return found


def graph(top_level_only: bool) -> dict[str, set[str]]:
    """Each module's project imports."""
    mods = modules()
    return {name: imports(path, set(mods), top_level_only) for name, path in mods.items()}


def test_no_import_circle_counting_imports_inside_functions() -> None:
    assert cycles(graph(top_level_only=False)) == []


def test_each_layer_imports_only_what_its_init_allows() -> None:
    wrong = [f"{name} -> {dep}" for name, deps in graph(top_level_only=False).items()
             for dep in sorted(deps) if not _under(dep, MAY_IMPORT[_layer(name)])]
    assert wrong == []


def test_the_rule_check_sees_a_function_level_import_upwards() -> None:
    assert not _under("game.wiring.learning", MAY_IMPORT[_layer("game.sim.evaluation")])
    assert _under("game.sim.levels", MAY_IMPORT[_layer("game.play.flock")])


def test_every_folder_says_what_it_may_import_and_stays_small() -> None:
    for package in PACKAGES:
        for init in sorted((ROOT / package).rglob("__init__.py")):
            doc = ast.get_docstring(ast.parse(init.read_text())) or ""
            assert "Rules:" in doc or init.parent.name in PACKAGES, init
            n = len([p for p in init.parent.glob("*.py") if p.name != "__init__.py"])
            assert n <= MAX_MODULES, f"{init.parent}: {n} modules"


def test_the_cycle_finder_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_ai_imports_no_game_module_anywhere() -> None:
    mods = modules()
    for name, path in mods.items():
        if name.split(".")[0] == "ai":
            game = {m for m in imports(path, set(mods), top_level_only=False)
                    if m.split(".")[0] == "game"}
            assert not game, f"{name} imports {sorted(game)}"
            assert "pyglet" not in path.read_text(), name


BLOCKER = textwrap.dedent("""
    import importlib.abc, sys

    class Blocked(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {"pyglet", "torch", "ai"}:
                raise ImportError(f"blocked: {name}")
            return None

    sys.meta_path.insert(0, Blocked())
    for name in sys.argv[1:]:
        __import__(name)
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"pyglet", "torch", "ai"})
    assert not loaded, loaded
    print("ok")
""")


def test_simulation_imports_with_pyglet_torch_and_ai_blocked() -> None:
    sim = [name for name in modules() if _layer(name) == "game.sim"]
    r = subprocess.run([sys.executable, "-c", BLOCKER, *sim], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_the_game_loop_imports_with_pyglet_and_torch_blocked() -> None:
    play = [name for name in modules() if _layer(name) == "game.play"]
    code = BLOCKER.replace('{"pyglet", "torch", "ai"}', '{"pyglet", "torch"}')
    r = subprocess.run([sys.executable, "-c", code, *play], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_the_blocker_blocks() -> None:
    r = subprocess.run([sys.executable, "-c", BLOCKER, "game.wiring.learning"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "blocked: ai" in r.stderr


def test_importing_ai_errors_does_not_load_torch() -> None:
    code = "import sys, ai.errors, ai.config; assert 'torch' not in sys.modules; print('ok')"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.stdout.strip() == "ok", r.stderr


def test_the_readme_layout_table_names_every_module() -> None:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Layout"):]
    rows = {line.split("|")[1].strip().strip("`"): line.split("|")[2]
            for line in section.splitlines() if line.startswith("| `")}
    missing = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "__init__.py":
                continue
            folder = path.parent.relative_to(ROOT).as_posix() + "/"
            if f"`{path.stem}`" not in rows.get(folder, ""):
                missing.append(path.relative_to(ROOT).as_posix())
    assert missing == []


MAX_CLASS_LINES = 250
MAX_FUNCTION_LINES = 60
"""The size limits of a class and of a function (docstrings and comments count)."""


def test_no_class_or_function_is_over_the_size_limits() -> None:
    """A unit over the limits holds several jobs (issue 21): each class is at most 250 lines
    and each function or method at most 60, in ``game`` and ``ai``."""
    over = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                limit = MAX_CLASS_LINES
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                limit = MAX_FUNCTION_LINES
            else:
                continue
            lines = node.end_lineno - node.lineno + 1
            if lines > limit:
                over.append(f"{name}.{node.name}: {lines} lines (limit {limit})")
    assert not over, "\n".join(over)
