"""The game's sprites, sounds, pretrained pilots and oracle scores, shipped as package data.

Everything the game reads at run time is found through this package with
``importlib.resources``, so an installed wheel finds its files wherever it is
installed (never through a path relative to the source tree)::

    import assets
    assets.path("flyer.png")                    # a real file path
    assets.path("pilots/classic.safetensors")
    assets.files() / "jump.wav"                 # an importlib.resources Traversable

``make_assets.py`` (run by hand) generated the sprites and sounds; ``make_oracle.py``
writes ``oracle_scores.npz`` (the skill meter's sets, so no window computes
their oracle at start).
"""

from __future__ import annotations

import atexit
import contextlib
from importlib.resources import as_file
from importlib.resources import files as _files
from importlib.resources.abc import Traversable
from pathlib import Path

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def files() -> Traversable:
    """The assets package's resources (``importlib.resources.files("assets")``)."""
    return _files(__name__)


def path(name: str = "") -> Path:
    """A real file-system path of the asset ``name`` (``"/"``-separated; ``""``: the folder).

    Installed packages are plain folders, so this is the file itself; from a zipped
    install the file (or folder) is extracted once and kept until the process ends.
    """
    resource = files().joinpath(*[part for part in name.split("/") if part])
    if isinstance(resource, Path):
        return resource
    return _extracted.enter_context(as_file(resource))
