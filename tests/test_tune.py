"""`lstm-tune` (issue 17): an Optuna search chosen on the validation split, kept in an SQLite
study that a second command goes on with, trials in several processes, the best retrained."""

import json
import sys

import pandas as pd
import pytest
import yaml
from conftest import tiny_config_dict, write_yaml

from lstm_app.cli import lstm_tune
from lstm_app.config.load import load_config

SPACE = {
    "objective": "mae",
    "parameters": {
        "training.learning_rate": {"float": [0.001, 0.05], "log": True},
        "data.window.input_width": {"int": [4, 12]},
        "data.transforms": {"choice": [[], ["diff"]]},
    },
}


def _files(tmp_path, space=SPACE):
    config = write_yaml(tmp_path / "tiny.yaml", tiny_config_dict(training={"epochs": 2}))
    return config, write_yaml(tmp_path / "space.yaml", space)


def _tune(config, space, study, *extra):
    args = ["--config", str(config), "--space", str(space), "--study-dir", str(study)]
    return lstm_tune.main([*args, *extra])


def test_a_search_keeps_to_validation_and_retrains_the_best(tmp_path, capsys):
    config, space = _files(tmp_path)
    study = tmp_path / "study"
    assert _tune(config, space, study, "--trials", "3") == 0
    out = capsys.readouterr().out
    assert "Best of 3 trials" in out and "test MAE" in out
    for trial in sorted((study / "trials").iterdir()):
        metrics = json.loads((trial / "metrics.json").read_text())
        assert list(metrics) == ["val"]  # the test split is never forecast in a trial
    trials = pd.read_csv(study / "trials.csv")
    assert list(trials["state"]) == ["COMPLETE"] * 3
    summary = json.loads((study / "summary.json").read_text())
    best = trials.loc[trials["value"].idxmin()]
    assert summary["best_trial"] == best["number"] and summary["best_val"] == best["value"]
    cfg = load_config(study / "best.yaml")  # a config lstm-train takes
    assert cfg.training.learning_rate == pytest.approx(best["params_training.learning_rate"])
    assert "test" in json.loads((study / "best" / "metrics.json").read_text())
    assert (study / "optimization_history.png").read_bytes()[:4] == b"\x89PNG"


def test_the_same_command_goes_on_with_a_killed_search(tmp_path, capsys):
    import optuna

    config, space = _files(tmp_path)
    study = tmp_path / "study"
    assert _tune(config, space, study, "--trials", "2") == 0
    first = pd.read_csv(study / "trials.csv")
    storage = f"sqlite:///{study / 'study.db'}"
    cut = optuna.load_study(study_name="tiny", storage=storage).ask()  # left running, as if killed
    assert cut.number == 2
    assert _tune(config, space, study, "--trials", "4") == 0
    capsys.readouterr()
    trials = pd.read_csv(study / "trials.csv")
    states = dict(zip(trials["number"], trials["state"], strict=True))
    assert states[2] == "FAIL"  # the cut trial, marked failed ...
    assert sum(state == "COMPLETE" for state in states.values()) == 4  # ... and more run
    kept = trials[trials["number"] < 2]
    assert list(kept["value"]) == list(first["value"])  # finished trials are kept


def test_two_workers_share_one_study(tmp_path, capsys):
    config, space = _files(tmp_path)
    study = tmp_path / "study"
    assert _tune(config, space, study, "--trials", "4", "--workers", "2") == 0
    capsys.readouterr()
    trials = pd.read_csv(study / "trials.csv")
    complete = trials[trials["state"] == "COMPLETE"]
    assert len(complete) in (4, 5) and trials["number"].is_unique  # 5: both took the last
    for number in complete["number"]:
        assert (study / "trials" / f"{number:04d}" / "metrics.json").is_file()
    # the workers' samplers are seeded apart: they do not draw the same trials
    assert complete["params_training.learning_rate"].is_unique


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"training.epoch": {"int": [1, 3]}}, "did you mean 'epochs'"),
        ({"training.epochs": {"int": [3, 1]}}, "int: expected [low, high], low < high"),
        ({"training.epochs": {"range": [1, 3]}}, "expected one of {int: [low, high]}"),
        ({"data.transforms": {"choice": [["sqrt"]]}}, "data.transforms"),
        ({"training.learning_rate": {"float": [0, 1], "log": True}}, "log: needs a positive"),
    ],
)
def test_a_bad_space_is_one_line_before_any_trial(tmp_path, capsys, parameters, message):
    config, space = _files(tmp_path, {"parameters": parameters})
    assert _tune(config, space, tmp_path / "study", "--trials", "2") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("lstm-tune: error: ")
    assert message in err
    assert not (tmp_path / "study" / "trials").exists()


@pytest.mark.parametrize("name", ["article", "sunspots", "temperatures", "pollution"])
def test_the_shipped_spaces_are_valid(name):
    from conftest import REPO

    from lstm_app.tuning import read_space

    path = REPO / "configs" / "spaces" / f"{name}.yaml"
    space = read_space(path, REPO / "configs" / f"{name}.yaml")
    assert space.objective == "mae" and len(space.parameters) >= 2
    assert yaml.safe_load(path.read_text())


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    "storage, hidden, message",
    [
        ("not a url", None, "not a database URL"),
        (f"postgresql://me:secret@127.0.0.1:{_free_port()}/db", None, "cannot open it"),
        ("postgresql://me:secret@127.0.0.1:1/db", "psycopg", "pip install 'lstm-app[postgres]'"),
    ],
)
def test_a_storage_that_cannot_open_is_one_line(
    tmp_path, capsys, monkeypatch, storage, hidden, message
):
    if hidden:
        monkeypatch.setitem(sys.modules, hidden, None)  # as if its driver were not installed
    config, space = _files(tmp_path)
    assert _tune(config, space, tmp_path / "study", "--trials", "1", "--storage", storage) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("lstm-tune: error: --storage ")
    assert message in err
    assert "secret" not in err  # the password is hidden
    assert not (tmp_path / "study" / "trials").exists()


def test_a_study_started_with_another_space_is_one_line(tmp_path, capsys):
    config, space = _files(tmp_path)
    study = tmp_path / "study"
    assert _tune(config, space, study, "--trials", "1") == 0
    other = write_yaml(
        tmp_path / "other.yaml", {"parameters": {"data.window.input_width": {"choice": [4, 8]}}}
    )
    capsys.readouterr()
    assert _tune(config, other, study, "--trials", "2") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "holds a search started with another space" in err
