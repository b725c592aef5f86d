"""ONNX in and out: our pilots as ONNX, foreign graphs flown and evaluated, hostile files.

ONNX out is checked against our own numpy forward on 10,000 observations from real flights
of each level, through onnxruntime and through the numpy interpreter. ONNX in is checked
with small graphs made here (by hand and by torch's exporter), whose evaluation must equal
an independent evaluation of the same rule written in numpy. Every hostile file gets one
line from the real command line (exit code 2), never a traceback.
"""

from __future__ import annotations

import json
import sys

import gymnasium as gym
import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from test_window import Game, display  # noqa: F401  (display: the Xvfb fixture)

import game  # noqa: F401  (registers the envs)
from ai.errors import PilotError
from ai.onnx_io import MAX_ONNX_BYTES, OnnxPolicy, mlp_to_onnx
from game.commands.cli import main
from game.sim.evaluation import EVAL_SEED, Evaluation
from game.sim.levels import ARCADE, CLASSIC, LEVELS
from game.wiring.learning import load_pilot, pretrained_path
from game.wiring.onnx_pilots import (
    as_autopilot,
    level_metadata,
    load_onnx,
    pilot_to_onnx,
    save_torch_onnx,
)

TIE = 2e-5
"""Q-values computed by onnxruntime and by numpy agree within this (float32 rounding)."""
ENV_IDS = {"classic": "flyer/Classic-v0", "arcade": "flyer/Arcade-v0"}


def flight_observations(level_name: str, pilot, n: int = 10_000) -> np.ndarray:
    """``n`` observations of real flights: the pilot flying with a tenth random actions."""
    envs = gym.make_vec(ENV_IDS[level_name], num_envs=100)
    rng = np.random.default_rng(7)
    obs, _ = envs.reset(seed=3)
    seen = []
    while sum(len(o) for o in seen) < n:
        seen.append(obs.copy())
        actions = pilot.act_batch(obs)
        wild = rng.random(len(obs)) < 0.1
        actions[wild] = rng.integers(0, 2, wild.sum())
        obs, *_ = envs.step(actions)
    envs.close()
    return np.concatenate(seen)[:n].astype(np.float32)


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    """``python main.py ARGV`` in this process: exit code, stdout, stderr."""
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(capsys, *argv: str) -> str:
    code, out, err = cli(capsys, *argv)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, (code, err)
    assert lines[0].startswith("gravity-flyer: error: ")
    return lines[0]


