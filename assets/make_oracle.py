"""Writes ``oracle_scores.npz``: the exact oracle's scores of the skill meter's arcade sets.

Every skill reading scores a pilot against the oracle on 100 held-out courses, and a crowning
reading also on 100 validation courses; computing those two oracles took 1.8 s each on the
2-core machine, so a window's or a film's first reading waited for them. They are shipped
instead (``game.sim.oracle.shipped_scores``; any other set is still computed), and
``tests/test_oracle.py`` checks every entry against the oracle. Run by hand after a change
to the arcade physics or courses::

    python assets/make_oracle.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from game.play.skill import SKILL_EPISODES as EPISODES  # noqa: E402
from game.sim import oracle  # noqa: E402
from game.sim.evaluation import EVAL_SEED, VALIDATION_SEED  # noqa: E402
from game.sim.levels import ARCADE  # noqa: E402


def main() -> None:
    out = Path(__file__).resolve().parent / oracle.SHIPPED_FILE
    lv = ARCADE
    np.savez_compressed(out, **{
        oracle.shipped_key(lv.name, lv.physics_version, lv.eval_gates, EPISODES, seed):
            lv.oracle(EPISODES, seed, shipped=False) for seed in (EVAL_SEED, VALIDATION_SEED)})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
