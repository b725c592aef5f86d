"""What the window benchmarks share: their own Xvfb, waiting on the game, its state file.

``bench/frame_time.py``, ``bench/soak.py`` and ``bench/watch_window.py`` run the real game
window on a virtual screen of their own (unless ``DISPLAY`` is set) and follow it through
the JSON state file it rewrites ten times a second (``GRAVITY_FLYER_STATE_FILE``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def free_display() -> int:
    """An X display number no server holds."""
    for n in range(90, 400):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise RuntimeError("no free X display number")


def wait(what: str, check: Callable[[], Any], timeout: float) -> Any:
    """Polls ``check`` until it returns something true (returned), else exits saying so."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise SystemExit(f"{Path(sys.argv[0]).stem}: timed out waiting for {what}")


def start_xvfb() -> tuple[subprocess.Popen | None, str]:
    """``(server, display)``: the ``DISPLAY`` set (no server started), or a new Xvfb's."""
    display = os.environ.get("DISPLAY")
    if display:
        return None, display
    n = free_display()
    server = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1280x800x24", "-nolisten",
                               "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait("Xvfb", lambda: Path(f"/tmp/.X11-unix/X{n}").exists(), 20)
    return server, f":{n}"


def stop_xvfb(server: subprocess.Popen | None) -> None:
    """Stops a server ``start_xvfb`` started (None: nothing to do)."""
    if server is not None:
        server.terminate()
        server.wait(timeout=10)


def read_state(path: Path) -> dict | None:
    """The game's latest state file, or None before the first (or mid-replace)."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