def graph_bytes(nodes, inputs, outputs, inits=(), meta=None, opset=17) -> bytes:
    model = helper.make_model(helper.make_graph(nodes, "g", inputs, outputs, list(inits)),
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    helper.set_model_props(model, meta or {})
    return model.SerializeToString()


def float_input(size, name="obs", batch="batch"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [batch, size])


def linear_policy(weights: np.ndarray, bias: np.ndarray, meta=None) -> bytes:
    """``q = obs @ weights + bias``: MatMul then Add, as many exporters write a Linear."""
    return graph_bytes(
        [helper.make_node("MatMul", ["obs", "W"], ["h"]),
         helper.make_node("Add", ["h", "b"], ["q"])],
        [float_input(weights.shape[0])], [helper.make_tensor_value_info(
            "q", TensorProto.FLOAT, ["batch", weights.shape[1]])],
        [numpy_helper.from_array(weights.astype(np.float32), "W"),
         numpy_helper.from_array(bias.astype(np.float32), "b")], meta)


# ---- ONNX out -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["classic", "arcade"])
def test_our_pilots_as_onnx_act_as_ours_on_10000_observations(name: str) -> None:
    pilot, level = load_pilot(pretrained_path(name), LEVELS[name])
    data = pilot_to_onnx(pilot, level)
    obs = flight_observations(name, pilot)
    ours = pilot.act_batch(obs)
    assert 0 < ours.mean() < 1  # both actions occur: equal actions are not a constant
    ort = OnnxPolicy.from_bytes(data, obs_size=level.obs_size, engine="onnxruntime")
    assert ort.engine.startswith("onnxruntime")
    q = pilot.q_values(obs)
    np.testing.assert_allclose(ort.q_values(obs), q, rtol=0, atol=TIE)
    # onnxruntime sums in another order than numpy: its Q-values differ from ours in the last
    # float32 bits. A pilot flies along its decision boundary, so a few observations are
    # near-ties (Q-values within TIE of each other) whose argmax that rounding may flip.
    # Every other action must be equal, and near-ties must be rare.
    clear = np.abs(q[:, 1] - q[:, 0]) > TIE
    assert clear.sum() >= len(obs) - 10
    np.testing.assert_array_equal(ort.act_batch(obs)[clear], ours[clear])
    numpy_run = OnnxPolicy.from_bytes(data, obs_size=level.obs_size, engine="numpy")
    np.testing.assert_array_equal(numpy_run.q_values(obs), pilot.q_values(obs))  # same ops
    # The graph is our MLP: its layers (and card) come back exactly.
    back = as_autopilot(ort, level)
    assert back is not None and back.sizes == pilot.sizes
    for a, b in zip(back.layers, pilot.layers, strict=True):
        np.testing.assert_array_equal(a, b)
    assert back.card == pilot.card and back.card["level"] == name


def test_train_writes_onnx_with_its_card_and_logs_tensorboard(tmp_path, capsys) -> None:
    out, board = tmp_path / "p.onnx", tmp_path / "tb"
    code, stdout, err = cli(capsys, "train", "--level", "classic", "--steps", "600",
                            "--out", str(out), "--no-progress", "--tensorboard", str(board))
    assert code == 0, err
    model = onnx.load(out)
    meta = {p.key: p.value for p in model.metadata_props}
    assert {k: meta[k] for k in level_metadata(CLASSIC)} == level_metadata(CLASSIC)
    card = json.loads(meta["card.evaluation"])
    # The card's figure is the pilot's: flying the ONNX file on the same runs gives it.
    policy, _ = load_onnx(out)
    again = Evaluation.prepare(CLASSIC, card["episodes"], card["seed"]).run(policy.act_batch)
    assert again["success_rate"] == card["success_rate"]
    assert (tmp_path / "p.csv").is_file() and (tmp_path / "p.png").is_file()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(board))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "train/recent_mean_score", "eval/success_rate"} <= tags
    curve = [e.value for e in events.Scalars("eval/success_rate")]
    rows = (tmp_path / "p.csv").read_text().splitlines()[1:]
    assert curve == pytest.approx([float(r.split(",")[-1]) for r in rows], abs=1e-4)


def test_export_pilot_writes_the_saved_learner_as_onnx(tmp_path, capsys) -> None:
    from conftest import fly

    from game.wiring.learning import learner_store, new_learner

    learner = new_learner(CLASSIC, seed=3)
    fly(learner, 400)
    assert learner_store(CLASSIC, tmp_path / "data").save(learner.state()).ok
    (tmp_path / "data" / "learner" / "classic.lock").unlink()  # left by the save here
    out = tmp_path / "mine.onnx"
    code, stdout, err = cli(capsys, "export-pilot", "--level", "classic", "--data-dir",
                            str(tmp_path / "data"), "--out", str(out), "--format", "onnx",
                            "--episodes", "200")
    assert code == 0, err
    policy, level = load_onnx(out)
    obs = np.random.default_rng(0).normal(size=(2000, 2)).astype(np.float32)
    np.testing.assert_array_equal(policy.act_batch(obs), learner.autopilot().act_batch(obs))
    assert policy.card["evaluated_on"] == f"200 held-out runs (seed {EVAL_SEED})"
    wrong = one_line_error(capsys, "export-pilot", "--level", "classic", "--data-dir",
                           str(tmp_path / "data"), "--out", str(tmp_path / "x.safetensors"),
                           "--format", "onnx")
    assert "--format onnx" in wrong and not (tmp_path / "x.safetensors").exists()


# ---- ONNX in ------------------------------------------------------------------------------

