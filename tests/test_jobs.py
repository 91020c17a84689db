"""The kinds of run (`lstm_app.jobs`): one job per kind, chosen once from the config; the kind
written into run.json and read back from there; the run's status through its life
(`lstm_app.runs.lifecycle`); and every kind of prepared data feeding its own training
(`lstm_app.data.feed`), so that the fit asks no data its kind."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from conftest import tiny_config_dict, write_yaml
from test_classification import vowel_config, vowels  # noqa: F401  (a fixture)
from test_panel import _panel_config

from lstm_app.config.kinds import RUN_KINDS, run_kind
from lstm_app.config.load import config_from_dict, config_to_dict, load_config
from lstm_app.errors import UserInputError
from lstm_app.evaluation.compare import Run
from lstm_app.jobs import JOBS, job_for, job_named
from lstm_app.jobs.compare import comparison_table
from lstm_app.jobs.series import Candidates
from lstm_app.runs.lifecycle import RunStatus
from lstm_app.runs.rundir import RunDir


def test_one_job_per_kind_in_the_config_s_order():
    assert tuple(JOBS) == RUN_KINDS
    assert all(job_named(kind).kind == kind for kind in RUN_KINDS)


def test_the_job_is_chosen_from_the_config_and_from_a_written_config(tmp_path, vowels):  # noqa: F811
    series = config_from_dict(tiny_config_dict())
    panel = load_config(_panel_config(tmp_path))
    stream = config_to_dict(panel)
    stream["data"]["stream"] = True
    classification = config_from_dict(vowel_config(vowels))
    for cfg, kind in ((series, "series"), (panel, "panel"), (classification, "classification")):
        assert job_for(cfg).kind == kind
        assert job_for(config_to_dict(cfg)).kind == kind  # config.yaml's plain values
    assert job_for(stream).kind == run_kind(stream) == "stream"


def test_import_of_the_jobs_loads_no_tensorflow():
    """lstm-train asks the job to read and check the inputs before TensorFlow loads."""
    code = "import sys, lstm_app.jobs; print(any(m.startswith('tensorflow') for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_training_fit_asks_no_data_its_kind():
    """fit.py imports no data module: every kind of prepared data feeds itself."""
    from test_architecture import PACKAGE, read_package

    fit = read_package(PACKAGE)["lstm_app.training.fit"]
    assert not [imp.target for imp in fit.imports if imp.target.startswith("lstm_app.data")]


# ---- the kind in run.json, read back from there


def _finished(tmp_path, name: str, config: dict, status: dict) -> RunDir:
    run = RunDir(tmp_path / name)
    run.path.mkdir()
    run.write_config(config)
    run.write_status({"status": "done", **status})
    run.write_metrics({"test": {}})
    return run


def test_the_kind_is_read_from_run_json_else_from_the_config(tmp_path):
    plain = tiny_config_dict()
    recorded = _finished(tmp_path, "recorded", plain, {"kind": "panel"})
    assert recorded.read_kind() == "panel"  # what run.json says, not what the config would
    older = _finished(tmp_path, "older", plain, {})  # a run from before kinds were recorded
    assert older.read_kind() == "series"
    wrong = _finished(tmp_path, "wrong", plain, {"kind": "panels"})
    with pytest.raises(UserInputError, match=r"run.json: kind 'panels'; expected one of series"):
        wrong.read_kind()


def test_lstm_train_writes_the_kind_and_its_job_s_summary(tmp_path):
    from lstm_app.cli import lstm_train

    config = write_yaml(tmp_path / "tiny.yaml", tiny_config_dict(training={"epochs": 1}))
    run_dir = tmp_path / "run"
    assert lstm_train.main(["--config", str(config), "--run-dir", str(run_dir), "--quiet"]) == 0
    status = json.loads((run_dir / "run.json").read_text())
    assert status["status"] == "done" and status["kind"] == "series"
    assert list(status)[:3] == ["status", "name", "kind"]


def test_comparison_tables_group_runs_by_their_recorded_kind(tmp_path, monkeypatch):
    def panels(runs):
        return "panels: " + ", ".join(run.name for run in runs)

    def classifiers(runs):
        return "classifiers: " + ", ".join(run.name for run in runs)

    for kind in ("panel", "stream"):  # one table for both, as the shipped jobs have
        monkeypatch.setattr(JOBS[kind], "compare_table", panels)
    monkeypatch.setattr(JOBS["classification"], "compare_table", classifiers)
    metrics = {"panel": {}}  # what a panel's metrics hold: the recorded kind decides, not this
    runs = [
        Run(tmp_path / name, {}, metrics, None, kind)
        for name, kind in (("c", "classification"), ("s", "stream"), ("p", "panel"))
    ]
    assert comparison_table(runs) == "panels: p, s\n\nclassifiers: c"


# ---- the lifecycle of a run's status


def test_run_status_through_a_run(tmp_path):
    run = RunDir(tmp_path)
    status = RunStatus(run, {"name": "x", "status": "ignored"})
    with status:
        assert run.read_status() == {"status": "running", "name": "x"}
    done = status.done(epochs=3)
    assert run.read_status() == done
    assert list(done) == ["status", "name", "finished", "wall_seconds", "epochs"]
    assert done["status"] == "done" and done["wall_seconds"] >= 0


class TrialPruned(Exception):  # named as Optuna's: a trial its pruner stopped
    pass


@pytest.mark.parametrize(
    "error, expected",
    [
        (RuntimeError("boom"), "failed"),
        (KeyboardInterrupt(), "interrupted"),
        (TrialPruned("p"), "pruned"),
    ],
)
def test_a_stopped_run_says_why_and_the_error_goes_on(tmp_path, error, expected):
    run, stopped = RunDir(tmp_path), []

    def on_stop(status):
        stopped.append(status)
        raise UserInputError("the store is gone")  # must not hide the error that stopped it

    with pytest.raises(type(error)), RunStatus(run, {"name": "x"}, on_stop=on_stop):
        raise error
    written = run.read_status()
    assert written["status"] == expected and stopped == [expected]
    assert written["error"] == (str(error) or type(error).__name__) and "finished" in written


# ---- data that feeds itself


def _epoch_batches(dataset) -> int:
    return sum(1 for _ in dataset)


@pytest.mark.parametrize("sets", [{}, {"stride": 3}, {"windows_per_series": 5}])
def test_windows_feed_the_batches_they_count(sets):
    cfg = config_from_dict(tiny_config_dict(training={"batch_size": 16, **sets}))
    data = job_for(cfg).load(cfg)
    training = cfg.training
    assert not data.streamed and not data.masked and data.input_width() == 8
    one = _epoch_batches(data.train_dataset(training, cfg.seed, 0))
    assert one == data.train_batches(training)
    two = _epoch_batches(data.train_dataset(training, cfg.seed, range(0, 2)))
    assert two == 2 * one
    val = data.val_dataset(training.batch_size)
    assert sum(len(y) for _, y in val) == data.val_count() > 0
    inputs, targets = data.held_validation(2**20)
    assert inputs.shape[0] == targets.shape[0] == data.val_count()
    assert data.held_validation(16) is None  # too big to hold


def test_sequences_feed_the_batches_they_count(vowels):  # noqa: F811
    cfg = config_from_dict(vowel_config(vowels, training={"class_weights": "balanced"}))
    data = job_for(cfg).prepare(cfg)
    training = cfg.training
    assert data.masked and not data.streamed and data.input_width() is None
    batches = list(data.train_dataset(training, cfg.seed, 0))
    assert len(batches) == data.train_batches(training) == math.ceil(len(data.labels["train"]) / 8)
    assert len(batches[0]) == 3  # (inputs, classes, weight): balanced class weights
    assert sum(len(y) for _, y in data.val_dataset(8)) == data.val_count()
    inputs, labels = data.held_validation(2**30)
    assert inputs.shape[0] == data.val_count()
    np.testing.assert_array_equal(labels.numpy(), data.labels["val"])


def test_the_series_job_checks_every_candidate_of_auto_transforms():
    raw = tiny_config_dict(data={"transforms": "auto"})
    cfg = config_from_dict(raw)
    prepared = job_for(cfg).prepare(cfg)
    assert isinstance(prepared, Candidates) and len(prepared.prepared) >= 2
    summary = job_for(cfg).check_summary("tiny.yaml", prepared)
    assert summary.count("\n") >= 1 and "tiny.yaml" in summary
