"""The one agent loop (``game.sim.rollout``): what reaches the learner, single and batched."""

from __future__ import annotations

import numpy as np

from game.sim.actions import FALL, JUMP
from game.sim.levels import ARCADE, CLASSIC
from game.sim.rollout import BatchRollout, Rollout, fly_once, step_agent


class Recorder:
    """An agent that always plays ``action`` and keeps every call it gets."""

    def __init__(self, action: int = FALL) -> None:
        self.action = action
        self.acts: list[bool] = []
        self.seen: list[tuple] = []
        self.scores: list[float] = []

    def act(self, obs: np.ndarray, explore: bool = True) -> int:
        self.acts.append(explore)
        return self.action

    def observe(self, obs, action, reward, next_obs, terminated, truncated=False, human=False):
        self.seen.append((obs.copy(), action, reward, next_obs.copy(), bool(terminated),
                          bool(truncated), human))

    def end_episode(self, score: float) -> None:
        self.scores.append(score)


class ScriptedBatch:
    """A batch of two flyers whose steps are scripted (rewards, terminated, final scores)."""

    def __init__(self, script: list[tuple[list[float], list[bool], list[int]]]) -> None:
        self.script = list(script)
        self.t = 0
        self.final_obs = np.zeros((2, 1), np.float32)
        self.final_score = np.zeros(2, np.int64)

    def observation(self) -> np.ndarray:
        return np.full((2, 1), self.t, np.float32)

    def step(self, actions: np.ndarray):
        rewards, terminated, final_score = self.script.pop(0)
        self.final_obs[:] = self.t + 0.5  # the real last observation of an ended run
        self.final_score[:] = final_score
        self.t += 1
        return self.observation(), np.array(rewards), np.array(terminated)


def test_step_agent_feeds_one_transition_and_ends_the_run_without_resetting() -> None:
    world = CLASSIC.world(3)
    agent = Recorder(FALL)
    obs = world.observation()
    steps = []
    while not steps or not steps[-1].terminated:  # falling crashes within 40 ticks
        steps.append(step_agent(CLASSIC, world, agent, obs, explore=False))
        obs = steps[-1].next_obs
    assert agent.acts == [False] * len(steps) and len(agent.seen) == len(steps)
    last = agent.seen[-1]
    assert last[2] == -1.0 and last[4] is True and last[5] is False
    assert steps[-1].score == 0.0 and agent.scores == [0.0]  # a crash scores 0
    np.testing.assert_array_equal(last[3], world.observation())  # not reset: the last one
    assert world.done


def test_a_given_action_is_taken_and_marked_human() -> None:
    world = CLASSIC.world(4)
    agent = Recorder(FALL)
    s = step_agent(CLASSIC, world, agent, world.observation(), JUMP, human=True)
    assert s.action == JUMP and agent.acts == [] and agent.seen[0][1] == JUMP
    assert agent.seen[0][6] is True
    nobody = step_agent(CLASSIC, world, None, s.next_obs, FALL)  # nobody learns: no agent
    assert nobody.action == FALL and len(agent.seen) == 1


def test_rollout_restarts_and_counts_runs_like_a_hand_written_loop() -> None:
    agent, ref_agent = Recorder(FALL), Recorder(FALL)
    rollout = Rollout(CLASSIC, CLASSIC.world(5), agent)
    rollout.run(100)
    world = CLASSIC.world(5)  # the loop as the benches wrote it before
    obs = world.observation()
    for _ in range(100):
        action = ref_agent.act(obs)
        reward, terminated = world.step(action)
        next_obs = world.observation()
        ref_agent.observe(obs, action, reward, next_obs, terminated, False)
        if terminated:
            ref_agent.end_episode(1.0 if reward > 0 else 0.0)
            obs = world.reset()
        else:
            obs = next_obs
    assert rollout.episodes == len(ref_agent.scores) > 1 and agent.scores == ref_agent.scores
    for a, b in zip(agent.seen, ref_agent.seen, strict=True):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[3], b[3])
        assert a[1:3] + a[4:6] == b[1:3] + b[4:6]


def test_batch_rollout_keeps_flyer_order_limits_and_tells_a_cut_off_from_a_crash() -> None:
    batch = ScriptedBatch([([0.0, 0.0], [False, False], [0, 0]),
                           ([1.0, -1.0], [True, True], [7, 3]),  # course end; crash
                           ([0.0, 0.0], [False, False], [0, 0])])
    agent = Recorder(JUMP)
    rollout = BatchRollout(ARCADE, batch, agent)
    assert rollout.step() == 2 and rollout.step() == 2
    (_, _, _, _, t0, c0, _), (_, _, _, _, t1, c1, _) = agent.seen[2:]
    assert (t0, c0) == (False, True)  # passing the finite course's last gate: a cut-off
    assert (t1, c1) == (True, False)  # a crash ends the run
    assert agent.seen[2][3][0] == 1.5  # the ended run's real last observation, not the reset
    assert agent.scores == [7.0, 3.0]
    assert rollout.step(limit=1) == 1 and len(agent.seen) == 5 and rollout.transitions == 5


def test_classic_never_cuts_off_and_scores_a_success() -> None:
    batch = ScriptedBatch([([1.0, -1.0], [True, True], [0, 0])])
    agent = Recorder()
    BatchRollout(CLASSIC, batch, agent).step()
    assert [s[4:6] for s in agent.seen] == [(True, False), (True, False)]
    assert agent.scores == [1.0, 0.0]


class GateBatch:
    """Two arcade-like runs: one passes more gates than are counted, one crashes at 4."""

    def __init__(self) -> None:
        self.score = np.zeros(2, np.int64)
        self.steps = 0

    def observation(self) -> np.ndarray:
        return np.zeros((2, 1), np.float32)

    def step(self, actions: np.ndarray):
        self.steps += 1
        self.score += (1, 1 if self.steps <= 4 else 0)
        crashed = np.array([False, self.steps == 5])
        return self.observation(), np.where(crashed, -1.0, 1.0), crashed


def test_fly_once_scores_each_run_once_and_caps_at_the_counted_gates() -> None:
    always_fall = lambda obs: np.zeros(len(obs), dtype=np.int64)  # noqa: E731
    scores = fly_once(CLASSIC, CLASSIC.eval_batch(50, 1), always_fall)
    assert scores.shape == (50,) and set(scores) == {0.0}  # falling never succeeds
    batch = GateBatch()
    scores = fly_once(ARCADE, batch, always_fall)
    assert scores.tolist() == [ARCADE.eval_gates, 4.0]
    assert batch.steps == ARCADE.eval_gates  # stops once every run is over