def test_a_hand_made_arcade_graph_flies_and_evaluates_as_its_rule(tmp_path, capsys) -> None:
    """No metadata: the level is taken from its input size, and the note says so."""
    w = np.zeros((8, 2))
    w[3, 1] = 1.0  # JUMP's value: how far the next gap's centre is above the flyer
    path = tmp_path / "rule.onnx"
    path.write_bytes(linear_policy(w, np.array([0.0, -0.05])))
    code, out, err = cli(capsys, "evaluate", str(path), "--episodes", "60", "--json")
    assert code == 0, err
    result = json.loads(out)
    rule = Evaluation.prepare(ARCADE, 60, EVAL_SEED).run(
        lambda obs: (obs[:, 3] - 0.05 > 0).astype(np.int64))
    assert {k: result[k] for k in rule} == rule
    assert result["mean_score"] > 0  # the rule passes gates: the comparison is not 0 == 0
    assert "carries no level, physics version, obs size, observation metadata: assumed " \
           "level arcade" in err and "runs on onnxruntime" in err


def test_a_torch_exported_classic_policy_flies_with_metadata_checked(tmp_path, capsys) -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    path = tmp_path / "net.onnx"
    save_torch_onnx(net, "classic", path, card={"source": "a test"})
    code, out, err = cli(capsys, "evaluate", str(path), "--episodes", "200", "--json")
    assert code == 0, err
    with torch.no_grad():
        def direct(obs: np.ndarray) -> np.ndarray:
            return net(torch.as_tensor(obs, dtype=torch.float32)).argmax(1).numpy()

        rule = Evaluation.prepare(CLASSIC, 200, EVAL_SEED).run(direct)
    result = json.loads(out)
    assert {k: result[k] for k in rule} == rule and result["card"] == {"source": "a test"}
    assert "assumed" not in err  # its metadata says everything
    # The metadata is checked: the same graph claiming another physics version is refused.
    model = onnx.load(path)
    for p in model.metadata_props:
        if p.key == "physics_version":
            p.value = "99"
    onnx.save(model, path)
    assert "physics version '99', not" in one_line_error(capsys, "evaluate", str(path))
    assert "takes observations of 2 values; this level gives 8" in one_line_error(
        capsys, "evaluate", str(path), "--level", "arcade")


def test_without_onnxruntime_a_plain_mlp_flies_on_numpy_and_says_so(tmp_path, capsys,
                                                                  monkeypatch) -> None:
    pilot, level = load_pilot("pretrained", "classic")
    path = tmp_path / "p.onnx"
    path.write_bytes(pilot_to_onnx(pilot, level))
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime fails
    code, out, err = cli(capsys, "evaluate", str(path), "--episodes", "300", "--json")
    assert code == 0, err
    assert "runs on numpy (onnxruntime is not installed" in err
    direct = Evaluation.prepare(CLASSIC, 300, EVAL_SEED).run(pilot.act_batch)
    assert {k: json.loads(out)[k] for k in direct} == direct
    # A graph with an op the numpy forward lacks says what would run it.
    sig = graph_bytes([helper.make_node("Sigmoid", ["obs"], ["q"])], [float_input(2)],
                      [helper.make_tensor_value_info("q", TensorProto.FLOAT, ["batch", 2])])
    (tmp_path / "sig.onnx").write_bytes(sig)
    line = one_line_error(capsys, "evaluate", str(tmp_path / "sig.onnx"))
    assert "Sigmoid" in line and "onnxruntime runs any graph" in line


def test_the_pretrained_pilot_loads_by_name_from_any_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    pilot, level = load_pilot("pretrained", "arcade")
    assert level is ARCADE and pilot.meta["level"] == "arcade"
    assert load_pilot("pretrained")[1] is ARCADE  # the game's default level
    with pytest.raises(PilotError, match="unknown level"):
        load_pilot("pretrained", "moon")


# ---- hostile files ------------------------------------------------------------------------

