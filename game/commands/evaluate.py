"""``main.py evaluate``: fly a pilot file greedily on the held-out set and report its score.

Rules: a command; the flying is ``game.sim.evaluation``, the loading ``game.wiring.learning``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from game.sim.evaluation import EVAL_CHUNK, EVAL_SEED, evaluate_in_chunks
from game.sim.levels import Level


@dataclass(frozen=True)
class EvalConfig:
    """``main.py evaluate``: fly a pilot file greedily and report its score."""

    path: Path
    """The pilot file, ``.safetensors`` or ``.onnx`` (``game.wiring.learning.pretrained_path``
    for a shipped one)."""
    level: Level | None = None
    """The level to fly; None: the one the pilot names."""
    episodes: int = 1000
    """Runs to fly."""
    seed: int = EVAL_SEED
    """Seed of the flights or courses (the default is the held-out test set)."""


@dataclass
class EvalReport:
    """What ``evaluate`` found: the pilot, its level and the figures."""

    path: Path
    level: Level
    layers: list[int]
    card: dict[str, Any]
    result: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    """One-line notes about what was loaded (for stderr; not part of the report)."""
    kind: str = ""
    """What the pilot is, when not an MLP of ``layers`` (an ONNX graph)."""

    def json(self) -> str:
        """One JSON line: the figures and the model card."""
        return json.dumps({**self.result, "card": self.card})

    def text(self) -> str:
        """The model card, then the score, for a person."""
        what = self.kind or f"layers {self.layers}"
        return (f"{self.path}: {self.level.name} pilot, {what}\nmodel card:\n"
                f"{format_card(self.card)}\n{self.level.report(self.result)}")


def evaluate(cfg: EvalConfig) -> EvalReport:
    """Loads the pilot (``PilotError`` if it does not fit) and flies it greedily."""
    from game.wiring.learning import load_pilot  # imports torch: only when a pilot is flown

    pilot, level = load_pilot(cfg.path, cfg.level)
    result = run_in_chunks(level, cfg.episodes, cfg.seed, pilot.act_batch)
    notes = list(getattr(pilot, "notes", []))  # an ONNX policy's: what was assumed, what runs it
    kind = ""
    if hasattr(pilot, "engine"):
        kind = (f"ONNX, layers {list(pilot.sizes)}" if pilot.layers is not None
                else f"ONNX graph of {pilot.nodes} nodes")
    return EvalReport(cfg.path, level, list(pilot.sizes), pilot.card, result, notes, kind)


def run_in_chunks(level: Level, episodes: int, seed: int, policy: Any) -> dict[str, Any]:
    """The evaluation's figures, flown ``EVAL_CHUNK`` runs at a time (memory stays flat),
    with a progress bar on stderr when there is more than one chunk."""
    if episodes <= EVAL_CHUNK:
        return evaluate_in_chunks(level, episodes, seed, policy)
    from tqdm import tqdm

    with tqdm(total=episodes, unit="run", desc=f"evaluate {level.name}", file=sys.stderr,
              dynamic_ncols=True) as bar:
        return evaluate_in_chunks(level, episodes, seed, policy, bar.update)


def format_card(card: dict[str, Any]) -> str:
    """The model card as indented ``key: value`` lines (empty card: a one-line note)."""
    if not card:
        return "  (no model card)"
    return "\n".join(f"  {key}: {value if isinstance(value, str) else json.dumps(value)}"
                     for key, value in card.items())
