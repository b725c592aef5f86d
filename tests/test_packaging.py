"""The built wheel works from anywhere: installed into a fresh venv, run outside the checkout.

Builds the wheel from a copy of the project's files (so the checkout gets no build
output), installs it into a new venv, and from an empty folder runs ``gravity-flyer
--version``, ``evaluate pretrained`` for both levels, and the window under Xvfb until
Esc. The venv finds the dependencies (torch...) in this interpreter's site-packages
through a ``.pth`` file, so nothing is downloaded again; a ``.pth`` line adds a folder
without running that folder's own ``.pth`` files, so this checkout's editable install
(if any) is not seen, and the wheel's own files come first on ``sys.path``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import test_window
import xinput
from test_window import wait_for

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("pyproject.toml", "README.md", "main.py", "game", "ai", "assets")
"""What a source distribution holds: everything the wheel is built from."""
ASSET_FILES = ("background.png", "flyer.png", "gate.png", "gate_cap.png", "crash.wav",
               "jump.wav", "score.wav", "pilots/classic.safetensors",
               "pilots/arcade.safetensors", "pilots/classic.csv", "pilots/arcade.csv",
               "oracle_scores.npz")
pytestmark = pytest.mark.slow
display = test_window.display


def run(*args: str | Path, cwd: Path, env: dict | None = None, timeout: float = 300
        ) -> subprocess.CompletedProcess:
    out = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=timeout)
    assert out.returncode == 0, f"{args}: {out.stdout[-2000:]}{out.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Iterator[tuple[Path, Path, Path]]:
    """(the venv's bin folder, an empty folder outside the checkout, the wheel)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in SHIPPED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, src / name)
    run(sys.executable, "-m", "pip", "wheel", ".", "-w", tmp / "dist", "--no-deps",
        "--no-build-isolation", "-q", cwd=src)
    wheels = list((tmp / "dist").glob("gravity_flyer-*.whl"))
    assert len(wheels) == 1, wheels
    run(sys.executable, "-m", "venv", tmp / "venv", cwd=tmp)
    bin_dir = tmp / "venv" / ("Scripts" if os.name == "nt" else "bin")
    purelib = run(bin_dir / "python", "-c", "import sysconfig; "
                  "print(sysconfig.get_paths()['purelib'])", cwd=tmp).stdout.strip()
    deps = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages")
            and Path(p).is_dir()]
    (Path(purelib) / "_test_dependencies.pth").write_text("".join(f"{p}\n" for p in deps))
    run(bin_dir / "python", "-m", "pip", "install", "-q", "--no-index", "--no-deps",
        wheels[0], cwd=tmp)
    work = tmp / "elsewhere"
    work.mkdir()
    yield bin_dir, work, wheels[0]


def test_the_wheel_holds_every_subpackage_and_asset(installed):
    _, _, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("game", "game/ui", "ai", "assets"):
        assert f"{package}/__init__.py" in names, package
    for name in ASSET_FILES:
        assert f"assets/{name}" in names, name
    assert not [n for n in names if n.startswith(("tests/", "bench/"))]


def test_the_installed_game_runs_from_another_folder(installed):
    bin_dir, work, _ = installed
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DISPLAY")}
    where = run(bin_dir / "python", "-c", "import game, ai, assets; "
                "print(game.__file__); print(ai.__file__); print(assets.path())",
                cwd=work, env=env).stdout.split()
    venv = bin_dir.parent.resolve()
    assert all(Path(p).resolve().is_relative_to(venv) for p in where), where  # not the checkout
    assert run(bin_dir / "gravity-flyer", "--version", cwd=work, env=env).stdout.strip() \
        == "gravity-flyer 0.1.0"
    for level, episodes in (("classic", "200"), ("arcade", "20")):
        out = run(bin_dir / "gravity-flyer", "evaluate", "pretrained", "--level", level,
                  "--episodes", episodes, "--json", cwd=work, env=env)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        assert result["level"] == level, result
        assert "Traceback" not in out.stderr


@pytest.mark.window
def test_the_installed_window_opens_with_its_sprites_and_quits_on_esc(installed, display):
    bin_dir, work, _ = installed
    state_file = work / "state.json"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(DISPLAY=display, GRAVITY_FLYER_STATE_FILE=str(state_file))
    game = subprocess.Popen([str(bin_dir / "gravity-flyer"), "--level", "arcade",
                             "--data-dir", str(work / "data")], cwd=work, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def drawn():
            assert game.poll() is None, game.stderr.read()
            try:
                return json.loads(state_file.read_text())["frames"] > 10
            except (FileNotFoundError, json.JSONDecodeError):
                return False

        wait_for("the installed game's frames", drawn, timeout=120)
        wid = wait_for("its window", lambda: xinput.find_window(display, "Gravity Flyer"))
        xinput.focus(display, wid)
        pixels = xinput.screenshot(display, wid)
        # The sprites are drawn: the flyer's and the gates' colours, not a blank field.
        colours = np.unique(pixels.reshape(-1, 3)[::7], axis=0)
        assert len(colours) > 50, len(colours)
        xinput.key(display, "Escape")
        code = game.wait(timeout=60)
        err = game.stderr.read()
    finally:
        if game.poll() is None:
            game.kill()
            game.wait(timeout=30)
    assert code == 0, err
    assert "Traceback" not in err, err