def _hostile() -> dict[str, tuple[bytes, str]]:
    good = linear_policy(np.zeros((8, 2)), np.zeros(2))
    q8 = helper.make_tensor_value_info("q", TensorProto.FLOAT, ["batch", 2])
    huge = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[1 << 20, 1 << 20])
    external = onnx.load_model_from_string(good)
    w = external.graph.initializer[0]
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    w.external_data.add(key="location", value="/etc/passwd")
    loop_body = helper.make_graph([], "body", [], [])
    shape = numpy_helper.from_array(np.array([1 << 16, 1 << 12, 8], np.int64), "shape")
    return {
        "truncated": (good[: len(good) // 2], "not an ONNX model"),
        "garbage": (bytes(range(256)) * 8, "ONNX model"),
        "empty": (b"", "no graph"),
        "wrong input size": (linear_policy(np.zeros((5, 2)), np.zeros(2)),
                             "no level gives that"),
        "three actions": (linear_policy(np.zeros((8, 3)), np.zeros(3)),
                          "one value per action (2)"),
        "huge tensor": (graph_bytes([helper.make_node("MatMul", ["obs", "W"], ["q"])],
                                    [float_input(8)], [q8], [huge]), "weight values"),
        "huge constant": (graph_bytes(
            [helper.make_node("Constant", [], ["W"], value=huge),
             helper.make_node("MatMul", ["obs", "W"], ["q"])], [float_input(8)], [q8]),
            "weight values"),
        "huge intermediate": (graph_bytes(
            [helper.make_node("Expand", ["obs", "shape"], ["big"]),
             helper.make_node("ReduceSum", ["big"], ["q"], keepdims=1)],
            [float_input(8)], [helper.make_tensor_value_info("q", TensorProto.FLOAT, list("abc"))],
            [shape]), "would hold"),
        "unknown op": (graph_bytes([helper.make_node("FlyHigher", ["obs"], ["q"])],
                                   [float_input(8)], [q8]), "not a valid ONNX model"),
        "foreign domain": (graph_bytes([helper.make_node("Gemm", ["obs"], ["q"],
                                                         domain="com.evil")],
                                       [float_input(8)], [q8]), "domain 'com.evil'"),
        "external data": (external.SerializeToString(), "external file"),
        "control flow": (graph_bytes([helper.make_node("Loop", ["", ""], ["q"],
                                                       body=loop_body)],
                                     [float_input(8)], [q8]), "control flow"),
        "nan out": (linear_policy(np.zeros((8, 2)), np.array([np.nan, 0.0])), "not all finite"),
        "two inputs": (graph_bytes([helper.make_node("Add", ["obs", "b"], ["q"])],
                                   [float_input(8), float_input(8, "b")], [q8]), "2 inputs"),
        "int input": (graph_bytes([helper.make_node("Identity", ["obs"], ["q"])],
                                  [helper.make_tensor_value_info("obs", TensorProto.INT64,
                                                                 ["batch", 8])], [q8]),
                      "not a float32 tensor"),
    }


@pytest.mark.parametrize("case", ["truncated", "garbage", "empty", "wrong input size",
                                  "three actions", "huge tensor", "huge constant",
                                  "huge intermediate",
                                  "unknown op", "foreign domain", "external data",
                                  "control flow", "nan out", "two inputs", "int input"])
def test_a_hostile_onnx_file_gets_one_line(tmp_path, capsys, case: str) -> None:
    data, words = _hostile()[case]
    path = tmp_path / "bad.onnx"
    path.write_bytes(data)
    line = one_line_error(capsys, "evaluate", str(path), "--episodes", "5")
    assert words in line, line
    assert str(path) in line


def test_an_oversized_onnx_file_is_refused_before_it_is_read(tmp_path, capsys) -> None:
    path = tmp_path / "big.onnx"
    with open(path, "wb") as f:
        f.truncate(MAX_ONNX_BYTES + 1)  # sparse: nothing is written
    assert "ONNX policies are at most" in one_line_error(capsys, "evaluate", str(path))
    assert "no pilot file at" in one_line_error(capsys, "evaluate", str(tmp_path / "no.onnx"))


def test_onnx_writing_without_the_onnx_package_is_one_line(tmp_path, capsys,
                                                          monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    line = one_line_error(capsys, "train", "--steps", "50", "--out", str(tmp_path / "p.onnx"),
                          "--no-progress")
    assert "pip install 'gravity-flyer[onnx]'" in line and not (tmp_path / "p.onnx").exists()
    (tmp_path / "q.onnx").write_bytes(b"\x08\x08")  # reading one needs onnx as well
    line = one_line_error(capsys, "evaluate", str(tmp_path / "q.onnx"))
    assert "needs the onnx package (pip install 'gravity-flyer[onnx]')" in line


def test_a_bad_tensorboard_folder_is_one_line(tmp_path, capsys) -> None:
    (tmp_path / "file").write_text("")
    line = one_line_error(capsys, "train", "--steps", "50", "--out",
                          str(tmp_path / "p.safetensors"), "--no-progress", "--tensorboard",
                          str(tmp_path / "file"))
    assert "is not a folder" in line and not (tmp_path / "p.safetensors").exists()


def test_mlp_to_onnx_refuses_nothing_it_wrote(tmp_path) -> None:
    """Every graph ``mlp_to_onnx`` writes (odd sizes too) reads back as the same MLP."""
    rng = np.random.default_rng(1)
    for sizes in [(3, 2), (8, 5, 2), (2, 7, 9, 4, 2)]:
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [rng.normal(size=(b, a)).astype(np.float32),
                       rng.normal(size=b).astype(np.float32)]
        policy = OnnxPolicy.from_bytes(mlp_to_onnx(layers, {"k": "v"}), engine="numpy")
        assert policy.sizes == sizes and policy.metadata == {"k": "v"}


# ---- flying an ONNX policy: record and the window ------------------------------------------

def matmul_graph(layers: list[np.ndarray]) -> bytes:
    """Our pilot's MLP written as MatMul, Add and Relu (as many exporters write a Linear): not
    the Gemm chain ``as_autopilot`` reads back, so the game flies it as a foreign graph."""
    nodes, inits, x = [], [], "obs"
    n = len(layers) // 2
    for i in range(n):
        inits += [numpy_helper.from_array(np.ascontiguousarray(layers[2 * i].T), f"W{i}"),
                  numpy_helper.from_array(layers[2 * i + 1], f"b{i}")]
        z = f"z{i}" if i < n - 1 else "q"
        nodes += [helper.make_node("MatMul", [x, f"W{i}"], [f"m{i}"]),
                  helper.make_node("Add", [f"m{i}", f"b{i}"], [z])]
        if i < n - 1:
            nodes.append(helper.make_node("Relu", [z], [f"a{i}"]))
            x = f"a{i}"
    return graph_bytes(nodes, [float_input(layers[0].shape[1])],
                       [helper.make_tensor_value_info("q", TensorProto.FLOAT, ["batch", 2])],
                       inits)


def test_record_flies_an_onnx_policy_as_the_pilot_it_was_made_from(tmp_path, capsys) -> None:
    from PIL import Image

    pilot, _ = load_pilot("pretrained", "arcade")
    path = tmp_path / "shipped.onnx"
    path.write_bytes(matmul_graph(pilot.layers))
    assert as_autopilot(load_onnx(path)[0], ARCADE) is None  # a foreign graph, not our MLP
    films = []
    for name, spec in (("onnx", str(path)), ("ours", "pretrained")):
        out = tmp_path / f"{name}.gif"
        code, stdout, err = cli(capsys, "record", "--level", "arcade", "--autopilot", spec,
                                "--out", str(out), "--seconds", "3", "--size", "80")
        assert code == 0, err
        with Image.open(out) as im:
            films.append([np.asarray(im.convert("RGB")) for _ in _frames(im)])
        if name == "onnx":
            assert "shipped.onnx runs on onnxruntime" in err and "assumed level arcade" in err
    assert len(films[0]) == len(films[1]) > 10
    for a, b in zip(*films, strict=True):  # the same flight, frame for frame
        np.testing.assert_array_equal(a, b)


def _frames(im):
    for k in range(im.n_frames):
        im.seek(k)
        yield k


@pytest.mark.window
def test_the_window_flies_a_foreign_onnx_graph_as_it_is(display, tmp_path) -> None:  # noqa: F811
    """A graph that is not our network flies frozen: it does not learn, nothing is saved,
    and the skill meter reads its score/oracle (the shipped pilot's graph: 1.0)."""
    pilot, _ = load_pilot("pretrained", "arcade")
    path = tmp_path / "shipped.onnx"
    path.write_bytes(matmul_graph(pilot.layers))
    window = Game(display, tmp_path, "--level", "arcade", "--seed", "3", "--pilot", "autopilot",
                "--autopilot", str(path))
    try:
        s = window.until("the graph to fly three gates and the skill to be read",
                       lambda s: s["score"] >= 3 and s["skill"] is not None, timeout=180)
        assert s["pilot"] == "autopilot" and s["learning"] is False and s["skill"] == 1.0
        assert s["persistence"] is None and s["env_steps"] == 0
        window.focus()
        window.key("l")  # learning cannot be turned on for a frozen graph
        later = window.until("frames after L", lambda t: t["frames"] > s["frames"] + 20)
        assert later["learning"] is False and later["env_steps"] == 0
        window.key("Escape")
        code, err = window.wait_exit()
    finally:
        window.close()
    assert code == 0, err
    assert "shipped.onnx flies as it is: it does not learn" in err
    assert "runs on onnxruntime" in err and "Traceback" not in err
    assert not (tmp_path / "data" / "learner" / "arcade").exists()  # nothing was saved


@pytest.mark.window
def test_an_onnx_policy_flies_in_the_window_even_over_a_saved_learner(display,  # noqa: F811
                                                                      tmp_path) -> None:
    """Our own network as ONNX, with a saved (fresh, unskilled) learner in the data folder:
    the ONNX policy flies, not the saved learner, and the save is left exactly as it was."""
    from test_export import tree

    from game.wiring.learning import learner_store, new_learner

    assert learner_store(ARCADE, tmp_path / "data").save(new_learner(ARCADE).state()).ok
    (tmp_path / "data" / "learner" / "arcade.lock").unlink()  # left by the save here
    saved = tree(tmp_path / "data" / "learner")
    pilot, level = load_pilot("pretrained", "arcade")
    path = tmp_path / "ours.onnx"
    path.write_bytes(pilot_to_onnx(pilot, level))
    window = Game(display, tmp_path, "--level", "arcade", "--seed", "3", "--pilot", "autopilot",
                  "--autopilot", str(path))
    try:
        s = window.until("the policy to fly and the skill to be read",
                         lambda s: s["score"] >= 3 and s["skill"] is not None, timeout=180)
        assert s["skill"] == 1.0 and s["learning"] is False  # the shipped pilot's, frozen
        window.focus()
        window.key("Escape")
        code, err = window.wait_exit()
    finally:
        window.close()
    assert code == 0, err
    assert "ours.onnx flies as it is" in err and "resumed" not in err
    assert tree(tmp_path / "data" / "learner") == saved


def test_sb3s_cast_and_flatten_run_on_numpy_and_read_as_our_mlp() -> None:
    """Stable-Baselines3's exported policies start with Cast(to float) and Flatten."""
    rng = np.random.default_rng(4)
    w0, b0 = rng.normal(size=(16, 8)), rng.normal(size=16)
    w1, b1 = rng.normal(size=(2, 16)), rng.normal(size=2)
    inits = [numpy_helper.from_array(a.astype(np.float32), n)
             for a, n in ((w0, "w0"), (b0, "b0"), (w1, "w1"), (b1, "b1"))]
    data = graph_bytes(
        [helper.make_node("Cast", ["obs"], ["c"], to=TensorProto.FLOAT),
         helper.make_node("Flatten", ["c"], ["f"], axis=1),
         helper.make_node("Gemm", ["f", "w0", "b0"], ["h"], transB=1),
         helper.make_node("Relu", ["h"], ["a"]),
         helper.make_node("Gemm", ["a", "w1", "b1"], ["q"], transB=1)],
        [float_input(8)], [helper.make_tensor_value_info("q", TensorProto.FLOAT, ["batch", 2])],
        inits)
    obs = rng.normal(size=(500, 8)).astype(np.float32)
    on_numpy = OnnxPolicy.from_bytes(data, engine="numpy")
    on_ort = OnnxPolicy.from_bytes(data, engine="onnxruntime")
    np.testing.assert_allclose(on_numpy.q_values(obs), on_ort.q_values(obs), rtol=0, atol=TIE)
    assert on_numpy.sizes == (8, 16, 2)  # read as the MLP it is
    mlp = as_autopilot(on_numpy, ARCADE)
    np.testing.assert_array_equal(mlp.q_values(obs), on_numpy.q_values(obs))
